"""Lifecycle rules, compared as a set matched by rule id."""

from __future__ import annotations

import json

from auditor.model import Difference, Facet, LifecycleRule, Outcome, Severity
from auditor.rules._aws_json import lifecycle_rule
from auditor.rules._diff import field_differences
from auditor.rules.registry import BucketRef, rule


def _fix(bucket: BucketRef, want: tuple[LifecycleRule, ...], have: tuple[LifecycleRule, ...]) -> str:
    if not want:
        return f"aws s3api delete-bucket-lifecycle --bucket {bucket.name}"
    config = json.dumps({"Rules": [lifecycle_rule(r) for r in want]}, separators=(",", ":"))
    return (
        f"aws s3api put-bucket-lifecycle-configuration --bucket {bucket.name} "
        f"--lifecycle-configuration '{config}'"
    )


@rule(
    id="S3-LCY-001",
    control="lifecycle",
    title="Lifecycle rules are exactly the set the spec lists",
    severity=Severity.LOW,
    reads=(Facet.LIFECYCLE,),
    remediation="aws s3api put-bucket-lifecycle-configuration --bucket {bucket} --lifecycle-configuration '...'",
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html",),
    fix=_fix,
)
def lifecycle(
    want: tuple[LifecycleRule, ...], bucket: BucketRef, have: tuple[LifecycleRule, ...]
) -> Outcome:
    """A lifecycle rule is missing, extra, or differs in a field from the spec.

    Why it matters: lifecycle rules carry retention and cost decisions: a missing expiration
    keeps personal data in temp/ forever; a missing transition costs money.
    Notes: rules are matched by `id`; their order carries no meaning. Each difference names
    the rule and the field. `lifecycle: []` means no rules are allowed.
    Example: `lifecycle: [{id: cleanup-temp, prefix: temp/, expiration_days: 7}]`
    """
    wanted = {r.id: r for r in want}
    live = {r.id: r for r in have}
    diffs: list[Difference] = []
    for rid, expected in wanted.items():
        actual = live.get(rid)
        if actual is None:
            diffs.append(Difference(f"rule {rid}", expected, None, f"Lifecycle rule {rid} is missing"))
        else:
            diffs.extend(field_differences(f"rule {rid}", expected, actual))
    for rid, actual in live.items():
        if rid not in wanted:
            diffs.append(Difference(f"rule {rid}", None, actual,
                                    f"Lifecycle rule {rid} is not in the spec"))
    return Outcome(actual=have, differences=tuple(diffs))
