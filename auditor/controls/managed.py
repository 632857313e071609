"""`managed`: every live bucket is described by some spec entry (implicit)."""

from __future__ import annotations

from auditor.controls._commands import words
from auditor.controls.registry import Control, Ref
from auditor.model import Difference, Outcome, Severity


def managed(want: bool, ref: Ref, described: bool) -> Outcome:
    """A live bucket matches no spec entry (neither a `name` nor a `match` glob).

    Why it matters: an unmanaged bucket is configured by hand and audited by nobody; it is
    where forgotten public data and unencrypted copies live.
    """
    if described == want:
        return Outcome(actual=described)
    return Outcome(
        actual=described,
        differences=(
            Difference("", want, described, f"Bucket {ref.name} is not described by any spec"),
        ),
    )


def _fix(ref: Ref, want: bool, *_: object) -> str:
    return words("s3audit", "init", "--bucket", ref.name, "--out", "specs/")


CONTROL = Control(
    key="managed",
    id="S3-BKT-002",
    title="Every live bucket is described by a spec entry",
    severity=Severity.MEDIUM,
    check=managed,
    fix=_fix,
    remediation="s3audit init --bucket {bucket} --out specs/",
    example=True,
    why_not={
        "derive": "implicit: a spec written by init describes the bucket",
        "cfn": "implicit: a spec written by import describes the bucket",
        "put_requests": "fixed by writing a spec (s3audit init), not by an AWS write",
        "kms_refs": "names no KMS key",
    },
)
