"""`object_acls: ignored`: object ACLs cannot take effect (ownership or the effective block)."""

from __future__ import annotations

from auditor.controls.public_access import effective_block
from auditor.controls.registry import Control, Ref, Request
from auditor.model import Difference, Facet, Outcome, Ownership, PublicAccessBlock, Severity

SCHEMA = {
    "description": "`ignored`: object ACLs cannot take effect: object ownership is "
                   "BucketOwnerEnforced, or IgnorePublicAcls is on at bucket or account level.",
    "enum": ["ignored"],
}


def acls_ignored_because(ownership: Ownership, bucket_block: PublicAccessBlock | None,
                         account_block: PublicAccessBlock | None) -> str | None:
    """Why object ACLs cannot take effect, or None when they can."""
    if ownership.rule == "BucketOwnerEnforced":
        return "object ownership is BucketOwnerEnforced (ACLs are disabled)"
    if bucket_block is not None and bucket_block.ignore_public_acls:
        return "the bucket-level IgnorePublicAcls is on"
    if account_block is not None and account_block.ignore_public_acls:
        return "the account-level IgnorePublicAcls is on"
    return None


def object_acls(want: str, ref: Ref, ownership: Ownership, bucket_block: PublicAccessBlock | None,
                account_block: PublicAccessBlock | None) -> Outcome:
    """Object ACLs can take effect where the spec requires them ignored.

    Why it matters: s3audit (like AWS's own policy status) does not read the ACL of every
    object; an object uploaded with `--acl public-read` is public whatever the bucket policy
    says, unless ACLs are disabled (BucketOwnerEnforced) or public ACLs are ignored.
    Notes: ignored means ownership BucketOwnerEnforced, or an effective IgnorePublicAcls
    (bucket-level OR account-level). Example: `object_acls: ignored`
    """
    why = acls_ignored_because(ownership, bucket_block, account_block)
    if why is not None:
        return Outcome(actual="ignored", notes=(why,))
    block = effective_block(bucket_block, account_block)
    return Outcome(actual="effective", differences=(Difference(
        "", want, "effective",
        f"Object ACLs can take effect: object ownership is {ownership.rule} and IgnorePublicAcls "
        f"is {'on' if block.ignore_public_acls else 'off'} at bucket and account level; the spec "
        "requires them ignored"),))


def _put(ref: Ref, want: str) -> tuple[Request, ...]:
    # AWS's recommendation: disable ACLs altogether.
    return (Request("s3", "PutBucketOwnershipControls", {
        "Bucket": ref.name, "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}),)


CONTROL = Control(
    key="object_acls",
    id="S3-ACL-001",
    title="Object ACLs cannot make objects public",
    severity=Severity.HIGH,
    check=object_acls,
    reads=(Facet.OWNERSHIP, Facet.PUBLIC_ACCESS_BLOCK, Facet.ACCOUNT_PUBLIC_ACCESS_BLOCK),
    schema=SCHEMA,
    put_requests=_put,
    example="ignored",
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html",
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"),
    why_not={
        "derive": "follows from ownership and public_access_block, which init states",
        "cfn": "follows from OwnershipControls and PublicAccessBlockConfiguration, which import states",
        "kms_refs": "names no KMS key",
    },
)
