"""The bucket's public access block, and its effective public exposure."""

from __future__ import annotations

from dataclasses import fields

from auditor.model import (
    Acl,
    Difference,
    Facet,
    Outcome,
    Ownership,
    PolicyDocument,
    PublicAccessBlock,
    PublicAccessBlockSpec,
    PublicAccessLevel,
    Severity,
)
from auditor.policy.evaluate import public_exposure
from auditor.rules.registry import BucketRef, rule

FLAG_NAMES = {
    "block_public_acls": "BlockPublicAcls",
    "ignore_public_acls": "IgnorePublicAcls",
    "block_public_policy": "BlockPublicPolicy",
    "restrict_public_buckets": "RestrictPublicBuckets",
}
PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}
READ_PERMISSIONS = frozenset({"READ", "READ_ACP"})


def _pab_fix(bucket: BucketRef, want: PublicAccessBlockSpec, have: PublicAccessBlock | None) -> str:
    current = have or PublicAccessBlock()
    flags = ",".join(
        f"{aws}={str(_wanted_flag(want, current, name)).lower()}" for name, aws in FLAG_NAMES.items()
    )
    return (
        f"aws s3api put-public-access-block --bucket {bucket.name} "
        f"--public-access-block-configuration {flags}"
    )


def _wanted_flag(want: PublicAccessBlockSpec, have: PublicAccessBlock, name: str) -> bool:
    stated = getattr(want, name)
    return bool(getattr(have, name) if stated is None else stated)


@rule(
    id="S3-PAB-001",
    control="public_access_block",
    title="The bucket's own public access block has the flags the spec names",
    severity=Severity.HIGH,
    reads=(Facet.PUBLIC_ACCESS_BLOCK,),
    remediation=(
        "aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration "
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
    ),
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",),
    fix=_pab_fix,
)
def public_access_block(
    want: PublicAccessBlockSpec, bucket: BucketRef, have: PublicAccessBlock | None
) -> Outcome:
    """A flag of the bucket-level public access block differs from the spec.

    Why it matters: the block is the guard rail that stops a careless ACL or policy from
    making data public; an unset flag is a guard rail removed.
    Notes: only the bucket's own configuration is compared here, flag by flag; a flag the
    spec leaves out is not checked. A bucket without any block has every flag off. The
    account-level block is taken into account by `public_access`.
    """
    current = have or PublicAccessBlock()
    diffs = []
    for f in fields(PublicAccessBlockSpec):
        wanted = getattr(want, f.name)
        live = getattr(current, f.name)
        if wanted is not None and wanted != live:
            state = "not configured" if have is None else str(live).lower()
            diffs.append(Difference(f.name, wanted, live,
                                    f"{FLAG_NAMES[f.name]} is {state}; the spec requires {str(wanted).lower()}"))
    return Outcome(actual=have, differences=tuple(diffs))


def effective_block(bucket: PublicAccessBlock | None, account: PublicAccessBlock | None) -> PublicAccessBlock:
    """Per flag, the bucket-level OR the account-level setting."""
    b, a = bucket or PublicAccessBlock(), account or PublicAccessBlock()
    return PublicAccessBlock(**{f.name: getattr(b, f.name) or getattr(a, f.name) for f in fields(b)})


def _acl_findings(acl: Acl, ownership: Ownership, block: PublicAccessBlock) -> tuple[list[str], list[str]]:
    """Public ACL grants that take effect: (read findings, beyond-read findings)."""
    # With BucketOwnerEnforced, ACLs are disabled and grant nothing; IgnorePublicAcls makes
    # S3 ignore public grants. https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
    if ownership.rule == "BucketOwnerEnforced" or block.ignore_public_acls:
        return [], []
    read: list[str] = []
    write: list[str] = []
    for g in acl.grants:
        group = PUBLIC_GROUPS.get(g.grantee)
        if group is None:
            continue
        text = f"the bucket ACL grants {g.permission} to {group}"
        (read if g.permission in READ_PERMISSIONS else write).append(text)
    return read, write


