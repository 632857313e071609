"""`region`: the bucket lives in the region the spec names."""

from __future__ import annotations

from typing import Any

from auditor.cfn.values import Origin, as_str
from auditor.controls._commands import comment
from auditor.controls.registry import CfnImport, Control, Derived, Ref
from auditor.model import Difference, Facet, Outcome, Severity

SCHEMA = {
    "description": "The AWS region the bucket must live in.",
    "type": "string",
    "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]+$",
    "errorMessage": {"pattern": "{value} is not an AWS region name like eu-central-1"},
}


def region(want: str, ref: Ref, have: str) -> Outcome:
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


def _fix(ref: Ref, want: str, *_: object) -> str:
    return comment(f"a bucket cannot move: create {ref.name} anew in {want}, copy the data, switch over")


def _derive(ref: Ref, have: str) -> Derived:
    return have, None


def _cfn(raw: Any, path: str, origin: Origin) -> str:
    # A template has no region (the stack's decides); a seed-style block states `Region:`,
    # and `import --region` fills it in (see auditor.bootstrap.from_cfn).
    return as_str(raw, path)


CONTROL = Control(
    key="region",
    id="S3-BKT-003",
    title="The bucket lives in the region the spec names",
    severity=Severity.HIGH,
    check=region,
    reads=(Facet.LOCATION,),
    schema=SCHEMA,
    derive=_derive,
    cfn=CfnImport.prop("Region", _cfn),
    fix=_fix,
    remediation="# a bucket cannot move: create {bucket} anew in {expected}, copy the data, switch over",
    example="eu-central-1",
    why_not={
        "put_requests": "a bucket's region is fixed when it is created (see exists)",
        "kms_refs": "names no KMS key",
    },
)
