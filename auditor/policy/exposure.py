"""Public exposure: what anyone on the internet may do to a bucket through its policy.

S3 "begins by assuming that the policy is public" and calls it non-public only where it grants
"access only to fixed values" of a principal or of a limiting condition key (The meaning of
"public": https://docs.aws.amazon.com/AmazonS3/latest/userguide/
access-control-block-public-access.html#access-control-block-public-access-policy-status).
A public Allow then stops counting, for the actions and resources it covers, where a
well-formed Deny covers them and applies to every outsider: with no condition, only under
negated tests of limiting keys with fixed values, or with a NotPrincipal naming only fixed
principals. A grant wholly taken away that way is not public.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auditor.model import PolicyDocument, Statement
from auditor.policy.conditions import excludes, limits
from auditor.policy.coverage import Box, touching, uncovered_split
from auditor.policy.globs import Lang, intersects, witness
from auditor.policy.principals import describe, everyone, fixed_only, grantee
from auditor.policy.reading import (
    EVERYTHING,
    Reading,
    actions_shown,
    bucket_targets,
    document_notes,
    grant_targets,
    read_policy,
    s3_actions,
    touches,
)

# Write, delete and permission-changing S3 actions, with the resource each applies to.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
OBJECT_WRITES = (
    "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl", "s3:RestoreObject", "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging",
    "s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:AbortMultipartUpload",
    "s3:BypassGovernanceRetention", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
)
BUCKET_WRITES = (
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


@dataclass(frozen=True, slots=True)
class PublicGrant:
    """One Allow statement that lets anyone in, and why."""

    sid: str | None  # statement Sid, or f"#{n}" (1-based position) when absent
    actions: tuple[str, ...]  # the statement's actions as written (or "NotAction: ..." form)
    resources: tuple[str, ...]
    reason: str  # one sentence: why this is public
    label: str = ""  # "statement 'PublicRead'" / "statement #2"
    cancelled_by: tuple[str, ...] = ()  # Denies that take part (or, if cancelled, all) of it away
    malformed: bool = False


@dataclass(frozen=True, slots=True)
class PublicExposure:
    """What anyone on the internet may do to this bucket through its policy."""

    read_objects: bool = False  # anonymous s3:GetObject reaches some object
    read_scope: tuple[str, ...] = ()  # the object patterns through which it does
    beyond_read: tuple[str, ...] = ()  # public write/delete/permission actions, sorted
    grants: tuple[PublicGrant, ...] = ()  # public grants that still count
    cancelled: tuple[PublicGrant, ...] = ()  # public grants wholly taken away by Denies
    notes: tuple[str, ...] = ()  # limited grants, Denies, malformed statements: on a pass too

    @property
    def public(self) -> bool:
        return bool(self.grants)

    @property
    def explanation(self) -> tuple[str, ...]:
        """Every reason, grant by grant, then the notes: what a message should say."""
        return (*(f"{g.label}: {g.reason}" for g in self.grants), *self.notes)


@dataclass(frozen=True, slots=True)
class _Deny:
    reading: Reading
    counts: bool
    why: str  # "denies everyone unconditionally" / why it does not count


def public_exposure(doc: PolicyDocument | None, bucket: str, account_id: str) -> PublicExposure:
    """What the policy lets anyone do to the bucket, with the reasons, statement by statement."""
    # account_id is part of the API: a principal naming any account, ours or not, is not public.
    del account_id
    if doc is None:
        return PublicExposure()
    readings = read_policy(doc)
    denies = [_judge_deny(r) for r in readings if _deny_like(r, bucket)]
    found = [_public_grant(r, bucket) for r in readings]
    candidates = [(r, g) for r, g, _ in found if g is not None]
    notes = [*document_notes(doc), *(n for _, _, n in found if n)]
    kept, cancelled, more = _cancel(candidates, denies, bucket)
    blocks = [d.reading for d in denies if d.counts]
    read_scope, beyond = _reach([r for r, _ in kept], blocks, bucket)
    return PublicExposure(read_objects=bool(read_scope), read_scope=read_scope,
                          beyond_read=beyond, grants=tuple(g for _, g in kept),
                          cancelled=tuple(cancelled), notes=tuple(dict.fromkeys((*notes, *more))))


# --------------------------------------------------------------------------- grants


def _public_grant(reading: Reading, bucket: str) -> tuple[Reading, PublicGrant | None, str]:
    st = reading.statement
    if not (reading.allows and touches(reading, bucket) and s3_actions(reading)):
        return reading, None, ""
    who = grantee(st)
    if not who.public:
        return reading, None, ""
    what = f"use {actions_shown(st)}"
    judged = [limits(c) for c in st.conditions] if not st.malformed else []
    limiting = [j for j in judged if j.holds]
    if limiting:
        return reading, None, f"{st.label}: {who.who} {what}, but {limiting[0].why}: not public"
    if not st.conditions:
        reason = f"{who.who} {what} with no condition."
    elif st.malformed:
        reason = f"{who.who} {what}; a malformed statement's conditions limit nothing."
    else:
        whys = "; ".join(j.why for j in judged)
        reason = f"{who.who} {what}, and its conditions do not keep out an anonymous outsider: {whys}."
    return reading, _grant(st, reason), ""


def _grant(st: Statement, reason: str, cancelled_by: tuple[str, ...] = ()) -> PublicGrant:
    return PublicGrant(
        sid=st.sid or f"#{st.index}",
        actions=_entries(st.actions, st.not_actions, "NotAction", "action"),
        resources=_entries(st.resources, st.not_resources, "NotResource", "resource"),
        reason=reason, label=st.label, cancelled_by=cancelled_by, malformed=st.malformed,
    )


def _entries(written: tuple[str, ...] | None, negated: tuple[str, ...] | None, name: str,
             what: str) -> tuple[str, ...]:
    out = list(written or ())
    if negated is not None:
        out.append(f"{name}: {', '.join(negated)}")
    return tuple(out) or (f"every {what} (no {what.capitalize()} element)",)


# --------------------------------------------------------------------------- denies


def _deny_like(reading: Reading, bucket: str) -> bool:
    st = reading.statement
    return st.effect == "Deny" and not st.malformed and touches(reading, bucket)


def _judge_deny(reading: Reading) -> _Deny:
    st = reading.statement
    if st.not_principal is not None:
        if not fixed_only(st.not_principal):
            return _Deny(reading, False, "its NotPrincipal names more than fixed principals, so "
                                         "an outsider may be among those it spares")
        who = f"everyone except {describe(st.not_principal)}"
    elif everyone(st.principal):
        who = "everyone"
    else:
        return _Deny(reading, False, f"it applies only to {describe(st.principal)}")
    judged = [excludes(c) for c in st.conditions]
    failing = [j for j in judged if not j.holds]
    if failing:
        return _Deny(reading, False, f"its condition does not hold for every outsider: "
                                     f"{failing[0].why}")
    how = (" unless " + " or ".join(j.why.removeprefix("unless ") for j in judged)
           if judged else " unconditionally")
    return _Deny(reading, True, f"it denies {who}{how}")


def _cancel(candidates: Sequence[tuple[Reading, PublicGrant]], denies: Sequence[_Deny],
            bucket: str) -> tuple[list[tuple[Reading, PublicGrant]], list[PublicGrant], list[str]]:
    counting = [d for d in denies if d.counts]
    boxes: list[Box] = [(a, r) for d in counting for a in d.reading.actions for r in d.reading.resources]
    owners = [d for d in counting for _ in d.reading.actions for _ in d.reading.resources]
    kept: list[tuple[Reading, PublicGrant]] = []
    cancelled: list[PublicGrant] = []
    notes: list[str] = []
    for reading, grant in candidates:
        targets = grant_targets(reading, bucket)
        hit = sorted({i for a, r in targets for i in touching(a, r, boxes)})
        by = tuple(dict.fromkeys(owners[i].reading.label for i in hit))
        whys = "; ".join(dict.fromkeys(f"{owners[i].reading.label}: {owners[i].why}" for i in hit))
        notes += [f"{d.reading.label} does not take {grant.label} away: {d.why}"
                  for d in denies if not d.counts and _meets_any(targets, d.reading)]
        if hit and all(uncovered_split(a, r, boxes) is None for a, r in targets):
            cancelled.append(_grant(reading.statement, grant.reason, by))
            notes.append(f"{grant.label} would be public ({grant.reason[:-1]}), but Denies take "
                         f"it away entirely ({whys}), so it is not public")
            continue
        if hit:
            notes.append(f"Denies take part of {grant.label} away ({whys})")
        kept.append((reading, _grant(reading.statement, grant.reason, by)))
    return kept, cancelled, notes


def _meets_any(targets: Sequence[tuple[list[Lang], list[Lang]]], deny: Reading) -> bool:
    boxes = [(a, r) for a in deny.actions for r in deny.resources]
    return any(touching(a, r, boxes) for a, r in targets)


# --------------------------------------------------------------------------- what is reached


def _reach(grants: Sequence[Reading], blocks: Sequence[Reading],
           bucket: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the object patterns anonymous s3:GetObject reaches, the write actions that reach)."""
    (_, bucket_arn), (_, objects) = bucket_targets(bucket)
    # One scope entry per pattern (or per NotResource part), so a Deny on part of the objects
    # removes exactly the entries it swallows.
    scopes = [(name, r, lang) for r in grants for name, lang in _scopes(r.statement)]
    read_scope = sorted({name for name, r, lang in scopes
                         if _reaches("s3:GetObject", objects, r, (lang,), blocks)})
    beyond = [a for a in OBJECT_WRITES
              if any(_reaches(a, objects, r, r.resources, blocks) for r in grants)]
    beyond += [a for a in BUCKET_WRITES
               if any(_reaches(a, bucket_arn, r, r.resources, blocks) for r in grants)]
    return tuple(read_scope), tuple(sorted(beyond))


def _scopes(st: Statement) -> list[tuple[str, Lang]]:
    out = [(p, Lang.of([p], fold=False)) for p in st.resources or ()]
    if st.not_resources is not None:
        out.append((f"NotResource: {', '.join(st.not_resources)}",
                    Lang.of(st.not_resources, fold=False, negated=True)))
    return out or [("every resource (no Resource element)", EVERYTHING)]


def _reaches(action: str, target: Lang, grant: Reading, resources: Sequence[Lang],
             blocks: Sequence[Reading]) -> bool:
    if not any(act.matches(action) for act in grant.actions):
        return False
    denied = [res for d in blocks if any(a.matches(action) for a in d.actions)
              for res in d.resources]
    if not denied:  # the common case, decided by the prefix/length fast path
        return any(intersects(target, res) for res in resources)
    return any(witness([target, res], denied) is not None for res in resources)
