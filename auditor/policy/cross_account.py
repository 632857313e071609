"""cross_account: is any principal outside the bucket's account granted anything?

`cross_account: none` accepts only the bucket's own account. The allow-list form accepts, in
addition, `allowed_accounts`, `allowed_org_ids` (through a fixed aws:PrincipalOrgID or
aws:SourceOrgID), and service principals in `allowed_services` whose grant is limited by a
fixed aws:SourceArn / aws:SourceAccount to the bucket's account, an allowed account or an entry
of `allowed_source_arns` (the confused-deputy guard:
https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). A CloudFront origin
access control grant limited to one distribution ARN passes when that ARN is allowed.
Fail closed: a principal whose account cannot be told (a canonical user id, the legacy
CloudFront origin access identity) is outside the account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auditor.model import Condition, PolicyDocument, Statement
from auditor.policy.conditions import excludes, key_name, limits
from auditor.policy.coverage import Box, uncovered_split
from auditor.policy.principals import account_of, everyone, grantee
from auditor.policy.reading import (
    Reading,
    actions_shown,
    document_notes,
    grant_targets,
    read_policy,
    s3_actions,
    touches,
)

_ACCOUNT_KEYS = frozenset({"aws:principalaccount", "aws:sourceaccount", "aws:sourceowner",
                           "s3:dataaccesspointaccount"})
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn", "s3:dataaccesspointarn"})
_ORG_KEYS = frozenset({"aws:principalorgid", "aws:sourceorgid", "aws:principalorgpaths",
                       "aws:sourceorgpaths"})
_SOURCE_KEYS = frozenset({"aws:sourceaccount", "aws:sourceowner", "aws:sourcearn",
                          "aws:sourceorgid", "aws:sourceorgpaths"})


@dataclass(frozen=True, slots=True)
class Allowance:
    """Who outside the bucket's account may be granted access (empty = `cross_account: none`)."""

    accounts: frozenset[str] = frozenset()
    org_ids: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    source_arns: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ForeignGrant:
    """One grant to a principal outside the bucket's account that the spec does not accept."""

    label: str
    sid: str | None
    grantee: str  # "everyone", "AWS arn:aws:iam::444455556666:root", "Service x.amazonaws.com"
    actions: str
    reason: str


@dataclass(frozen=True, slots=True)
class CrossAccountVerdict:
    """The offending grants, the accepted ones (with why), and notes."""

    offending: tuple[ForeignGrant, ...] = ()
    accepted: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.offending

    @property
    def explanation(self) -> tuple[str, ...]:
        return (*(f"{g.label}: {g.reason}" for g in self.offending), *self.accepted, *self.notes)


def cross_account_check(doc: PolicyDocument | None, bucket: str, account_id: str,
                        allowed: Allowance | None = None) -> CrossAccountVerdict:
    """Which grants reach principals outside `account_id` that `allowed` does not accept."""
    allowed = allowed or Allowance()
    if doc is None:
        return CrossAccountVerdict()
    readings = read_policy(doc)
    blocks = [r for r in readings if _blocks(r, bucket, account_id, allowed)]
    offending: list[ForeignGrant] = []
    accepted: list[str] = []
    notes = list(document_notes(doc))
    for reading in readings:
        if not (reading.allows and touches(reading, bucket) and s3_actions(reading)):
            continue
        found, fine = _judge(reading.statement, account_id, allowed)
        accepted += fine
        if found and _cancelled(reading, blocks, bucket):
            notes.append(f"{reading.label} grants outside the account, but "
                         f"{', '.join(b.label for b in blocks)} deny it entirely")
            continue
        offending += found
    return CrossAccountVerdict(tuple(offending), tuple(accepted), tuple(notes))


# --------------------------------------------------------------------------- one grant


def _judge(st: Statement, own: str, allowed: Allowance) -> tuple[list[ForeignGrant], list[str]]:
    confined = [] if st.malformed else _confinements(st.conditions, own, allowed)
    who = grantee(st)
    what = actions_shown(st)
    if who.public:
        if confined:
            return [], [f"{st.label}: {who.who} use {what}, but {confined[0]}"]
        why = _unconfined_why(st)
        return [_foreign(st, "everyone", f"{who.who} use {what}{why}.")], []
    out: list[ForeignGrant] = []
    fine: list[str] = []
    for kind, value in who.named:
        verdict = _entry(kind, value, st, own, allowed, confined)
        if verdict is None:
            continue
        ok, why = verdict
        if ok:
            fine.append(f"{st.label}: {kind} {value} may use {what}: {why}")
        else:
            out.append(_foreign(st, f"{kind} {value}", f"{kind} {value} may use {what}: {why}."))
    return out, fine


