"""`cors`: CORS rules, compared as an exact set (and their lists as sets)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from auditor.cfn.values import Invalid, Origin, as_int, as_list, as_map, as_str
from auditor.controls._diff import equal_fields, field_differences
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.jsonable import to_jsonable
from auditor.model import CorsRule, Difference, Facet, Outcome, Severity
from auditor.shapes import cors_rule_to_api

_MAX_RULES = 100

SCHEMA = {
    "description": "The exact set of CORS rules, compared as a set; [] means no CORS configuration is "
    "allowed.",
    "type": "array",
    "items": {"$ref": "#/$defs/cors_rule"},
}
DEFS = {
    "cors_rule": {
        "description": "One CORS rule; its lists compare as sets.",
        "type": "object",
        "additionalProperties": False,
        "required": ["allowed_origins", "allowed_methods"],
        "errorMessage": {"type": "a CORS rule must be a mapping"},
        "properties": {
            "id": {
                "description": "Optional rule id.",
                "type": "string",
                "minLength": 1,
                "maxLength": 255,
            },
            "allowed_origins": {
                "description": "Origins allowed to make "
                "cross-origin requests (one `*` "
                "wildcard each at most).",
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/non_empty_string"},
            },
            "allowed_methods": {
                "description": "HTTP methods allowed.",
                "type": "array",
                "minItems": 1,
                "items": {"enum": ["GET", "PUT", "POST", "DELETE", "HEAD"]},
            },
            "allowed_headers": {
                "description": "Request headers allowed in a "
                "preflight "
                "(Access-Control-Request-Headers).",
                "type": "array",
                "items": {"$ref": "#/$defs/non_empty_string"},
            },
            "expose_headers": {
                "description": "Response headers the browser may expose to the page.",
                "type": "array",
                "items": {"$ref": "#/$defs/non_empty_string"},
            },
            "max_age_seconds": {
                "description": "How long the browser may cache a preflight response.",
                "type": "integer",
                "minimum": 0,
            },
        },
    }
}


def build_rule(raw: Mapping[str, Any]) -> CorsRule:
    """One schema-valid CORS rule mapping as a normalised `CorsRule` (lists sorted)."""
    return CorsRule(
        allowed_origins=tuple(sorted(raw["allowed_origins"])),
        allowed_methods=tuple(sorted(m.upper() for m in raw["allowed_methods"])),
        allowed_headers=tuple(sorted(raw.get("allowed_headers", ()))),
        expose_headers=tuple(sorted(raw.get("expose_headers", ()))),
        max_age_seconds=raw.get("max_age_seconds"),
        id=raw.get("id"),
    )


def _build(raw: Sequence[Mapping[str, Any]]) -> tuple[CorsRule, ...]:
    # Spec order is kept, so a difference's path `cors[i]` is the i-th rule as written.
    return tuple(build_rule(r) for r in raw)


def _label(r: CorsRule) -> str:
    return f"rule {r.id}" if r.id else f"rule for {', '.join(r.allowed_origins)}"


def _pair(missing: list[tuple[int, CorsRule]],
          extra: list[tuple[int, CorsRule]]) -> list[tuple[int, CorsRule, CorsRule]]:
    """Greedily pair each unmatched spec rule with the live rule it most resembles."""
    pairs = []
    for item in list(missing):
        index, expected = item
        candidates = [a for a in extra if equal_fields(expected, a[1]) > 0]
        if not candidates:
            continue
        best = max(candidates, key=lambda a: equal_fields(expected, a[1]))
        pairs.append((index, expected, best[1]))
        missing.remove(item)
        extra.remove(best)
    return pairs


def cors(want: tuple[CorsRule, ...], ref: Ref, have: tuple[CorsRule, ...]) -> Outcome:
    """A CORS rule is missing, extra, or differs in a field (origins, methods ...) from the spec.

    Why it matters: a wildcard origin or an extra method lets any web page call the bucket
    from a visitor's browser.
    Notes: rules, and their origins, methods and headers, compare as sets; a rule that
    differs from a spec rule in a few fields is reported field by field. `cors: []` means
    no CORS configuration is allowed.
    Example: `cors: [{allowed_origins: ["https://amply-impact.org"], allowed_methods: [GET]}]`
    """
    missing = [(i, r) for i, r in enumerate(want) if r not in have]
    extra = [(j, r) for j, r in enumerate(have) if r not in want]
    diffs: list[Difference] = []
    for index, expected, actual in _pair(missing, extra):
        diffs.extend(field_differences(f"cors[{index}]", _label(expected), expected, actual))
    diffs.extend(Difference(f"cors[{i}]", r, None, f"CORS {_label(r)} is missing") for i, r in missing)
    diffs.extend(Difference(f"cors[live:{j}]", None, r, f"CORS {_label(r)} is not in the spec")
                 for j, r in extra)
    return Outcome(actual=have, differences=tuple(diffs))


def _put(ref: Ref, want: tuple[CorsRule, ...]) -> tuple[Request, ...]:
    if not want:
        return (Request("s3", "DeleteBucketCors", {"Bucket": ref.name}),)
    return (Request("s3", "PutBucketCors", {
        "Bucket": ref.name, "CORSConfiguration": {"CORSRules": [cors_rule_to_api(r) for r in want]}}),)


def _derive(ref: Ref, have: tuple[CorsRule, ...]) -> Derived:
    return to_jsonable(have), None


def _lint(at: Locator, rules: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    if len(rules) > _MAX_RULES:
        yield at.problem(("cors",), f"{len(rules)} CORS rules; S3 allows at most {_MAX_RULES}")
    seen: dict[object, int] = {}
    for index, rule in enumerate(rules):
        path = ("cors", index)
        yield from _lint_lists(at, path, rule)
        same = seen.setdefault(build_rule(rule), index)
        if same != index:
            yield at.problem(path, f"CORS rule {index} repeats rule {same} "
                                   f"(at line {at.position(('cors', same))[0]})")


def _lint_lists(at: Locator, path: tuple[str, int], rule: Mapping[str, Any]) -> Iterator[SpecProblem]:
    for key in ("allowed_origins", "allowed_methods", "allowed_headers", "expose_headers"):
        first: dict[str, int] = {}
        for index, value in enumerate(rule.get(key, [])):
            if value in first:
                yield at.problem((*path, key, index),
                                 f"{value!r} is listed twice in {key} (items {first[value]} "
                                 f"and {index})")
            first.setdefault(value, index)
            if key in ("allowed_origins", "allowed_headers") and value.count("*") > 1:
                yield at.problem((*path, key, index),
                                 f"{value!r} has more than one '*'; S3 allows one wildcard")


_CORS_KEYS = {
    "Id": "id", "ID": "id", "AllowedOrigins": "allowed_origins",
    "AllowedMethods": "allowed_methods", "AllowedHeaders": "allowed_headers",
    "ExposedHeaders": "expose_headers", "ExposeHeaders": "expose_headers",
    "MaxAge": "max_age_seconds", "MaxAgeSeconds": "max_age_seconds",
}
_CORS_ORDER = ("allowed_origins", "allowed_methods", "allowed_headers", "expose_headers",
               "max_age_seconds", "id")


def _from_template(raw: Any, path: str) -> dict[str, Any]:
    rule = as_map(raw, path)
    out: dict[str, Any] = {}
    for key, value in rule.items():
        spec_key = _CORS_KEYS.get(key)
        where = f"{path}.{key}"
        if spec_key is None:
            raise Invalid(where, "not a CORS rule property s3audit knows")
        if spec_key == "max_age_seconds":
            out[spec_key] = as_int(value, where)
        elif spec_key == "id":
            out[spec_key] = as_str(value, where)
        else:
            items = [as_str(v, f"{where}[{i}]") for i, v in enumerate(as_list(value, where))]
            out[spec_key] = [v.upper() for v in items] if spec_key == "allowed_methods" else items
    return {k: out[k] for k in _CORS_ORDER if k in out and out[k] != []}


def _rules(raw: Any, path: str, origin: Origin) -> list[dict[str, Any]]:
    conf = as_map(raw, path)
    key = "CorsRules" if "CorsRules" in conf else "CORSRules"  # CloudFormation / S3 API
    items = as_list(conf.get(key), f"{path}.{key}")
    return [_from_template(r, f"{path}.{key}[{i}]") for i, r in enumerate(items)]


CONTROL = Control(
    key="cors",
    id="S3-COR-001",
    title="CORS rules are exactly the set the spec lists",
    severity=Severity.MEDIUM,
    check=cors,
    reads=(Facet.CORS,),
    schema=SCHEMA,
    defs=DEFS,
    build=_build,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport.prop("CorsConfiguration", _rules),
    put_requests=_put,
    example=[{"allowed_origins": ["https://amply-impact.org"], "allowed_methods": ["GET", "HEAD"]}],
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html",),
    why_not={"kms_refs": "names no KMS key"},
)
