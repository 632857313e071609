"""One audit run, wired: specs + live listing -> targets -> collector -> engine -> Report."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timezone

from auditor import __version__
from auditor.collect import AwsConfig, Clients, Collector, Listing, Target, collect, unreachable_state
from auditor.engine import evaluate, facets_needed
from auditor.history import Baseline, apply_baseline
from auditor.model import SPEC_CONTROLS, BucketSpec, BucketState, Report, Result, SpecSet, Status, Unreadable
from auditor.rules import by_control
from auditor.spec.build import effective_spec
from auditor.waivers import apply_waivers


def restrict(spec: BucketSpec, controls: Sequence[str]) -> BucketSpec:
    """The spec with every control not in `controls` left unstated (so neither read nor judged)."""
    if not controls:
        return spec
    return replace(spec, **{c: None for c in SPEC_CONTROLS if c not in controls})


def plan(
    specs: SpecSet, listing: Listing, only: Sequence[str] = (), controls: Sequence[str] = ()
) -> list[tuple[BucketSpec | None, Target]]:
    """Which buckets to audit and what to read of each: live buckets and every exact spec name."""
    live = dict(listing.buckets)
    named = [b.name for b in specs.buckets if b.name is not None]
    names = sorted(set(only) if only else set(live) | set(named))
    out = []
    for name in names:
        spec = effective_spec(specs, name)
        spec = restrict(spec, controls) if spec is not None else None
        listed = None if listing.error else name in live
        if spec is None:
            if listed is False:
                continue  # --bucket named something that neither exists nor has a spec
            out.append((None, Target(name, listed, live.get(name))))
            continue
        refs = (spec.encryption.kms_key,) if spec.encryption and spec.encryption.kms_key else ()
        out.append((spec, Target(name, listed, live.get(name), facets_needed(spec), refs)))
    return out


def run_audit(
    specs: SpecSet,
    config: AwsConfig,
    only: Sequence[str] = (),
    concurrency: int = 8,
    collector: Collector | None = None,
    controls: Sequence[str] = (),
    baseline: Baseline | None = None,
    now: datetime | None = None,
    deadline_seconds: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Audit every bucket the specs and the account name; never raises for AWS trouble."""
    started = time.monotonic()
    deadline = None if deadline_seconds is None else started + deadline_seconds
    collector = collector or Collector(Clients(config))
    listing = collector.list_buckets()
    pairs = plan(specs, listing, only, controls)
    if listing.unreachable and listing.error is not None:
        # Nothing answers at the endpoint: don't spend a retry budget per bucket and facet.
        states: Iterator[BucketState] = (unreachable_state(t, listing.error) for _, t in pairs)
    else:
        states = collect(collector, (t for _, t in pairs), concurrency, deadline)
    if progress is not None:
        states = _counted(states, len(pairs), progress)
    results = list(evaluate(zip((s for s, _ in pairs), states)))
    if listing.error is not None:
        results.insert(0, _listing_error(listing.error))
    account = collector.account_id()
    now = now or datetime.now(timezone.utc)
    waived, unused = apply_waivers(results, specs.waivers, now.date())
    report = Report(
        generated_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        tool_version=__version__,
        results=waived,
        unused_waivers=unused,
        accounts=(account,) if isinstance(account, str) and account else (),
        spec_files=specs.files,
        endpoint_url=config.resolved_endpoint(),
        duration_seconds=round(time.monotonic() - started, 3),
    )
    return apply_baseline(report, baseline)


def _counted(states: Iterator[BucketState], total: int, progress: Callable[[int, int], None]) -> Iterator[BucketState]:
    for done, state in enumerate(states, 1):
        progress(done, total)
        yield state


def _listing_error(error: Unreadable) -> Result:
    rule = by_control()["managed"]
    return Result(
        bucket="*", control="managed", status=Status.ERROR, severity=rule.severity,
        rule_id=rule.id, expected=True, actual=None,
        message=f"Could not list the account's buckets, so unmanaged buckets cannot be found: "
        f"{error.describe()}",
    )
