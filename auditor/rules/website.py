"""Static website hosting."""

from __future__ import annotations

from dataclasses import fields
from typing import Literal

from auditor.model import Difference, Facet, Outcome, Severity, Website, WebsiteSpec
from auditor.rules.registry import BucketRef, rule


def _fix(bucket: BucketRef, want: WebsiteSpec | Literal[False], have: Website | None) -> str:
    if want is False:
        return f"aws s3api delete-bucket-website --bucket {bucket.name}"
    if want.redirect_all_requests_to is not None:
        r = want.redirect_all_requests_to
        proto = f",Protocol={r.protocol}" if r.protocol else ""
        conf = f"RedirectAllRequestsTo={{HostName={r.host_name}{proto}}}"
    else:
        index = want.index_document or (have.index_document if have else None) or "index.html"
        conf = f"IndexDocument={{Suffix={index}}}"
        if want.error_document:
            conf += f",ErrorDocument={{Key={want.error_document}}}"
    return f"aws s3api put-bucket-website --bucket {bucket.name} --website-configuration '{conf}'"


@rule(
    id="S3-WEB-001",
    control="website",
    title="Static website hosting is configured as the spec says, or off",
    severity=Severity.MEDIUM,
    reads=(Facet.WEBSITE,),
    remediation="aws s3api put-bucket-website --bucket {bucket} --website-configuration '...'",
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteHosting.html",),
    fix=_fix,
)
def website(want: WebsiteSpec | Literal[False], bucket: BucketRef, have: Website | None) -> Outcome:
    """Website hosting is on when the spec says `website: false`, off when required, or differs.

    Why it matters: the website endpoint serves objects over plain HTTP to anyone the
    bucket policy lets in; an SPA needs its index and error documents to route.
    Notes: a sub-key the spec leaves out (say, error_document) is not checked.
    Example: `website: {index_document: index.html, error_document: index.html}`
    """
    if want is False:
        if have is None:
            return Outcome(actual=False)
        return Outcome(actual=have, differences=(
            Difference("", False, have, "Bucket is configured as a website; the spec says website: false"),))
    if have is None:
        return Outcome(actual=False, differences=(
            Difference("", want, False, "Bucket is not configured as a website; the spec requires one"),))
    diffs = []
    for f in fields(WebsiteSpec):
        expected, actual = getattr(want, f.name), getattr(have, f.name)
        if expected is not None and expected != actual:
            diffs.append(Difference(f.name, expected, actual,
                                    f"Website {f.name} is {actual or 'not set'}; the spec requires {expected}"))
    return Outcome(actual=have, differences=tuple(diffs))