def _exposure(
    bucket: BucketRef, policy: PolicyDocument | None, acl: Acl, ownership: Ownership, block: PublicAccessBlock
) -> tuple[bool, list[str], list[str], list[str]]:
    """(public object read?, read findings, beyond-read findings, notes: why, on a pass too)."""
    acts = public_exposure(policy, bucket.name, bucket.account_id)
    read_findings, write_findings = _acl_findings(acl, ownership, block)
    notes = list(acts.notes)
    reads_objects = False
    why = "; ".join(f"{g.label}: {g.reason.rstrip('.')}" for g in acts.grants)
    if acts.grants and block.restrict_public_buckets:
        notes.insert(0, f"RestrictPublicBuckets neutralises the public policy statements ({why})")
    elif acts.grants:
        reads_objects = acts.read_objects
        if acts.read_objects:
            read_findings.append(f"the policy allows anonymous s3:GetObject on {', '.join(acts.read_scope)} ({why})")
        elif not acts.beyond_read:
            read_findings += [f"policy {g.label}: {g.reason}" for g in acts.grants]
        if acts.beyond_read:
            write_findings.append(f"the policy allows anonymous {', '.join(acts.beyond_read)} ({why})")
    return reads_objects, read_findings, write_findings, notes + _object_acl_note(ownership, block)


def _object_acl_note(ownership: Ownership, block: PublicAccessBlock) -> list[str]:
    # Object ACLs are not read; say so wherever they could still make an object public.
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
    if ownership.rule == "BucketOwnerEnforced" or block.ignore_public_acls:
        return []
    note = (f"object ACLs are not read: with object ownership {ownership.rule} and "
            "IgnorePublicAcls off, an object ACL can still make an object public")
    return [note]


def _level(reads_objects: bool, read: list[str], write: list[str]) -> str:
    if write:
        return "write"
    return "read" if (reads_objects or read) else "none"


@rule(
    id="S3-PUB-001",
    control="public_access",
    title="The bucket is exactly as public as the spec allows",
    severity=Severity.CRITICAL,
    reads=(Facet.POLICY, Facet.ACL, Facet.OWNERSHIP, Facet.PUBLIC_ACCESS_BLOCK, Facet.ACCOUNT_PUBLIC_ACCESS_BLOCK),
    remediation=(
        "aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration "
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status",
    ),
)
def public_access(
    want: PublicAccessLevel,
    bucket: BucketRef,
    policy: PolicyDocument | None,
    acl: Acl,
    ownership: Ownership,
    bucket_block: PublicAccessBlock | None,
    account_block: PublicAccessBlock | None,
) -> Outcome:
    """The bucket's effective exposure differs from the spec (`none` or `read`).

    Why it matters: a public bucket is the most common way S3 data leaks; a public-read
    bucket that is silently blocked breaks the people who rely on it.
    Notes: s3audit evaluates the policy itself: a statement for everyone counts as public
    unless a condition limits it to a network or organisation (source VPC/VPCE/IP,
    principal org/account, source account/ARN). ACL grants to AllUsers or
    AuthenticatedUsers count too. The effective block is bucket-level OR account-level:
    IgnorePublicAcls neutralises public ACL grants and RestrictPublicBuckets a public
    policy; BlockPublicAcls and BlockPublicPolicy only refuse future changes. With object
    ownership BucketOwnerEnforced, ACLs have no effect. Object ACLs are not read.
    """
    block = effective_block(bucket_block, account_block)
    reads_objects, read, write, neutralised = _exposure(bucket, policy, acl, ownership, block)
    level = _level(reads_objects, read, write)
    notes = tuple(neutralised)
    if want == "none" and level != "none":
        why = "; ".join(read + write)
        return Outcome(actual=level, notes=notes, differences=(
            Difference("", want, level, f"Bucket is public ({level}): {why}; the spec requires none"),))
    if want == "read":
        return _judge_read(bucket, reads_objects, write, block, account_block, level, notes)
    return Outcome(actual=level, notes=notes)


def _judge_read(
    bucket: BucketRef, reads_objects: bool, write: list[str], block: PublicAccessBlock,
    account_block: PublicAccessBlock | None, level: str, notes: tuple[str, ...],
) -> Outcome:
    diffs = []
    if write:
        diffs.append(Difference("", "read", "write",
                                "Bucket is public beyond reading: " + "; ".join(write) + "; the spec allows read only"))
    if not reads_objects:
        if block.restrict_public_buckets:
            where = "account-level" if account_block and account_block.restrict_public_buckets else "bucket-level"
            why = f"the {where} RestrictPublicBuckets blocks the public-read policy"
        else:
            why = "no policy statement allows anonymous s3:GetObject on its objects"
        diffs.append(Difference("", "read", level if level != "read" else "none",
                                f"Objects are not publicly readable: {why}; the spec requires public read"))
    actual = "read" if reads_objects and not write else ("write" if write else "none")
    return Outcome(actual=actual, notes=notes, differences=tuple(diffs))
