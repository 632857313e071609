"""CORS rules, compared as a set."""

from __future__ import annotations

import json

from auditor.model import CorsRule, Difference, Facet, Outcome, Severity
from auditor.rules._aws_json import cors_rule
from auditor.rules._diff import equal_fields, field_differences
from auditor.rules.registry import BucketRef, rule


def _fix(bucket: BucketRef, want: tuple[CorsRule, ...], have: tuple[CorsRule, ...]) -> str:
    if not want:
        return f"aws s3api delete-bucket-cors --bucket {bucket.name}"
    config = json.dumps({"CORSRules": [cors_rule(r) for r in want]}, separators=(",", ":"))
    return f"aws s3api put-bucket-cors --bucket {bucket.name} --cors-configuration '{config}'"


def _label(r: CorsRule) -> str:
    return f"rule {r.id}" if r.id else f"rule for {', '.join(r.allowed_origins)}"


def _pair(missing: list[CorsRule], extra: list[CorsRule]) -> list[tuple[CorsRule, CorsRule]]:
    """Greedily pair each unmatched spec rule with the live rule it most resembles."""
    pairs = []
    for expected in list(missing):
        candidates = [a for a in extra if equal_fields(expected, a) > 0]
        if not candidates:
            continue
        best = max(candidates, key=lambda a: equal_fields(expected, a))
        pairs.append((expected, best))
        missing.remove(expected)
        extra.remove(best)
    return pairs


@rule(
    id="S3-COR-001",
    control="cors",
    title="CORS rules are exactly the set the spec lists",
    severity=Severity.MEDIUM,
    reads=(Facet.CORS,),
    remediation="aws s3api put-bucket-cors --bucket {bucket} --cors-configuration '...'",
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html",),
    fix=_fix,
)
def cors(want: tuple[CorsRule, ...], bucket: BucketRef, have: tuple[CorsRule, ...]) -> Outcome:
    """A CORS rule is missing, extra, or differs in a field (origins, methods ...) from the spec.

    Why it matters: a wildcard origin or an extra method lets any web page call the bucket
    from a visitor's browser.
    Notes: rules, and their origins, methods and headers, compare as sets; a rule that
    differs from a spec rule in a few fields is reported field by field. `cors: []` means
    no CORS configuration is allowed.
    Example: `cors: [{allowed_origins: ["https://amply-impact.org"], allowed_methods: [GET]}]`
    """
    missing = [r for r in want if r not in have]
    extra = [r for r in have if r not in want]
    diffs: list[Difference] = []
    for expected, actual in _pair(missing, extra):
        diffs.extend(field_differences(_label(expected), expected, actual))
    diffs.extend(Difference(_label(r), r, None, f"CORS {_label(r)} is missing") for r in missing)
    diffs.extend(Difference(_label(r), None, r, f"CORS {_label(r)} is not in the spec") for r in extra)
    return Outcome(actual=have, differences=tuple(diffs))
