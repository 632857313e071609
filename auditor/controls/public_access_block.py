"""`public_access_block`: the bucket's own public access block, flag by flag."""

from __future__ import annotations

from typing import Any

from auditor.cfn.values import Origin, as_bool, as_map
from auditor.controls import _block
from auditor.controls._block import PublicAccessBlockSpec
from auditor.controls._commands import command
from auditor.controls.registry import CfnImport, Control, Derived, Ref, Request
from auditor.jsonable import to_jsonable
from auditor.model import Facet, Outcome, PublicAccessBlock, Severity
from auditor.shapes import PAB_FLAGS


def public_access_block(
    want: PublicAccessBlockSpec, ref: Ref, have: PublicAccessBlock | None
) -> Outcome:
    """A flag of the bucket-level public access block differs from the spec.

    Why it matters: the block is the guard rail that stops a careless ACL or policy from
    making data public; an unset flag is a guard rail removed.
    Notes: only the bucket's own configuration is compared here, flag by flag; a flag the
    spec leaves out is not checked. A bucket without any block has every flag off. The
    account-level block is taken into account by `public_access`.
    """
    return _block.compare("public_access_block", want, have)


def _put(ref: Ref, want: PublicAccessBlockSpec) -> tuple[Request, ...]:
    return (_block.put("s3", {"Bucket": ref.name}, want, None),)


def _fix(ref: Ref, want: PublicAccessBlockSpec, have: PublicAccessBlock | None) -> str:
    return command(_block.put("s3", {"Bucket": ref.name}, want, have))


def _derive(ref: Ref, have: PublicAccessBlock | None) -> Derived:
    # No block configured means every flag is off, which is what the check compares against.
    return to_jsonable(have or PublicAccessBlock()), None


def _flags(raw: Any, path: str, origin: Origin) -> dict[str, bool] | None:
    conf = as_map(raw, path)
    out: dict[str, bool] = {}
    for spec_key, cfn_key in PAB_FLAGS:
        if conf.get(cfn_key) is not None:
            flag = origin.attempt(as_bool, conf[cfn_key], f"{path}.{cfn_key}")
            if flag is not None:
                out[spec_key] = flag
    return out or None  # a block stating no flag checks nothing


CONTROL = Control(
    key="public_access_block",
    id="S3-PAB-001",
    title="The bucket's own public access block has the flags the spec names",
    severity=Severity.HIGH,
    check=public_access_block,
    reads=(Facet.PUBLIC_ACCESS_BLOCK,),
    schema={"$ref": "#/$defs/public_access_block",
            "description": "The bucket's own public access block, flag by flag; a flag left out is not checked."},
    defs=_block.DEFS,
    build=_block.build,
    derive=_derive,
    cfn=CfnImport.prop("PublicAccessBlockConfiguration", _flags),
    put_requests=_put,
    fix=_fix,
    example=_block.ALL_ON,
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",),
    why_not={"kms_refs": "names no KMS key"},
)
