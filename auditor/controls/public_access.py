"""`public_access`: the bucket's effective public exposure, from s3audit's own evaluation."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any

from auditor.cfn.values import CfnBucket, Invalid, as_map, plain
from auditor.controls._block import ALL_ON
from auditor.controls._commands import command
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.model import (
    Acl,
    Difference,
    Facet,
    Outcome,
    Ownership,
    PolicyDocument,
    PublicAccessBlock,
    PublicAccessLevel,
    Severity,
)
from auditor.policy.document import parse_policy
from auditor.policy.evaluate import PolicyTooComplexError, public_actions, public_exposure
from auditor.shapes import PAB_FLAGS

SCHEMA = {
    "description": "Effective public exposure: `none` (nobody outside the account) or `read` (anonymous GetObject, nothing more).",
    "enum": ["none", "read"],
}
PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}
READ_PERMISSIONS = frozenset({"READ", "READ_ACP"})


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
    ref: Ref, policy: PolicyDocument | None, acl: Acl, ownership: Ownership, block: PublicAccessBlock
) -> tuple[bool, list[str], list[str], list[str]]:
    """(public object read?, read findings, beyond-read findings, notes: why, on a pass too)."""
    acts = public_exposure(policy, ref.name, ref.account_id)
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


def public_access(
    want: PublicAccessLevel,
    ref: Ref,
    policy: PolicyDocument | None,
    acl: Acl,
    ownership: Ownership,
    bucket_block: PublicAccessBlock | None,
    account_block: PublicAccessBlock | None,
) -> Outcome:
    """The bucket's effective exposure differs from the spec (`none` or `read`).

    Why it matters: a public bucket is the most common way S3 data leaks; a public-read
    bucket that is silently blocked breaks the people who rely on it.
    Notes: s3audit evaluates the policy itself, as S3's "meaning of public" does: a grant
    to everyone (or a Federated or wildcarded principal) is public unless a positive test of
    a limiting key (source VPC/VPCE/IP no broader than /8, principal org/account, source
    account/ARN, access point ...) with fixed values limits it, or well-formed Denies to
    everyone take it away; a statement S3 would refuse is judged, and named. ACL grants to AllUsers or
    AuthenticatedUsers count too. The effective block is bucket-level OR account-level:
    IgnorePublicAcls neutralises public ACL grants and RestrictPublicBuckets a public
    policy; BlockPublicAcls and BlockPublicPolicy only refuse future changes. With object
    ownership BucketOwnerEnforced, ACLs have no effect. Object ACLs are not read.
    """
    block = effective_block(bucket_block, account_block)
    reads_objects, read, write, neutralised = _exposure(ref, policy, acl, ownership, block)
    level = _level(reads_objects, read, write)
    notes = tuple(neutralised)
    if want == "none" and level != "none":
        why = "; ".join(read + write)
        return Outcome(actual=level, notes=notes, differences=(
            Difference("", want, level, f"Bucket is public ({level}): {why}; the spec requires none"),))
    if want == "read":
        return _judge_read(reads_objects, write, block, account_block, level, notes)
    return Outcome(actual=level, notes=notes)


def _judge_read(
    reads_objects: bool, write: list[str], block: PublicAccessBlock,
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


def read_statement(bucket: str) -> dict[str, object]:
    """The seed's public-read statement: anonymous s3:GetObject on every object."""
    return {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}


def _put(ref: Ref, want: PublicAccessLevel) -> tuple[Request, ...]:
    # `none`: a new bucket is private, nothing to write. `read`: the public-read statement
    # (statements of several controls make one policy; see auditor.demo).
    if want == "none":
        return ()
    policy = {"Version": "2012-10-17", "Statement": [read_statement(ref.name)]}
    return (Request("s3", "PutBucketPolicy", {"Bucket": ref.name, "Policy": json.dumps(policy)}),)


def _fix(ref: Ref, want: PublicAccessLevel, *_: object) -> str | None:
    if want == "read":
        return None
    return command(Request("s3", "PutPublicAccessBlock", {
        "Bucket": ref.name,
        "PublicAccessBlockConfiguration": {api: ALL_ON[name] for name, api in PAB_FLAGS}}))


