"""What an S3 bucket policy does, judged from its IAM semantics rather than its spelling.

The one entry point for every policy control (`public_access`, `tls_only`, `min_tls_version`,
`cross_account`). Each function reads the same `PolicyDocument` through
`auditor.policy.reading` and returns a frozen verdict with structured findings and the
sentences a message needs, on a pass as well as on drift:

- `public_exposure(doc, bucket, account_id) -> PublicExposure`
- `tls_only_check(doc, bucket) -> TransportVerdict`
- `min_tls_check(doc, bucket, version) -> TransportVerdict`
- `cross_account_check(doc, bucket, account_id, Allowance(...) | None) -> CrossAccountVerdict`

Pure: no boto3/botocore. Wildcard reasoning (`*`/`?` in actions and ARNs, NotAction,
NotResource) is exact language inclusion and intersection (`auditor.policy.globs`); condition
logic follows IAM: operators and keys in one statement are ANDed, the values of one key ORed,
keys case-insensitive.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html

`public_actions`, `public_policy_grants`, `tls_only_gaps` and `PublicActions` are the earlier
names, kept as thin wrappers for callers that predate the verdict types.
"""

from __future__ import annotations

from auditor.model import Condition, PolicyDocument
from auditor.policy.conditions import limits, render_condition, truth
from auditor.policy.cross_account import (
    Allowance,
    CrossAccountVerdict,
    ForeignGrant,
    cross_account_check,
)
from auditor.policy.exposure import PublicExposure, PublicGrant, public_exposure
from auditor.policy.globs import PolicyTooComplexError, action_matches, resource_matches
from auditor.policy.transport import (
    PLAIN_HTTP,
    TransportVerdict,
    min_tls_check,
    tls_only_check,
)

__all__ = [
    "Allowance",
    "CrossAccountVerdict",
    "ForeignGrant",
    "PolicyTooComplexError",
    "PublicActions",
    "PublicExposure",
    "PublicGrant",
    "TransportVerdict",
    "action_matches",
    "cross_account_check",
    "limits_outsiders",
    "min_tls_check",
    "plain_http_truth",
    "public_actions",
    "public_exposure",
    "public_policy_grants",
    "render_condition",
    "resource_matches",
    "tls_only_check",
    "tls_only_gaps",
]

PublicActions = PublicExposure  # the earlier name of the public-exposure verdict


def public_actions(doc: PolicyDocument | None, bucket: str, account_id: str) -> PublicExposure:
    """What the policy lets anyone do (the earlier name of `public_exposure`)."""
    return public_exposure(doc, bucket, account_id)


def public_policy_grants(doc: PolicyDocument | None, bucket: str,
                         account_id: str) -> tuple[PublicGrant, ...]:
    """Allow statements that still give everyone access to this bucket."""
    return public_exposure(doc, bucket, account_id).grants


def tls_only_gaps(doc: PolicyDocument | None, bucket: str) -> tuple[str, ...]:
    """Why the policy does not deny every plain-HTTP request on the bucket; () when it does."""
    return tls_only_check(doc, bucket).gaps


def limits_outsiders(cond: Condition) -> bool:
    """True when an anonymous outsider cannot satisfy the condition."""
    return limits(cond).holds


def plain_http_truth(cond: Condition) -> bool | None:
    """True/False/None: the condition surely holds/fails/may go either way over plain HTTP."""
    return truth(cond, PLAIN_HTTP.contexts[0][1])
