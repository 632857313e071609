"""TLS-only bucket policy."""

from __future__ import annotations

import json

from auditor.model import Difference, Facet, Outcome, PolicyDocument, Severity
from auditor.policy.evaluate import tls_only_check
from auditor.rules.registry import BucketRef, rule


def tls_statement(bucket: str) -> dict[str, object]:
    """The seed's TLS-only statement for one bucket."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _fix(bucket: BucketRef, want: bool, have: PolicyDocument | None) -> str:
    if not want:
        return f"# remove the statements of {bucket.name}'s policy that deny aws:SecureTransport=false"
    statement = json.dumps(tls_statement(bucket.name), separators=(",", ":"))
    if have is None:
        policy = json.dumps({"Version": "2012-10-17", "Statement": [json.loads(statement)]},
                            separators=(",", ":"))
        return f"aws s3api put-bucket-policy --bucket {bucket.name} --policy '{policy}'"
    # A bucket policy is replaced whole: merge the statement into the existing one.
    return (
        f"aws s3api get-bucket-policy --bucket {bucket.name} --query Policy --output text "
        f"| jq -c '.Statement += [{statement}]' "
        f"| xargs -0 aws s3api put-bucket-policy --bucket {bucket.name} --policy"
    )


@rule(
    id="S3-TLS-001",
    control="tls_only",
    title="The bucket policy denies every request that does not use TLS",
    severity=Severity.HIGH,
    reads=(Facet.POLICY,),
    remediation="aws s3api put-bucket-policy --bucket {bucket} --policy '<policy with a Deny on aws:SecureTransport=false>'",
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit",),
    fix=_fix,
)
def tls_only(want: bool, bucket: BucketRef, have: PolicyDocument | None) -> Outcome:
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
    verdict = tls_only_check(have, bucket.name)
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
