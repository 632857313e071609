"""`exists`: every bucket a spec names is there (implicit: judged for every named bucket)."""

from __future__ import annotations

from auditor.controls.registry import Control, Ref, Request
from auditor.model import Difference, Outcome, Severity


def _put(ref: Ref, want: bool) -> tuple[Request, ...]:
    params: dict[str, object] = {"Bucket": ref.name}
    # us-east-1 takes no LocationConstraint; every other region needs one.
    if ref.region and ref.region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": ref.region}
    return (Request("s3", "CreateBucket", params),)


def exists(want: bool, ref: Ref, present: bool) -> Outcome:
    """A spec names a bucket that the account does not have.

    Why it matters: an application or a backup job writing to a missing bucket fails, and
    someone else may register the name (bucket names are global).
    Notes: a missing bucket gets this one result and no other.
    """
    if present == want:
        return Outcome(actual=present)
    return Outcome(
        actual=present,
        differences=(
            Difference("", want, present, f"Bucket {ref.name} does not exist; a spec requires it"),
        ),
    )


CONTROL = Control(
    key="exists",
    id="S3-BKT-001",
    title="Every bucket a spec names exists in the account",
    severity=Severity.HIGH,
    check=exists,
    put_requests=_put,
    example=True,
    why_not={
        "derive": "implicit: every bucket init describes exists",
        "cfn": "implicit: every bucket a template defines is created by it",
        "kms_refs": "names no KMS key",
    },
)
