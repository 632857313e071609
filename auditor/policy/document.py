"""Bucket policy JSON (as GetBucketPolicy returns it) -> normalised `PolicyDocument`.

Pure: no boto3. Shapes IAM accepts in several spellings (a Statement object or list, a string
or list of actions, JSON literals in conditions) come out in one form, so the evaluator in
`auditor.policy.evaluate` never has to care how the policy was written.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
"""

from __future__ import annotations

import json
from typing import Any

from auditor.model import Condition, PolicyDocument, Principal, Statement

_KNOWN = frozenset({
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
    "NotResource", "Condition",
})
_PAIRS = (("Principal", "NotPrincipal"), ("Action", "NotAction"), ("Resource", "NotResource"))


def parse_policy(text: str) -> PolicyDocument:
    """Parse a bucket policy document; ValueError says what is malformed."""
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise ValueError(f"bucket policy is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError("bucket policy must be a JSON object")
    body = raw.get("Statement")
    if isinstance(body, dict):
        body = [body]  # IAM accepts a single statement object in place of a list
    if not isinstance(body, list):
        raise ValueError("bucket policy needs a Statement object or list")
    statements = tuple(_statement(item, n) for n, item in enumerate(body, start=1))
    return PolicyDocument(statements=statements, text=text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads would keep only the last of two equal keys and silently drop, say, a
    # second "Bool" condition block; refuse instead of guessing.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"bucket policy repeats the key {key!r} in one object")
        out[key] = value
    return out


def _statement(raw: object, n: int) -> Statement:
    where = f"statement #{n}"
    if not isinstance(raw, dict):
        raise ValueError(f"{where} is not a JSON object")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise ValueError(f"{where} has unknown element(s) {', '.join(unknown)}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise ValueError(f"{where}: Sid must be a string")
    where = f"statement {sid!r}" if sid else where
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):  # IAM is case-sensitive here
        raise ValueError(f"{where}: Effect must be \"Allow\" or \"Deny\", not {effect!r}")
    for positive, negative in _PAIRS:
        if (positive in raw) == (negative in raw):
            raise ValueError(f"{where} needs exactly one of {positive} and {negative}")
    return Statement(
        effect=effect,
        sid=sid,
        principal=_principal(raw.get("Principal"), where),
        not_principal=_principal(raw.get("NotPrincipal"), where),
        actions=_strings(raw.get("Action"), f"{where}: Action"),
        not_actions=_strings(raw.get("NotAction"), f"{where}: NotAction"),
        resources=_strings(raw.get("Resource"), f"{where}: Resource"),
        not_resources=_strings(raw.get("NotResource"), f"{where}: NotResource"),
        conditions=_conditions(raw.get("Condition"), where),
    )


def _strings(value: object, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ValueError(f"{where} must be a string or a list of strings")
    return tuple(items)


def _principal(value: object, where: str) -> Principal | None:
    if value is None:
        return None
    if value == "*":
        return Principal(wildcard=True)
    if not isinstance(value, dict) or not value:
        raise ValueError(f'{where}: Principal must be "*" or an object such as {{"AWS": ...}}')
    entries = {
        (kind, item)
        for kind, ids in value.items()
        for item in _strings(ids, f"{where}: Principal {kind}") or ()
    }
    return Principal(entries=tuple(sorted(entries)))


def _conditions(value: object, where: str) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ValueError(f"{where}: Condition must be an object")
    out: list[Condition] = []
    for operator, tests in value.items():
        if not isinstance(tests, dict) or not tests:
            raise ValueError(f"{where}: Condition {operator} must map keys to values")
        for key, raw in tests.items():
            values = raw if isinstance(raw, list) else [raw]
            out.append(Condition(operator, key.lower(), tuple(_scalar(v, where) for v in values)))
    return tuple(out)


def _scalar(value: object, where: str) -> str:
    # IAM compares condition values as strings: JSON true and "true" are the same test.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ValueError(f"{where}: condition values must be strings, numbers or booleans")
