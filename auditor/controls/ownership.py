"""`ownership`: the bucket's object ownership setting (who owns uploaded objects, ACLs on/off)."""

from __future__ import annotations

from typing import Any

from auditor.cfn.values import Invalid, Origin, as_list, as_map, as_str
from auditor.controls.registry import CfnImport, Control, Derived, Ref, Request
from auditor.model import Difference, Facet, Outcome, Ownership, Severity

RULES = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")
SCHEMA = {
    "description": "Object ownership: BucketOwnerEnforced (ACLs disabled, the bucket owner owns "
                   "every object), BucketOwnerPreferred or ObjectWriter (no ownership controls "
                   "= ObjectWriter).",
    "enum": list(RULES),
}


def ownership(want: str, ref: Ref, have: Ownership) -> Outcome:
    """Object ownership differs from the spec.

    Why it matters: with BucketOwnerEnforced, ACLs are disabled: no object ACL or bucket ACL
    can grant access, and every object belongs to the bucket owner. With ObjectWriter, an
    uploader from another account owns its objects and their ACLs decide who reads them.
    Notes: a bucket without ownership controls behaves as ObjectWriter (the legacy
    default); buckets created since April 2023 default to BucketOwnerEnforced.
    Example: `ownership: BucketOwnerEnforced`
    """
    if have.rule == want:
        return Outcome(actual=have.rule)
    return Outcome(actual=have.rule, differences=(
        Difference("", want, have.rule, f"Object ownership is {have.rule}; the spec requires {want}"),))


def _put(ref: Ref, want: str) -> tuple[Request, ...]:
    return (Request("s3", "PutBucketOwnershipControls", {
        "Bucket": ref.name, "OwnershipControls": {"Rules": [{"ObjectOwnership": want}]}}),)


def _derive(ref: Ref, have: Ownership) -> Derived:
    return have.rule, None


def _from_template(raw: Any, path: str, origin: Origin) -> str:
    rules = as_list(as_map(raw, path).get("Rules"), f"{path}.Rules")
    if len(rules) != 1:
        raise Invalid(f"{path}.Rules", "S3 takes exactly one ownership rule")
    value = as_str(as_map(rules[0], f"{path}.Rules[0]").get("ObjectOwnership"),
                   f"{path}.Rules[0].ObjectOwnership")
    if value not in RULES:
        raise Invalid(f"{path}.Rules[0].ObjectOwnership", f"{value!r} is not one of {', '.join(RULES)}")
    return value


CONTROL = Control(
    key="ownership",
    id="S3-OWN-001",
    title="Object ownership is the setting the spec names",
    severity=Severity.MEDIUM,
    check=ownership,
    reads=(Facet.OWNERSHIP,),
    schema=SCHEMA,
    derive=_derive,
    cfn=CfnImport.prop("OwnershipControls", _from_template),
    put_requests=_put,
    example="BucketOwnerEnforced",
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html",),
    why_not={"kms_refs": "names no KMS key"},
)
