"""Versioning."""

from __future__ import annotations

from auditor.model import Difference, Facet, Outcome, Severity, Versioning, VersioningStatus
from auditor.rules.registry import BucketRef, rule


def _fix(bucket: BucketRef, want: VersioningStatus, have: Versioning) -> str:
    if want == "Disabled":
        return (
            f"# versioning on {bucket.name} can never return to Disabled once enabled; "
            "recreate the bucket or accept Suspended"
        )
    return (
        f"aws s3api put-bucket-versioning --bucket {bucket.name} "
        f"--versioning-configuration Status={want}"
    )


@rule(
    id="S3-VER-001",
    control="versioning",
    title="Versioning is in the state the spec names",
    severity=Severity.MEDIUM,
    reads=(Facet.VERSIONING,),
    remediation=(
        "aws s3api put-bucket-versioning --bucket {bucket} "
        "--versioning-configuration Status={expected}"
    ),
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html",),
    fix=_fix,
)
def versioning(want: VersioningStatus, bucket: BucketRef, have: Versioning) -> Outcome:
    """Versioning status differs from the spec.

    Why it matters: without versioning an overwrite or a delete cannot be undone.
    Notes: a bucket that never had versioning returns no Status; the collector calls
    that "Disabled", which the spec tells apart from "Suspended". A bucket that was
    once versioned can only be Enabled or Suspended, never Disabled again.
    """
    if have.status == want:
        return Outcome(actual=have.status)
    return Outcome(
        actual=have.status,
        differences=(
            Difference("", want, have.status,
                       f"Versioning is {have.status}; the spec requires {want}"),
        ),
    )
