"""What an S3 bucket policy does, judged from its IAM semantics rather than its spelling.

Shared by the `tls_only` and `public_access` rules. Pure: no boto3/botocore. Wildcard reasoning
(`*`/`?` in actions and ARNs, NotAction/NotResource) is exact language inclusion and
intersection, done in `auditor.policy.globs`. Condition logic follows IAM: operators and keys in one
statement are ANDed, the values of one key ORed, keys case-insensitive.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auditor.model import Condition, PolicyDocument, Principal, Statement
from auditor.policy.globs import (
    ANY,
    STAR,
    Lang,
    PolicyTooComplexError,
    absent_truth,
    action_matches,
    covers,
    intersects,
    opens_to_everyone,
    parse_operator,
    present_truth,
    resource_matches,
    witness,
)

__all__ = [
    "PolicyTooComplexError",
    "PublicActions",
    "PublicGrant",
    "action_matches",
    "public_actions",
    "public_policy_grants",
    "resource_matches",
    "tls_only_gaps",
]

SECURE_TRANSPORT = "aws:securetransport"
# S3 sets s3:TlsVersion only on TLS connections, so it is absent from a plain-HTTP request.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
_ABSENT_ON_PLAIN_HTTP = frozenset({"s3:tlsversion"})
_TRANSPORT_KEYS = frozenset({SECURE_TRANSPORT, *_ABSENT_ON_PLAIN_HTTP})

# Keys an anonymous outsider cannot make match a positive test: the network path the request
# took, or who the authenticated caller is. aws:Referer and aws:UserAgent are client-supplied
# headers, so they are not here.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
_KEY_NAMES = {k.lower(): k for k in (
    "aws:SourceVpc", "aws:SourceVpce", "aws:SourceIp", "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:SourceAccount",
    "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:userid", "aws:username",
    "aws:PrincipalServiceName",
)}
_LIMITING_KEYS = frozenset(_KEY_NAMES)
_POSITIVE = frozenset({
    "stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress",
})
_KEY_NAMES.update({k.lower(): k for k in (
    "aws:SecureTransport", "s3:TlsVersion", "aws:Referer", "aws:UserAgent", "aws:CurrentTime",
)})
_SYMBOLS = {"numericlessthan": "<", "numericlessthanequals": "<=", "numericgreaterthan": ">",
            "numericgreaterthanequals": ">=", "numericequals": "=", "numericnotequals": "!=",
            "bool": "=", "stringequals": "="}

# Write, delete and permission-changing S3 actions, with the resource each applies to.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
_OBJECT_WRITES = (
    "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl", "s3:RestoreObject", "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging",
    "s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:AbortMultipartUpload",
    "s3:BypassGovernanceRetention", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
)
_BUCKET_WRITES = (
    "s3:PutBucketAcl", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:DeleteBucket",
    "s3:PutBucketPublicAccessBlock", "s3:PutLifecycleConfiguration", "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration", "s3:PutBucketCORS", "s3:PutBucketWebsite",
    "s3:DeleteBucketWebsite", "s3:PutBucketOwnershipControls", "s3:DeleteBucketOwnershipControls",
    "s3:PutBucketLogging", "s3:PutBucketNotification", "s3:PutBucketTagging",
    "s3:PutReplicationConfiguration", "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketRequestPayment", "s3:PutAccelerateConfiguration",
    "s3:PutInventoryConfiguration", "s3:PutAnalyticsConfiguration", "s3:PutMetricsConfiguration",
    "s3:PutIntelligentTieringConfiguration",
)
# Named, in this order, when a Deny misses an action; any one is enough to show the gap.
_EXAMPLE_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject",
                    *_BUCKET_WRITES, *_OBJECT_WRITES)
# Every S3 action, including those AWS adds later: only `*`, `s3:*` or an equivalent covers it.
_ALL_S3_ACTIONS = Lang.of(["s3:?*"], fold=True)
_MAX_SPLIT = 8


@dataclass(frozen=True, slots=True)
class PublicGrant:
    sid: str | None  # statement Sid, or f"#{n}" (1-based position) when absent
    actions: tuple[str, ...]  # the statement's actions as written (or "NotAction: ..." form)
    resources: tuple[str, ...]
    reason: str  # one sentence: why this is public


@dataclass(frozen=True, slots=True)
class PublicActions:
    """What anyone on the internet may do to this bucket through its policy."""

    read_objects: bool = False  # anonymous s3:GetObject reaches some object
    read_scope: tuple[str, ...] = ()  # the object patterns through which it does
    beyond_read: tuple[str, ...] = ()  # public write/delete/permission actions, sorted
    grants: tuple[PublicGrant, ...] = ()

    @property
    def public(self) -> bool:
        return bool(self.grants)


# --------------------------------------------------------------------------- statement helpers


def _label(st: Statement, index: int) -> str:
    return st.sid if st.sid else f"#{index + 1}"


def _everyone(principal: Principal | None) -> bool:
    # "*" and {"AWS": "*"} both mean every principal, anonymous callers included.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    return principal is not None and (principal.wildcard or ("AWS", "*") in principal.entries)


def _actions(st: Statement, *, missing: bool) -> Lang:
    # `missing` decides what an (invalid) statement without Action/NotAction is taken to cover:
    # everything for an Allow, nothing for a Deny, so the doubt never hides a finding.
    if st.actions is not None:
        return Lang.of(st.actions, fold=True)
    return Lang.of(st.not_actions or (), fold=True, negated=st.not_actions is not None or missing)


def _resources(st: Statement, *, missing: bool) -> Lang:
    if st.resources is not None:
        return Lang.of(st.resources, fold=False)
    return Lang.of(st.not_resources or (), fold=False,
                   negated=st.not_resources is not None or missing)


def _shown(written: tuple[str, ...] | None, negated: tuple[str, ...] | None) -> str:
    if written is not None:
        return ", ".join(written)
    return f"everything except {', '.join(negated or ())}"


def _targets(bucket: str) -> tuple[tuple[str, Lang], tuple[str, Lang]]:
    arn = f"arn:aws:s3:::{bucket}"
    # Object keys are at least one character long, hence "?" before the "*".
    objects = Lang((tuple(f"{arn}/") + (ANY, STAR),))
    return (f"the bucket {arn}", Lang.exact(arn)), (f"all objects {arn}/*", objects)


def _touches(st: Statement, bucket: str, *, missing: bool) -> bool:
    res = _resources(st, missing=missing)
    return any(intersects(res, target) for _, target in _targets(bucket))


def render_condition(cond: Condition) -> str:
    """A condition as people read it, e.g. "s3:TlsVersion < 1.2"."""
    key = _KEY_NAMES.get(cond.key, cond.key)
    values = " or ".join(cond.values)
    symbol = _SYMBOLS.get(cond.operator.lower())
    return f"{key} {symbol} {values}" if symbol else f"{cond.operator} {key} {values}"


# --------------------------------------------------------------------------- tls_only


def plain_http_truth(cond: Condition) -> bool | None:
    """True/False/None: the condition surely holds/fails/may go either way over plain HTTP."""
    op = parse_operator(cond.operator)
    if cond.key == SECURE_TRANSPORT:
        return present_truth(op, "false", cond.values)
    if cond.key in _ABSENT_ON_PLAIN_HTTP:
        return absent_truth(op, cond.values)
    return None


def tls_only_gaps(doc: PolicyDocument | None, bucket: str) -> tuple[str, ...]:
    """Why the policy does not deny every plain-HTTP request on the bucket; () when it does."""
    if doc is None or not doc.statements:
        what = "there is no bucket policy" if doc is None else "the bucket policy has no statements"
        return (f"{what}, so nothing denies requests with aws:SecureTransport false",)
    effective: list[Statement] = []
    notes: list[str] = []
    for index, st in enumerate(doc.statements):
        problem = _tls_problem(st, bucket)
        if problem is None:
            effective.append(st)
        elif any(c.key in _TRANSPORT_KEYS for c in st.conditions):
            notes.append(f"statement '{_label(st, index)}' {problem}")
    gaps = _coverage_gaps(effective, bucket)
    return tuple(dict.fromkeys((*notes, *gaps))) if gaps else ()


def _tls_problem(st: Statement, bucket: str) -> str | None:
    if st.effect != "Deny":
        return "is an Allow, not a Deny, so it enforces nothing"
    if st.not_principal is not None:
        return "uses NotPrincipal, so the principals it excludes are never denied"
    if not _everyone(st.principal):
        who = ", ".join(f"{t} {v}" for t, v in st.principal.entries) if st.principal else "nobody"
        return f"applies only to {who}, not to every principal"
    for cond in st.conditions:
        truth = plain_http_truth(cond)
        if truth is not True:
            return _condition_problem(cond, truth)
    if not _touches(st, bucket, missing=False):
        names = sorted({r.removeprefix("arn:aws:s3:::").split("/")[0] for r in st.resources or ()})
        if names:
            return f"names bucket {', '.join(names)}, not {bucket}"
        return f"does not apply to bucket {bucket}"
    return None


def _condition_problem(cond: Condition, truth: bool | None) -> str:
    shown = render_condition(cond)
    if cond.key == SECURE_TRANSPORT:
        if truth is None:
            return f"tests {shown}, which cannot be relied on to match a plain-HTTP request"
        if parse_operator(cond.operator).base != "null" and "true" in map(str.lower, cond.values):
            return (f"denies only when {shown}, the wrong way round: a plain-HTTP request has "
                    "aws:SecureTransport false")
        return f"tests {shown}, which a plain-HTTP request (aws:SecureTransport false) never meets"
    if truth is False:
        return f"also requires {shown}, so a plain-HTTP request is never denied"
    return f"also requires {shown}, which a plain-HTTP request need not meet"


def _coverage_gaps(effective: Sequence[Statement], bucket: str) -> list[str]:
    if not effective:
        return [("no Deny statement applies to every principal whenever aws:SecureTransport "
                 "is false")]
    found = [(name, _target_gap(effective, name, target)) for name, target in _targets(bucket)]
    gaps = [(name, gap) for name, gap in found if gap is not None]
    if len(gaps) == 2 and gaps[0][1] == gaps[1][1]:
        return [gaps[0][1]]  # the same actions are missing on both: say it once
    return [gap if name in gap else f"on {name}, {gap}" for name, gap in gaps]


def _target_gap(effective: Sequence[Statement], name: str, target: Lang) -> str | None:
    parts = [(st, _actions(st, missing=False), _resources(st, missing=False)) for st in effective]
    parts = [p for p in parts if intersects(p[2], target)]
    if not covers(target, [res for _, _, res in parts]):
        shown = "; ".join(_shown(st.resources, st.not_resources) for st in effective)
        return f"the Deny on aws:SecureTransport covers {shown} but not {name}"
    split = _uncovered_split(parts, target)
    if split is None:
        return None
    acting = [parts[i] for i in range(len(parts)) if i not in split]
    listed = "; ".join(_shown(st.actions, st.not_actions) for st, _, _ in acting) or "no action"
    missing = next((a for a in _EXAMPLE_ACTIONS
                    if not any(act.matches(a) for _, act, _ in acting)),
                   "an S3 action added in future")
    return f"the Deny on aws:SecureTransport covers only {listed} ({missing} is not denied)"


def _uncovered_split(parts: Sequence[tuple[Statement, Lang, Lang]],
                     target: Lang) -> frozenset[int] | None:
    """Statements S such that S's resources miss part of the target while the other statements'
    actions miss some S3 action: then that (action, resource) pair is not denied."""
    # (action, resource) coverage by A1xR1 u A2xR2 u ... fails exactly when such a split exists.
    # A statement covering the whole target can never be in S, so only the partial ones vary.
    partial = [i for i, (_, _, res) in enumerate(parts) if not covers(target, [res])]
    if len(partial) > _MAX_SPLIT:  # too many to try every split: judge by the whole ones only
        whole_acts = [a for i, (_, a, _) in enumerate(parts) if i not in partial]
        return None if covers(_ALL_S3_ACTIONS, whole_acts) else frozenset(partial)
    for mask in reversed(range(2 ** len(partial))):  # all partial ones first: the plainest story
        split = frozenset(i for k, i in enumerate(partial) if mask >> k & 1)
        if not covers(target, [parts[i][2] for i in split]) and not covers(
            _ALL_S3_ACTIONS, [parts[i][1] for i in range(len(parts)) if i not in split]
        ):
            return split
    return None


# --------------------------------------------------------------------------- public access


def limits_outsiders(cond: Condition) -> bool:
    """True when an anonymous outsider cannot satisfy the condition."""
    op = parse_operator(cond.operator)
    if cond.key not in _LIMITING_KEYS or op.base not in _POSITIVE:
        return False  # negated tests and spoofable keys (aws:Referer ...) let outsiders in
    if op.if_exists or op.qualifier == "forallvalues":
        return False  # both hold when the key is missing, as it is from an anonymous request
    return not opens_to_everyone(op, cond.values)


def _public_allow(st: Statement, bucket: str) -> bool:
    # NotPrincipal on an Allow grants everyone it does not name, anonymous callers included.
    return (
        st.effect == "Allow"
        and (st.not_principal is not None or _everyone(st.principal))
        and not any(limits_outsiders(c) for c in st.conditions)
        and _touches(st, bucket, missing=True)
    )


def _public_deny(st: Statement) -> bool:
    # A conditional Deny is assumed not to stop an outsider, who may meet or dodge the condition.
    return (st.effect == "Deny" and st.not_principal is None and _everyone(st.principal)
            and not st.conditions)


def _grant(st: Statement, index: int) -> PublicGrant:
    if st.not_principal is not None:
        who = "NotPrincipal on an Allow lets everyone it does not list"
    elif st.principal is not None and st.principal.wildcard:
        who = 'Principal "*" lets anyone'
    else:
        who = 'Principal {"AWS": "*"} lets any caller'
    what = f"use {_shown(st.actions, st.not_actions)}"
    if st.conditions:
        shown = "; ".join(render_condition(c) for c in st.conditions)
        why = f"{who} {what}, and its conditions ({shown}) do not keep out an anonymous outsider."
    else:
        why = f"{who} {what} with no condition."
    return PublicGrant(
        sid=st.sid or f"#{index + 1}",
        actions=st.actions or (f"NotAction: {', '.join(st.not_actions or ())}",),
        resources=st.resources or (f"NotResource: {', '.join(st.not_resources or ())}",),
        reason=why,
    )


def public_policy_grants(
    doc: PolicyDocument | None, bucket: str, account_id: str
) -> tuple[PublicGrant, ...]:
    """Allow statements that give everyone access to this bucket without a limiting condition."""
    # account_id is kept for the rule API: a principal naming any account, ours or not, is not
    # public, and so far no check needs to tell the two apart.
    if doc is None:
        return ()
    return tuple(_grant(st, i) for i, st in enumerate(doc.statements) if _public_allow(st, bucket))


def _reaches(action: str, target: Lang, grants: Sequence[tuple[Statement, Lang]],
             denies: Sequence[Statement]) -> bool:
    blocks = [_resources(d, missing=False) for d in denies
              if _actions(d, missing=False).matches(action)]
    return any(witness([target, res], blocks) is not None
               for st, res in grants if _actions(st, missing=True).matches(action))


def public_actions(doc: PolicyDocument | None, bucket: str, account_id: str) -> PublicActions:
    """What the policy lets anyone do: read objects, and which write/permission actions."""
    grants = public_policy_grants(doc, bucket, account_id)
    if doc is None or not grants:
        return PublicActions(grants=grants)
    allows = [st for st in doc.statements if _public_allow(st, bucket)]
    denies = [st for st in doc.statements if _public_deny(st)]
    (_, bucket_arn), (_, objects) = _targets(bucket)
    # One scope entry per pattern (or per NotResource statement), so a Deny on part of the
    # objects removes exactly the entries it swallows.
    scopes = [(p, st, Lang.of([p], fold=False)) for st in allows for p in st.resources or ()]
    scopes += [(f"NotResource: {', '.join(st.not_resources)}", st, _resources(st, missing=True))
               for st in allows if st.resources is None and st.not_resources is not None]
    read_scope = sorted({p for p, st, res in scopes
                         if _reaches("s3:GetObject", objects, [(st, res)], denies)})
    pairs = [(st, _resources(st, missing=True)) for st in allows]
    beyond = [a for a in _OBJECT_WRITES if _reaches(a, objects, pairs, denies)]
    beyond += [a for a in _BUCKET_WRITES if _reaches(a, bucket_arn, pairs, denies)]
    return PublicActions(read_objects=bool(read_scope), read_scope=tuple(read_scope),
                         beyond_read=tuple(sorted(beyond)), grants=grants)