def _derive(ref: Ref, policy: PolicyDocument | None, acl: Acl, ownership: Ownership,
            bucket_block: PublicAccessBlock | None, account_block: PublicAccessBlock | None) -> Derived:
    facets = (policy, acl, ownership, bucket_block, account_block)
    try:
        # The check itself is the evaluator: what it calls "none"/"read" is what it accepts.
        seen = public_access("none", ref, *facets)
        if seen.actual == "none":
            return "none", None
        as_read = public_access("read", ref, *facets)
    except (PolicyTooComplexError, ValueError) as exc:
        return None, f"public_access: not stated: the policy could not be evaluated ({exc})"
    if as_read.ok:
        return "read", None
    why = "; ".join(d.message for d in as_read.differences)
    return None, (f"public_access: not stated: the bucket is public ({seen.actual}) in a way a "
                  f"spec cannot require (only none or read): {why}")


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    block = entry.get("public_access_block")
    if value == "read" and isinstance(block, Mapping) and block.get("restrict_public_buckets") is True:
        yield at.problem(("public_access_block", "restrict_public_buckets"),
                         "restrict_public_buckets: true contradicts public_access: read: it "
                         "blocks the anonymous access a public-read policy grants")


def policy_document(raw: Any, path: str) -> PolicyDocument:
    """A template's policy document (mapping or JSON text), parsed as a live policy is."""
    raw = plain(raw, path)
    text = raw if isinstance(raw, str) else json.dumps(as_map(raw, path), default=str)
    try:
        return parse_policy(text)
    except ValueError as exc:
        raise Invalid(path, str(exc)) from exc


def _bucket_owner_enforced(props: Mapping[str, Any]) -> bool:
    conf = props.get("OwnershipControls")
    rules = conf.get("Rules") if isinstance(conf, Mapping) else None
    return isinstance(rules, list) and any(
        isinstance(r, Mapping) and r.get("ObjectOwnership") == "BucketOwnerEnforced" for r in rules)


def _cfn(bucket: CfnBucket, entry: Mapping[str, Any]) -> object | None:
    """`none` from a block that neutralises both ACLs and policies; `read` from a policy that
    grants anonymous s3:GetObject and nothing beyond. Absence of a policy states nothing."""
    block = entry.get("public_access_block") or {}
    restricted = block.get("restrict_public_buckets") is True
    acls_off = block.get("ignore_public_acls") is True or _bucket_owner_enforced(bucket.props)
    if bucket.policy is not None:
        doc = bucket.origin.attempt(policy_document, bucket.policy, "PolicyDocument")
        if doc is None:
            return None
        try:
            acts = public_actions(doc, bucket.name, "")
        except PolicyTooComplexError as exc:
            bucket.origin.skip(Invalid("PolicyDocument", f"the policy could not be evaluated ({exc})"))
            return None
        if acts.public and restricted:
            bucket.origin.warn(f"{bucket.origin.label}: PolicyDocument: the public statements are "
                               "neutralised by RestrictPublicBuckets")
        elif acts.public and acts.read_objects and not acts.beyond_read:
            return "read"
        elif acts.public:
            beyond = ", ".join(acts.beyond_read) or "access other than reading objects"
            bucket.origin.warn(f"{bucket.origin.label}: PolicyDocument: the policy makes the bucket "
                               f"public beyond reading ({beyond}); public_access not imported (a "
                               "spec states only none or read)")
            return None
    return "none" if restricted and acls_off else None


CONTROL = Control(
    key="public_access",
    id="S3-PUB-001",
    title="The bucket is exactly as public as the spec allows",
    severity=Severity.CRITICAL,
    check=public_access,
    reads=(Facet.POLICY, Facet.ACL, Facet.OWNERSHIP, Facet.PUBLIC_ACCESS_BLOCK,
           Facet.ACCOUNT_PUBLIC_ACCESS_BLOCK),
    schema=SCHEMA,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport(_cfn, ("PublicAccessBlockConfiguration", "OwnershipControls", "AWS::S3::BucketPolicy")),
    put_requests=_put,
    fix=_fix,
    example="none",
    references=(
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status",
    ),
    why_not={"kms_refs": "names no KMS key"},
)
