"""`min_tls_version`: the bucket policy denies requests over TLS older than a version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.cfn.values import CfnBucket, Invalid
from auditor.controls._statements import add_statement, deny_everyone, put_policy
from auditor.controls.public_access import policy_document
from auditor.controls.registry import CfnImport, Control, Derived, Ref, Request
from auditor.model import Difference, Facet, Outcome, PolicyDocument, Severity
from auditor.policy.evaluate import PolicyTooComplexError
from auditor.policy.transport import min_tls_check

VERSIONS = ("1.0", "1.1", "1.2", "1.3")
SCHEMA = {
    "description": "The bucket policy denies every S3 action to everyone, on the bucket and its "
                   "objects, when s3:TlsVersion is below this version.",
    "enum": list(VERSIONS),
    "errorMessage": {"enum": "{value} is not a TLS version s3audit knows (1.0, 1.1, 1.2, 1.3; quote it)"},
}


def min_tls_statement(bucket: str, version: str) -> dict[str, object]:
    """AWS's recommended statement: deny requests over TLS older than `version`."""
    return deny_everyone(f"DenyTlsBelow{version.replace('.', '')}", bucket,
                         {"NumericLessThan": {"s3:TlsVersion": version}})


def min_tls_version(want: str, ref: Ref, have: PolicyDocument | None) -> Outcome:
    """The bucket policy does not deny requests made with a TLS version older than the spec's.

    Why it matters: TLS 1.0 and 1.1 have known weaknesses; AWS's own endpoints require 1.2 since
    2024, but a bucket policy is what makes the requirement visible and enforced per bucket.
    Notes: judged like tls_only, by what the policy does: a Deny of every S3 action to everyone
    on the bucket and its objects when s3:TlsVersion is below the version (NumericLessThan);
    a Deny below a higher version passes too. A statement that ANDs another key does not
    count. Plain HTTP carries no s3:TlsVersion: that is tls_only's business.
    Example: `min_tls_version: "1.2"`
    """
    verdict = min_tls_check(have, ref.name, want)
    if verdict.enforced:
        return Outcome(actual=want, notes=verdict.explanation)
    return Outcome(actual=None, notes=tuple(n for n in verdict.notes if n not in verdict.gaps),
                   differences=(Difference("", want, None,
                                           f"Requests over TLS older than {want} are not denied: "
                                           + "; ".join(verdict.gaps)),))


def _put(ref: Ref, want: str) -> tuple[Request, ...]:
    return (put_policy(ref.name, min_tls_statement(ref.name, want)),)


def _fix(ref: Ref, want: str, have: PolicyDocument | None) -> str | None:
    return add_statement(ref.name, min_tls_statement(ref.name, want), have)


def enforced_version(doc: PolicyDocument | None, bucket: str) -> str | None:
    """The highest version whose older ones the policy denies, None when none is denied."""
    return next((v for v in reversed(VERSIONS) if min_tls_check(doc, bucket, v).enforced), None)


def _derive(ref: Ref, have: PolicyDocument | None) -> Derived:
    try:
        version = enforced_version(have, ref.name)
    except PolicyTooComplexError as exc:
        return None, f"min_tls_version: not stated: the policy could not be evaluated ({exc})"
    if version is None or version == "1.0":  # "below 1.0" denies nothing S3 accepts
        return None, None
    return version, None


def _cfn(bucket: CfnBucket, entry: Mapping[str, Any]) -> object | None:
    if bucket.policy is None:
        return None
    doc = bucket.origin.attempt(policy_document, bucket.policy, "PolicyDocument")
    try:
        version = None if doc is None else enforced_version(doc, bucket.name)
    except PolicyTooComplexError as exc:
        bucket.origin.skip(Invalid("PolicyDocument", f"the policy could not be evaluated ({exc})"))
        return None
    return None if version in (None, "1.0") else version


CONTROL = Control(
    key="min_tls_version",
    id="S3-TLS-002",
    title="The bucket policy denies requests over TLS older than the spec's version",
    severity=Severity.MEDIUM,
    check=min_tls_version,
    reads=(Facet.POLICY,),
    schema=SCHEMA,
    derive=_derive,
    cfn=CfnImport(_cfn, ("AWS::S3::BucketPolicy",)),
    put_requests=_put,
    fix=_fix,
    example="1.2",
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html#example-object-tls-version",),
    why_not={"kms_refs": "names no KMS key"},
)
