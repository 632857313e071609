"""Bucket policy JSON (as GetBucketPolicy returns it) -> normalised `PolicyDocument`.

Pure: no boto3. Shapes IAM accepts in several spellings (a Statement object or list, a string
or list of actions, JSON literals in conditions) come out in one form, so the evaluator never
has to care how the policy was written.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html

A readable document is always returned: ValueError only for text that is not JSON, not an
object, or whose Statement holds something other than JSON objects. A statement S3 would refuse
(no Action, a bare-string principal, "Effect": "deny" ...) is kept with its `problems` listed,
read as widely as its elements allow, so that the evaluator can judge it fail-closed: it never
takes access away, and it grants whatever it could be read to grant.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.model import Condition, PolicyDocument, Principal, Statement
from auditor.policy.conditions import operator_problem

_KNOWN = frozenset({
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
    "NotResource", "Condition",
})
_TOP_LEVEL = frozenset({"Version", "Id", "Statement"})
_VERSIONS = frozenset({"2012-10-17", "2008-10-17"})
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
_PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
_WILDCARDS = ("*", "?")

Problems = list[str]


class _Obj(dict[str, Any]):
    """A JSON object that remembers every value of a key given more than once.

    IAM forbids repeated keys ("Individual elements must not contain multiple instances of the
    same key", reference_policies_grammar.html) and json.loads would silently keep the last;
    the evaluator instead sees all of them and reads the statement as the widest they allow.
    """

    repeated: dict[str, list[Any]]


def _hook(pairs: list[tuple[str, Any]]) -> _Obj:
    obj = _Obj()
    obj.repeated = {}
    for key, value in pairs:
        if key in obj:
            obj.repeated.setdefault(key, [obj[key]]).append(value)
        obj[key] = value
    return obj


def _all(obj: dict[str, Any], key: str) -> list[Any]:
    """Every value given for `key` (several when repeated), [] when absent."""
    repeated = getattr(obj, "repeated", {})
    if key in repeated:
        return list(repeated[key])
    return [obj[key]] if key in obj else []


def _repeats(obj: dict[str, Any]) -> list[str]:
    return sorted(getattr(obj, "repeated", {}))


# --------------------------------------------------------------------------- document


def parse_policy(text: str) -> PolicyDocument:
    """Parse a bucket policy document; ValueError only when it cannot be read at all."""
    try:
        raw = json.loads(text, object_pairs_hook=_hook)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"bucket policy is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError("bucket policy must be a JSON object")
    problems: Problems = []
    items = _statement_items(raw, problems)
    inherited = tuple(p for p in problems if "repeats the Statement" in p)
    statements = tuple(_statement(item, n, inherited) for n, item in enumerate(items, start=1))
    problems += _document_problems(raw)
    return PolicyDocument(statements=statements, text=text, problems=tuple(problems))


def _statement_items(raw: dict[str, Any], problems: Problems) -> list[Any]:
    bodies = _all(raw, "Statement")
    if not bodies:
        problems.append("the policy has no Statement element")
    if len(bodies) > 1:
        # Which one S3 would take is unknown, so none of them may take access away.
        problems.append("the policy repeats the Statement element")
    items: list[Any] = []
    for body in bodies:
        if body is None:
            problems.append("the policy's Statement is null")
        elif isinstance(body, dict):
            items.append(body)  # IAM accepts a single statement object in place of a list
        elif isinstance(body, list):
            items.extend(body)
            if not body:
                problems.append("the policy's Statement is an empty list")
        else:
            raise ValueError("bucket policy Statement must be an object or a list of objects")
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            msg = f"statement #{n} of the bucket policy is not a JSON object"
            raise ValueError(msg)
    return items


def _document_problems(raw: dict[str, Any]) -> Problems:
    problems = [f"the policy repeats the element {k}" for k in _repeats(raw) if k != "Statement"]
    unknown = sorted(set(raw) - _TOP_LEVEL)
    if unknown:
        problems.append(f"the policy has unknown top-level element(s) {', '.join(unknown)}")
    version = raw.get("Version")
    if version is not None and version not in _VERSIONS:
        problems.append(f"the policy Version {version!r} is not 2012-10-17 or 2008-10-17")
    return problems


# --------------------------------------------------------------------------- statements


def _statement(raw: dict[str, Any], n: int, inherited: tuple[str, ...]) -> Statement:
    problems: Problems = list(inherited)
    problems += [f"repeats the element {key}" for key in _repeats(raw)]
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        problems.append(f"has unknown element(s) {', '.join(unknown)}")
    principal, not_principal = _principals(raw, problems)
    actions, not_actions = _pair(raw, "Action", "NotAction", problems)
    resources, not_resources = _pair(raw, "Resource", "NotResource", problems)
    return Statement(
        effect=_effect(raw, problems),
        sid=_sid(raw, problems),
        principal=principal,
        not_principal=not_principal,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        conditions=_conditions(raw, problems),
        problems=tuple(dict.fromkeys(problems)),
        index=n,
    )


def _sid(raw: dict[str, Any], problems: Problems) -> str | None:
    values = _all(raw, "Sid")
    if not values:
        return None
    sid = values[-1]
    if isinstance(sid, str):
        return sid
    problems.append("has a Sid that is not a string")
    return None


def reads_as_deny(effect: object) -> bool:
    """True for an Effect that, however misspelt, can only mean Deny ("deny", " DENY")."""
    return isinstance(effect, str) and effect.strip().lower() == "deny"


def _effect(raw: dict[str, Any], problems: Problems) -> str:
    values = _all(raw, "Effect")
    if not values:
        problems.append("has no Effect")
        return ""
    for value in values:
        if value not in ("Allow", "Deny"):
            # "The Effect value is case sensitive."
            # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_effect.html
            problems.append(f'has Effect {json.dumps(value)} where only "Allow" or "Deny" is '
                            "valid, case included")
    if len(set(map(str, values))) > 1 and "repeats the element Effect" not in problems:
        problems.append("repeats the element Effect")
    # Fail closed: if any of the values could be an Allow, read the statement as one.
    allowish = [v for v in values if not reads_as_deny(v)]
    chosen = allowish[0] if allowish else values[0]
    return chosen if isinstance(chosen, str) else ""


def _principals(raw: dict[str, Any],
                problems: Problems) -> tuple[Principal | None, Principal | None]:
    positive, negative = _all(raw, "Principal"), _all(raw, "NotPrincipal")
    if not positive and not negative:
        problems.append("has no Principal (a bucket policy statement needs one)")
    if positive and negative:
        problems.append("has both Principal and NotPrincipal")
    return (_principal(positive, "Principal", problems) if positive else None,
            _principal(negative, "NotPrincipal", problems) if negative else None)


def _principal(values: list[Any], name: str, problems: Problems) -> Principal:
    """The union of every value given; what cannot be read is read as everyone ("*")."""
    wildcard = False
    entries: set[tuple[str, str]] = set()
    for value in values:
        if value == "*":
            wildcard = True
        elif isinstance(value, str):
            problems.append(f'has {name} {json.dumps(value)}, a bare string: S3 accepts only "*" '
                            'or an object such as {"AWS": ...}')
            entries.add(("AWS", value))  # what the author evidently meant
        elif isinstance(value, dict) and value:
            _principal_object(value, name, entries, problems)
        else:
            problems.append(f"has a {name} that names nobody it can be read as; read as \"*\"")
            wildcard = True
    for kind, item in entries:
        if item != "*" and any(w in item for w in _WILDCARDS):
            # "You cannot use a wildcard to match part of a principal name or ARN."
            # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
            problems.append(f"has {name} {kind} {item}, a wildcard inside a principal")
    return Principal(wildcard=wildcard, entries=tuple(sorted(entries)))


def _principal_object(value: dict[str, Any], name: str, entries: set[tuple[str, str]],
                      problems: Problems) -> None:
    problems += [f"repeats the {name} type {kind}" for kind in _repeats(value)]
    for kind in value:
        if kind not in _PRINCIPAL_TYPES:
            problems.append(f"has {name} type {kind!r}, which is not AWS, Service, Federated or "
                            "CanonicalUser")
        ids = _flatten(_all(value, kind), f"{name} {kind}", problems, widest="*")
        entries.update((kind, item) for item in ids)


def _pair(raw: dict[str, Any], positive: str, negative: str,
          problems: Problems) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    pos, neg = _all(raw, positive), _all(raw, negative)
    if not pos and not neg:
        problems.append(f"has no {positive} or {negative}")
    if pos and neg:
        problems.append(f"has both {positive} and {negative}")
    # An unreadable positive value is read as "*" and an unreadable negated one as naming
    # nothing, so that what cannot be read always widens a grant.
    return (_flatten(pos, positive, problems, widest="*") if pos else None,
            _flatten(neg, negative, problems, widest=None) if neg else None)


def _flatten(values: list[Any], name: str, problems: Problems, *, widest: str | None
             ) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        if not items:
            problems.append(f"has an empty {name}")
            out += [widest] if widest else []
        for item in items:
            if not isinstance(item, str):
                problems.append(f"has {name} {json.dumps(item)}, which is not a string")
            text = item if isinstance(item, str) else _number(item)
            if text is not None:
                out.append(text)
            elif widest:
                out.append(widest)
    return tuple(dict.fromkeys(out))


def _number(value: object) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # an account id written as a JSON number, say
    return None


def _as_string(value: object) -> str | None:
    # IAM compares condition values as strings: JSON true and "true" are the same test.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


# --------------------------------------------------------------------------- conditions


def _conditions(raw: dict[str, Any], problems: Problems) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for block in _all(raw, "Condition"):
        if not isinstance(block, dict):
            problems.append("has a Condition that is not an object")
            continue
        problems += [f"repeats the condition operator {op}" for op in _repeats(block)]
        for operator in block:
            for tests in _all(block, operator):
                out += _tests(operator, tests, problems)
    return tuple(out)


def _tests(operator: str, tests: object, problems: Problems) -> list[Condition]:
    wrong = operator_problem(operator)
    if wrong:
        problems.append(f"has condition operator {operator!r}: {wrong}")
    if not isinstance(tests, dict) or not tests:
        problems.append(f"has condition {operator} that does not map keys to values")
        return []
    problems += [f"repeats the condition key {key} under {operator}" for key in _repeats(tests)]
    out = []
    for key in tests:
        for value in _all(tests, key):
            values = _values(value, f"condition {operator} {key}", problems)
            out.append(Condition(operator, key.lower(), values, key if key != key.lower() else ""))
    return out


def _values(value: object, where: str, problems: Problems) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        problems.append(f"has {where} with no values")
    texts = [_as_string(item) for item in items]
    if any(t is None for t in texts):
        problems.append(f"has {where} with a value that is not a string, number or boolean")
    return tuple(t for t in texts if t is not None)