def _entry(kind: str, value: str, st: Statement, own: str, allowed: Allowance,
           confined: Sequence[str]) -> tuple[bool, str] | None:
    """(accepted?, why) for one named principal; None when it is the bucket's own account."""
    if kind == "Service":
        return _service(value, st, own, allowed)
    account = account_of(kind, value)
    if account == own:
        return None
    if account is not None and account in allowed.accounts:
        return True, f"account {account} is in allowed_accounts"
    if confined:
        return True, confined[0]
    if account is None:
        return False, "s3audit cannot tell which account it belongs to, so it counts as outside"
    return False, f"account {account} is outside the bucket's account {own}"


def _service(value: str, st: Statement, own: str, allowed: Allowance) -> tuple[bool, str]:
    if value not in allowed.services:
        return False, (f"a service principal is outside the bucket's account, and {value} is "
                       "not in allowed_services")
    sources = [] if st.malformed else _confinements(
        [c for c in st.conditions if c.key in _SOURCE_KEYS], own, allowed)
    if sources:
        return True, f"{value} is in allowed_services and {sources[0]}"
    return False, (f"{value} is in allowed_services, but no fixed aws:SourceArn or "
                   "aws:SourceAccount limits it to the bucket's account, an allowed account or "
                   "an allowed source ARN")


def _foreign(st: Statement, who: str, reason: str) -> ForeignGrant:
    return ForeignGrant(st.label, st.sid, who, actions_shown(st), reason)


def _unconfined_why(st: Statement) -> str:
    if st.malformed:
        return "; a malformed statement's conditions limit nothing"
    if not st.conditions:
        return " with no condition"
    reasons = []
    for cond in st.conditions:
        judged = limits(cond)
        reasons.append(judged.why if not judged.holds else
                       f"{key_name(cond)} limits it, but not to the bucket's account or an "
                       "allowed account, organization or source")
    return ", and no condition confines it to accepted callers: " + "; ".join(reasons)


# --------------------------------------------------------------------------- conditions


def _confinements(conditions: Sequence[Condition], own: str, allowed: Allowance) -> list[str]:
    """Why the grant is confined to accepted callers, one clause per confining condition."""
    out = []
    for cond in conditions:
        if limits(cond).holds and cond.values and all(
                _accepted(cond.key, v, own, allowed) for v in cond.values):
            out.append(f"{key_name(cond)} {' or '.join(cond.values)} confines it to accepted "
                       "callers")
    return out


def _accepted(key: str, value: str, own: str, allowed: Allowance) -> bool:
    accounts = {own, *allowed.accounts}
    if key in _ACCOUNT_KEYS:
        return value in accounts
    if key in _ORG_KEYS:
        return value.split("/")[0] in allowed.org_ids
    if key in _ARN_KEYS:
        parts = value.split(":")
        return value in allowed.source_arns or (len(parts) > 4 and parts[4] in accounts)
    return False


def _blocks(reading: Reading, bucket: str, own: str, allowed: Allowance) -> bool:
    """A Deny that applies to every caller outside the accepted ones."""
    st = reading.statement
    if not reading.denies or not touches(reading, bucket):
        return False
    if st.not_principal is not None:
        spared = st.not_principal.entries
        if st.not_principal.wildcard or not spared or not all(
                account_of(k, v) in {own, *allowed.accounts} for k, v in spared):
            return False
    elif not everyone(st.principal):
        return False
    return all(excludes(c).holds and all(_accepted(c.key, v, own, allowed) for v in c.values)
               for c in st.conditions)


def _cancelled(reading: Reading, blocks: Sequence[Reading], bucket: str) -> bool:
    boxes: list[Box] = [(a, r) for b in blocks for a in b.actions for r in b.resources]
    return bool(boxes) and all(uncovered_split(a, r, boxes) is None
                               for a, r in grant_targets(reading, bucket))

