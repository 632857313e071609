"""`tls_only`: the bucket policy denies every request that does not use TLS."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.cfn.values import CfnBucket, Invalid
from auditor.controls._commands import comment
from auditor.controls._statements import add_statement, deny_everyone, put_policy
from auditor.controls.public_access import policy_document
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.model import Difference, Facet, Outcome, PolicyDocument, Severity
from auditor.policy.evaluate import PolicyTooComplexError, tls_only_check, tls_only_gaps

SCHEMA = {
    "description": "The bucket policy denies every request made without TLS (aws:SecureTransport false).",
    "type": "boolean",
}


def tls_statement(bucket: str) -> dict[str, object]:
    """The seed's TLS-only statement for one bucket."""
    return deny_everyone("DenyInsecureTransport", bucket, {"Bool": {"aws:SecureTransport": "false"}})


def tls_only(want: bool, ref: Ref, have: PolicyDocument | None) -> Outcome:
    """The bucket policy does not (or, with `tls_only: false`, does) deny plain-HTTP requests.

    Why it matters: without the deny, clients may send credentials-signed requests and
    data over plain HTTP, open to interception and tampering.
    Notes: judged by what the policy does, not its spelling: the policy must deny every
    S3 action (`s3:*` or `*`) to every principal (`*` or `{"AWS": "*"}`) on both the bucket
    and its objects when aws:SecureTransport is false. Split statements and equivalent
    spellings pass; a deny on some actions, on one of the two resources, an Allow, or a
    condition ANDed with another key (e.g. s3:TlsVersion, absent over HTTP) is drift.
    `tls_only: false` requires that plain HTTP is not denied (a website endpoint needs it).
    Example: `tls_only: true`
    """
    verdict = tls_only_check(have, ref.name)
    enforced = verdict.enforced
    notes = tuple(n for n in verdict.notes if n not in verdict.gaps)
    if enforced == want:
        return Outcome(actual=enforced, notes=verdict.explanation)
    if want:
        message = "Plain-HTTP requests are not denied: " + "; ".join(verdict.gaps)
    else:
        message = ("The policy denies plain-HTTP requests (" + ", ".join(verdict.enforced_by)
                   + "); the spec requires tls_only: false")
    return Outcome(actual=enforced, notes=notes,
                   differences=(Difference("", want, enforced, message),))


def _put(ref: Ref, want: bool) -> tuple[Request, ...]:
    return (put_policy(ref.name, tls_statement(ref.name)),) if want else ()


def _fix(ref: Ref, want: bool, have: PolicyDocument | None) -> str | None:
    if not want:
        return comment(f"remove the statements of {ref.name}'s policy that deny aws:SecureTransport=false")
    return add_statement(ref.name, tls_statement(ref.name), have)


def _derive(ref: Ref, have: PolicyDocument | None) -> Derived:
    try:
        return not tls_only_gaps(have, ref.name), None
    except PolicyTooComplexError as exc:
        return None, f"tls_only: not stated: the policy could not be evaluated ({exc})"


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    if value is True and isinstance(entry.get("website"), Mapping):
        # A warning, not an error: the contract's own example spec states both, and a
        # website served only through CloudFront (REST endpoint) can be TLS-only.
        yield at.problem(("tls_only",),
                         "tls_only: true contradicts website hosting: the S3 website "
                         "endpoint serves plain HTTP only, so a TLS-only policy would deny "
                         "every website request (put HTTPS in front with CloudFront instead)",
                         level="warning")


def _cfn(bucket: CfnBucket, entry: Mapping[str, Any]) -> object | None:
    # Only `true` is imported: a template without the deny states nothing about TLS.
    if bucket.policy is None:
        return None
    doc = bucket.origin.attempt(policy_document, bucket.policy, "PolicyDocument")
    if doc is None:
        return None
    try:
        return True if not tls_only_gaps(doc, bucket.name) else None
    except PolicyTooComplexError as exc:
        bucket.origin.skip(Invalid("PolicyDocument", f"the policy could not be evaluated ({exc})"))
        return None


CONTROL = Control(
    key="tls_only",
    id="S3-TLS-001",
    title="The bucket policy denies every request that does not use TLS",
    severity=Severity.HIGH,
    check=tls_only,
    reads=(Facet.POLICY,),
    schema=SCHEMA,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport(_cfn, ("AWS::S3::BucketPolicy",)),
    put_requests=_put,
    fix=_fix,
    example=True,
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit",),
    why_not={"kms_refs": "names no KMS key"},
)
