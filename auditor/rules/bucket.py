"""Bucket-level controls: the bucket exists, is managed by some spec, and lives in its region."""

from __future__ import annotations

from auditor.model import Difference, Facet, Outcome, Severity
from auditor.rules.registry import BucketRef, rule


@rule(
    id="S3-BKT-001",
    control="exists",
    title="Every bucket a spec names exists in the account",
    severity=Severity.HIGH,
    reads=(),
    remediation="aws s3api create-bucket --bucket {bucket}",
)
def exists(want: bool, bucket: BucketRef, present: bool) -> Outcome:
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
            Difference("", want, present, f"Bucket {bucket.name} does not exist; a spec requires it"),
        ),
    )


@rule(
    id="S3-BKT-002",
    control="managed",
    title="Every live bucket is described by a spec entry",
    severity=Severity.MEDIUM,
    reads=(),
    remediation="s3audit init --bucket {bucket} --out specs/",
)
def managed(want: bool, bucket: BucketRef, described: bool) -> Outcome:
    """A live bucket matches no spec entry (neither a `name` nor a `match` glob).

    Why it matters: an unmanaged bucket is configured by hand and audited by nobody; it is
    where forgotten public data and unencrypted copies live.
    """
    if described == want:
        return Outcome(actual=described)
    return Outcome(
        actual=described,
        differences=(
            Difference("", want, described, f"Bucket {bucket.name} is not described by any spec"),
        ),
    )


@rule(
    id="S3-BKT-003",
    control="region",
    title="The bucket lives in the region the spec names",
    severity=Severity.HIGH,
    reads=(Facet.LOCATION,),
    remediation=(
        "# a bucket cannot move: create {bucket} anew in {expected}, copy the data, switch over"
    ),
)
def region(want: str, bucket: BucketRef, have: str) -> Outcome:
    """The bucket is in another region than the spec names.

    Why it matters: data residency (GDPR and contracts name a region) and latency both
    depend on where the bucket lives.
    Notes: GetBucketLocation answers nothing for us-east-1 and "EU" for old eu-west-1
    buckets; both are normalised to region names.
    """
    if have == want:
        return Outcome(actual=have)
    return Outcome(
        actual=have,
        differences=(Difference("", want, have, f"Bucket is in {have}; the spec requires {want}"),),
    )
