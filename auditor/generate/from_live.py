"""`s3audit init`: spec entries describing live buckets exactly as they are configured now.

Everything is read through the audit's own Collector (read-only clients) and judged with the
audit's own rules and policy evaluator, so the entries describe each bucket in the very terms
the audit will check it by: an audit right after `init` passes every control. A facet that
could not be read leaves its key out with a comment; nothing is ever filled in by guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from auditor.collect import Collector, Listing, Target, collect
from auditor.errors import CollectError
from auditor.generate import GenerateError, add_comment
from auditor.model import (
    SPEC_CONTROLS,
    BucketState,
    Encryption,
    Facet,
    PolicyDocument,
    PublicAccessBlock,
    Unreadable,
    Versioning,
    Website,
    WebsiteSpec,
)
from auditor.jsonable import to_jsonable
from auditor.rules import BucketRef, by_control
from auditor.policy.evaluate import PolicyTooComplexError, tls_only_gaps
from auditor.rules.encryption import live_key_ref
from auditor.rules.public_access import public_access

__all__ = ["LIVE_FACETS", "account_label", "describe_bucket", "describe_buckets"]

# Every facet a spec control reads. KMS resolution is not needed: the key is written exactly
# as the bucket names it, and a spec spelling the key as the bucket does compares equal.
LIVE_FACETS = frozenset(Facet) - {Facet.KMS_KEYS}

# (value for the spec key or None, comment or None)
Derived = tuple[Any, str | None]


def _targets(listing: Listing, names: Sequence[str] | None) -> list[Target]:
    if names is None:
        if listing.error is not None:
            raise CollectError(f"cannot list the account's buckets: {listing.error.describe()}")
        if not listing.buckets:
            raise GenerateError("the account has no buckets; nothing to describe")
        return [Target(name, True, region, LIVE_FACETS) for name, region in sorted(listing.buckets)]
    live = dict(listing.buckets)
    if listing.error is None:
        missing = [n for n in names if n not in live]
        if missing:
            raise GenerateError(f"no such bucket in the account: {', '.join(missing)}")
    # When the listing failed, reading tells whether each named bucket is there.
    listed = None if listing.error is not None else True
    return [Target(n, listed, live.get(n), LIVE_FACETS) for n in dict.fromkeys(names)]


def describe_buckets(collector: Collector,
                     names: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Spec entries for the named buckets (all of the account's when None), in name order."""
    targets = _targets(collector.list_buckets(), names)
    entries = []
    for state in collect((collector, t) for t in targets):
        if not state.exists and names is None:
            continue  # listed, then deleted before it was read: there is nothing to describe
        if not state.exists:
            raise GenerateError(f"no such bucket in the account: {state.name}")
        entries.append(describe_bucket(state))
    return entries


def account_label(collector: Collector) -> str:
    """The account id for the file header, or why it is unknown."""
    account = collector.account_id()
    if isinstance(account, Unreadable):
        return f"an unknown account ({account.api} {account.code})"
    return account


def describe_bucket(state: BucketState) -> dict[str, Any]:
    """One spec entry stating every control of the bucket as it is (or why a key is left out)."""
    entry: dict[str, Any] = {"name": state.name}
    rules = by_control()
    for control in SPEC_CONTROLS:
        reads = [f for f in rules[control].reads if f is not Facet.KMS_KEYS]
        unread = [v for f in reads if isinstance(v := _facet(state, f), Unreadable)]
        if unread:
            add_comment(entry, f"{control}: not readable ({unread[0].api} {unread[0].code})")
            continue
        value, comment = _DERIVE[control](state)
        if value is not None:
            entry[control] = value
        if comment is not None:
            add_comment(entry, comment)
    return entry


def _facet(state: BucketState, facet: Facet) -> Any:
    if not state.has(facet):
        # The collector reads every facet asked for; a missing one is a bug, never a pass.
        return Unreadable(facet, "(not collected)", "NotCollected", f"{facet.value} was not read")
    return state.facet(facet)


# --------------------------------------------------------------------------- one per control


def _region(state: BucketState) -> Derived:
    return state.facet(Facet.LOCATION), None


def _versioning(state: BucketState) -> Derived:
    value = state.facet(Facet.VERSIONING)
    assert isinstance(value, Versioning)
    return value.status, None


def _encryption(state: BucketState) -> Derived:
    have = state.facet(Facet.ENCRYPTION)
    if not isinstance(have, Encryption):
        return None, ("encryption: not stated: the bucket has no default encryption, "
                      "and a spec can only require one")
    out: dict[str, Any] = {"algorithm": have.algorithm}
    key = live_key_ref(have)  # aws:kms without a key id is the AWS-managed alias/aws/s3
    if key is not None:
        out["kms_key"] = key
    # S3 Bucket Keys exist only for aws:kms; a spec cannot say "true" for anything else.
    if have.algorithm == "aws:kms" or not have.bucket_key:
        out["bucket_key"] = have.bucket_key
    return out, None


def _public_access_block(state: BucketState) -> Derived:
    # No block configured means every flag is off, which is what the rule compares against.
    block = state.facet(Facet.PUBLIC_ACCESS_BLOCK) or PublicAccessBlock()
    return to_jsonable(block), None


def _public_access(state: BucketState) -> Derived:
    ref = BucketRef(state.name, state.account_id, state.region)
    facets = [state.facet(f) for f in by_control()["public_access"].reads]
    try:
        # The rule itself is the evaluator: what it calls "none"/"read" is what it will accept.
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


def _tls_only(state: BucketState) -> Derived:
    policy = state.facet(Facet.POLICY)
    assert policy is None or isinstance(policy, PolicyDocument)
    try:
        return not tls_only_gaps(policy, state.name), None
    except PolicyTooComplexError as exc:
        return None, f"tls_only: not stated: the policy could not be evaluated ({exc})"


def _rules(facet: Facet) -> Callable[[BucketState], Derived]:
    def derive(state: BucketState) -> Derived:
        # The exact set: `[]` when none, so an audit also catches rules added later.
        return to_jsonable(state.facet(facet)), None
    return derive


def _website(state: BucketState) -> Derived:
    have = state.facet(Facet.WEBSITE)
    if not isinstance(have, Website):
        return False, None
    spec = WebsiteSpec(have.index_document, have.error_document, have.redirect_all_requests_to)
    note = None
    if have.routing_rules:
        note = (f"website: {have.routing_rules} routing rule(s) are not part of the spec "
                "format and are not checked")
    return to_jsonable(spec), note


_DERIVE: dict[str, Callable[[BucketState], Derived]] = {
    "region": _region,
    "versioning": _versioning,
    "encryption": _encryption,
    "public_access_block": _public_access_block,
    "public_access": _public_access,
    "tls_only": _tls_only,
    "lifecycle": _rules(Facet.LIFECYCLE),
    "cors": _rules(Facet.CORS),
    "website": _website,
}
