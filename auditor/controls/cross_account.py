"""`cross_account`: nobody outside the bucket's account is granted anything, but whom the spec allows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.controls._commands import comment, quote
from auditor.controls.registry import Control, Derived, Ref, Request
from auditor.model import Difference, Facet, Outcome, PolicyDocument, Severity
from auditor.policy.cross_account import Allowance, cross_account_check
from auditor.policy.evaluate import PolicyTooComplexError

_LISTS = {
    "allowed_accounts": {"type": "array", "uniqueItems": True, "items": {
        "type": "string", "pattern": "^[0-9]{12}$",
        "errorMessage": {"pattern": "{value} is not a 12-digit AWS account id (quote it)"}},
        "description": "Accounts that may be granted access."},
    "allowed_org_ids": {"type": "array", "uniqueItems": True, "items": {
        "type": "string", "pattern": "^o-[a-z0-9]{10,32}$",
        "errorMessage": {"pattern": "{value} is not an AWS Organizations id (o-...)"}},
        "description": "Organizations whose principals may be granted access (through a fixed aws:PrincipalOrgID)."},
    "allowed_services": {"type": "array", "uniqueItems": True, "items": {
        "type": "string", "pattern": "^[a-z0-9.-]+\\.amazonaws\\.com$",
        "errorMessage": {"pattern": "{value} is not an AWS service principal (NAME.amazonaws.com)"}},
        "description": "Service principals that may be granted access, each limited by aws:SourceArn/aws:SourceAccount."},
    "allowed_source_arns": {"type": "array", "uniqueItems": True, "items": {
        "type": "string", "pattern": "^arn:aws[a-z-]*:[a-z0-9-]+:",
        "errorMessage": {"pattern": "{value} is not an ARN"}},
        "description": "Source ARNs (a CloudFront distribution, a log-delivering bucket ...) a service grant may be limited to."},
}
SCHEMA = {
    "description": "`none`: no principal outside the bucket's account is granted anything. Or an "
                   "allow-list of accounts, organisations, services and source ARNs.",
    "oneOf": [
        {"const": "none"},
        {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": _LISTS},
    ],
    "errorMessage": {"oneOf": "must be none or a mapping of allowed_accounts, allowed_org_ids, "
                              "allowed_services and allowed_source_arns"},
}


def _build(raw: str | Mapping[str, Any]) -> Allowance:
    if not isinstance(raw, Mapping):  # the schema allows only `none` here
        return Allowance()
    return Allowance(
        accounts=frozenset(raw.get("allowed_accounts", ())),
        org_ids=frozenset(raw.get("allowed_org_ids", ())),
        services=frozenset(raw.get("allowed_services", ())),
        source_arns=frozenset(raw.get("allowed_source_arns", ())),
    )


def cross_account(want: Allowance, ref: Ref, have: PolicyDocument | None) -> Outcome:
    """The bucket policy grants access to a principal outside the bucket's account that the
    spec does not allow.

    Why it matters: a grant to another account, an organisation or a service without a source
    limit (the confused deputy) is a standing path for data to leave the account; one that
    nobody wrote down is one nobody reviews.
    Notes: judged with s3audit's own policy evaluator. `cross_account: none` accepts only the
    bucket's own account. The allow-list accepts `allowed_accounts`, `allowed_org_ids` (through
    a fixed aws:PrincipalOrgID), and service principals in `allowed_services` whose grant is
    limited by a fixed aws:SourceArn or aws:SourceAccount to the account, an allowed account or
    an `allowed_source_arns` entry: a CloudFront origin-access-control grant limited to one
    distribution ARN passes when that ARN is allowed. A principal whose account cannot be told
    (a canonical user id, a legacy origin access identity) counts as outside. Denies that cancel
    a grant entirely are taken into account.
    Example: `cross_account: {allowed_services: [cloudfront.amazonaws.com],
    allowed_source_arns: ["arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"]}`
    """
    verdict = cross_account_check(have, ref.name, ref.account_id, want)
    actual = sorted({g.grantee for g in verdict.offending})
    if verdict.ok:
        return Outcome(actual=actual, notes=verdict.explanation)
    diffs = tuple(Difference(f"cross_account[{g.label}]", None, g.grantee,
                             f"{g.label} grants {g.actions} to {g.grantee}: {g.reason}")
                  for g in verdict.offending)
    return Outcome(actual=actual, notes=verdict.notes, differences=diffs)


def _put(ref: Ref, want: Allowance) -> tuple[Request, ...]:
    return ()  # a new bucket has no policy, so it grants nobody outside the account anything


def _fix(ref: Ref, want: Allowance, have: PolicyDocument | None) -> str:
    return comment(f"remove or limit the statements named above in the policy of {ref.name}: "
                   f"aws s3api get-bucket-policy --bucket {quote(ref.name)} --query Policy --output text")


def _derive(ref: Ref, have: PolicyDocument | None) -> Derived:
    try:
        verdict = cross_account_check(have, ref.name, ref.account_id, Allowance())
    except PolicyTooComplexError as exc:
        return None, f"cross_account: not stated: the policy could not be evaluated ({exc})"
    if verdict.ok:
        return "none", None
    who = ", ".join(sorted({g.grantee for g in verdict.offending}))
    return None, (f"cross_account: not stated: the policy grants access outside the account "
                  f"({who}); state an allow-list to accept them")


CONTROL = Control(
    key="cross_account",
    id="S3-XAC-001",
    title="Nobody outside the account is granted access but whom the spec allows",
    severity=Severity.HIGH,
    check=cross_account,
    reads=(Facet.POLICY,),
    schema=SCHEMA,
    build=_build,
    derive=_derive,
    put_requests=_put,
    fix=_fix,
    example={"allowed_services": ["cloudfront.amazonaws.com"],
             "allowed_source_arns": ["arn:aws:cloudfront::111122223333:distribution/E2EXAMPLE"]},
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html",
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html"),
    why_not={"cfn": "the grants are judged against the bucket's own account, which a template "
                    "fixes only at deploy time",
             "kms_refs": "names no KMS key"},
)
