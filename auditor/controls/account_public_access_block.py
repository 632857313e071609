"""`public_access_block` at account scope: the account-level block, flag by flag."""

from __future__ import annotations

from auditor.controls import _block
from auditor.controls._block import PublicAccessBlockSpec
from auditor.controls._commands import command
from auditor.controls.registry import Control, Derived, Ref, Request
from auditor.jsonable import to_jsonable
from auditor.model import Facet, Outcome, PublicAccessBlock, Scope, Severity


def account_public_access_block(
    want: PublicAccessBlockSpec, ref: Ref, have: PublicAccessBlock | None
) -> Outcome:
    """A flag of the account-level public access block differs from the spec.

    Why it matters: the account-level block applies to every bucket of the account, those
    created tomorrow included; it is the one setting that keeps a new bucket from going
    public by mistake.
    Notes: read with S3 Control GetPublicAccessBlock for the account; an account without a
    block has every flag off. A flag the spec leaves out is not checked.
    Example: `accounts: [{match: "*", public_access_block: {block_public_acls: true, ...}}]`
    """
    return _block.compare("public_access_block", want, have)


def _put(ref: Ref, want: PublicAccessBlockSpec) -> tuple[Request, ...]:
    return (_block.put("s3control", {"AccountId": ref.account_id or ref.name}, want, None),)


def _fix(ref: Ref, want: PublicAccessBlockSpec, have: PublicAccessBlock | None) -> str:
    return command(_block.put("s3control", {"AccountId": ref.account_id or ref.name}, want, have))


def _derive(ref: Ref, have: PublicAccessBlock | None) -> Derived:
    return to_jsonable(have or PublicAccessBlock()), None


CONTROL = Control(
    key="public_access_block",
    scope=Scope.ACCOUNT,
    id="S3-PAB-002",
    title="The account-level public access block has the flags the spec names",
    severity=Severity.HIGH,
    check=account_public_access_block,
    reads=(Facet.ACCOUNT_PUBLIC_ACCESS_BLOCK,),
    schema={"$ref": "#/$defs/public_access_block",
            "description": "The account-level public access block, flag by flag; a flag left out is not checked."},
    defs=_block.DEFS,
    build=_block.build,
    derive=_derive,
    put_requests=_put,
    fix=_fix,
    example=_block.ALL_ON,
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/configuring-block-public-access-account.html",),
    why_not={"cfn": "CloudFormation has no account-level public access block resource",
             "kms_refs": "names no KMS key"},
)
