"""`s3audit init`: spec entries describing live buckets exactly as they are configured now.

Everything is read through the audit's own Collector (read-only clients) and judged with the
audit's own rules and policy evaluator, so the entries describe each bucket in the very terms
the audit will check it by: an audit right after `init` passes every control. A facet that
could not be read leaves its key out with a comment; nothing is ever filled in by guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auditor.bootstrap import GenerateError, add_comment
from auditor.collect import Collector, Listing, Target, collect
from auditor.controls import Ref, stated_controls
from auditor.errors import CollectError
from auditor.model import BucketState, Facet, Scope, SpecSet, Status, Unreadable

__all__ = ["LIVE_FACETS", "account_label", "describe_bucket", "describe_buckets"]

# Every facet a bucket control reads. KMS resolution is not needed: the key is written
# exactly as the bucket names it, and a spec spelling the key as the bucket does compares equal.
LIVE_FACETS = frozenset(f for c in stated_controls(Scope.BUCKET) for f in c.reads) - {Facet.KMS_KEYS}


def _targets(listing: Listing, names: Sequence[str] | None) -> list[Target]:
    if names is None:
        if listing.error is not None:
            raise CollectError(f"cannot list the account's buckets: {listing.error.describe()}")
        if not listing.buckets:
            raise GenerateError("the account has no buckets; nothing to describe")
        return [Target(name, True, region, LIVE_FACETS) for name, region in sorted(listing.buckets)]
    from auditor.run.plan import no_match, select

    live = dict(listing.buckets)
    if listing.error is None:  # names or globs, as for `audit --bucket`
        chosen, unmatched = select(names, live)
        if unmatched:
            raise no_match(unmatched, live)
        return [Target(n, True, live[n], LIVE_FACETS) for n in sorted(chosen)]
    # When the listing failed, reading tells whether each named bucket is there.
    return [Target(n, None, None, LIVE_FACETS) for n in dict.fromkeys(names)]


def describe_buckets(collector: Collector, names: Sequence[str] | None = None,
                     baselines: SpecSet | None = None) -> list[dict[str, Any]]:
    """Spec entries for the named buckets (all of the account's when None), in name order;
    with `baselines`, each states only what differs from the baselines that match it."""
    targets = _targets(collector.list_buckets(), names)
    entries = []
    for state in collect((collector, t) for t in targets):
        if not state.exists and names is None:
            continue  # listed, then deleted before it was read: there is nothing to describe
        if not state.exists:
            raise GenerateError(f"no such bucket in the account: {state.name}")
        entry = _prefer_alias(describe_bucket(state), collector, state.region)
        entries.append(entry if baselines is None else beyond_baselines(entry, state, baselines))
    return entries


def beyond_baselines(entry: dict[str, Any], state: BucketState, baselines: SpecSet) -> dict[str, Any]:
    """The entry without the keys whose baseline value the bucket already meets (judged by
    the audit's own engine), so that adopting it leaves every baseline in force; each key
    the bucket falls short on stays, stating the bucket as it is, with a comment to review.
    """
    from auditor.engine import bucket_results
    from auditor.spec.build import effective_spec

    merged = effective_spec(baselines, state.name)
    if merged is None:
        return entry
    out = dict(entry)
    for result in bucket_results(merged, state):
        if result.control not in out:
            continue
        if result.status is Status.PASS:
            del out[result.control]
            continue
        where = f"{result.source.file}:{result.source.line}" if result.source else "a baseline"
        ids = "; ".join(f"{name} {', '.join(i)}" for name, i in result.frameworks)
        add_comment(out, f"{result.control}: falls short of the baseline at {where}"
                         f"{f' ({ids})' if ids else ''}: fix the bucket and delete the key, or keep "
                         f"it as an accepted exception and list it under overrides:")
    return out


def _prefer_alias(entry: dict[str, Any], collector: Collector, region: str | None) -> dict[str, Any]:
    """The bucket's KMS key by its alias where it has one (ListAliases): `alias/amply-s3-key`
    says what `arn:aws:kms:...:key/1234abcd-...` does not, and resolves to the same key."""
    encryption = entry.get("encryption")
    key = encryption.get("kms_key") if isinstance(encryption, dict) else None
    if not isinstance(key, str) or "alias/" in key:
        return entry
    aliases = [a for a in collector.key_aliases(key, region) if not a.startswith("alias/aws/")]
    if aliases:
        assert isinstance(encryption, dict)
        encryption["kms_key"] = aliases[0]
        if len(aliases) > 1:
            add_comment(entry, f"encryption: the key also has the aliases {', '.join(aliases[1:])}")
    return entry


def account_label(collector: Collector) -> str:
    """The account id for the file header, or why it is unknown."""
    account = collector.account_id()
    if not isinstance(account, str):
        return f"an unknown account ({account.api} {account.code})"
    return account


def describe_bucket(state: BucketState) -> dict[str, Any]:
    """One spec entry stating every control of the bucket as it is (or why a key is left out)."""
    entry: dict[str, Any] = {"name": state.name}
    ref = Ref(state.name, state.account_id, state.region)
    for c in stated_controls(Scope.BUCKET):
        if c.derive is None:
            continue
        values = [_facet(state, f) for f in c.reads]
        unread = [v for v in values if isinstance(v, Unreadable)]
        if unread:
            add_comment(entry, f"{c.key}: not readable ({unread[0].api} {unread[0].code})")
            continue
        value, comment = c.derive(ref, *values)
        if value is not None:
            entry[c.key] = value
        if comment is not None:
            add_comment(entry, comment)
    return entry


def _facet(state: BucketState, facet: Facet) -> Any:
    if facet is Facet.KMS_KEYS:
        return None  # not read (see LIVE_FACETS); derive never needs the resolution
    if not state.has(facet):
        # The collector reads every facet asked for; a missing one is a bug, never a pass.
        return Unreadable(facet, "(not collected)", "NotCollected", f"{facet.value} was not read")
    return state.facet(facet)
