"""One audit run, wired: specs + live listings -> targets -> collectors -> engine -> Report.

A run covers one or more accounts (one Collector each). Bucket names are global, so the
plan places each spec'd bucket in the account that has it; a name no account has is one
`exists` drift.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from auditor import __version__
from auditor.collect import (
    AwsConfig,
    Clients,
    Collector,
    Listing,
    Target,
    collect,
    unreachable_state,
)
from auditor.engine import evaluate, facets_needed
from auditor.run.history import Baseline, apply_baseline
from auditor.model import (
    SPEC_CONTROLS,
    BucketSpec,
    BucketState,
    Report,
    Result,
    SpecSet,
    Status,
    Unreadable,
)
from auditor.rules import by_control
from auditor.spec.build import effective_spec
from auditor.run.waivers import apply_waivers


@dataclass(frozen=True, slots=True)
class Job:
    """One bucket to audit in one account."""

    spec: BucketSpec | None
    target: Target
    collector: Collector


@dataclass(frozen=True, slots=True)
class Shard:
    """Slice `index` (1-based) of `count`: the buckets whose name hashes to it."""

    index: int
    count: int

    def owns(self, name: str) -> bool:
        # crc32, not hash(): the same bucket lands in the same shard on every machine.
        return zlib.crc32(name.encode()) % self.count == self.index - 1


def restrict(spec: BucketSpec, controls: Sequence[str]) -> BucketSpec:
    """The spec with every control not in `controls` left unstated (so neither read nor judged)."""
    if not controls:
        return spec
    unstated: dict[str, Any] = {c: None for c in SPEC_CONTROLS if c not in controls}
    return replace(spec, **unstated)


def _target(spec: BucketSpec | None, name: str, listed: bool | None, region: str | None) -> Target:
    if spec is None:
        return Target(name, listed, region)
    refs = (spec.encryption.kms_key,) if spec.encryption and spec.encryption.kms_key else ()
    return Target(name, listed, region, facets_needed(spec), refs)


def plan(
    specs: SpecSet,
    listings: Sequence[tuple[Collector, Listing]],
    only: Sequence[str] = (),
    controls: Sequence[str] = (),
) -> list[Job]:
    """Which buckets to audit where, and what to read of each."""
    live: dict[str, list[tuple[Collector, str | None]]] = {}
    for collector, listing in listings:
        for name, region in listing.buckets:
            live.setdefault(name, []).append((collector, region))
    failed = [c for c, listing in listings if listing.error is not None]
    named = {b.name for b in specs.buckets if b.name is not None}
    jobs = []
    for name in sorted(set(only) if only else set(live) | named):
        spec = effective_spec(specs, name)
        spec = restrict(spec, controls) if spec is not None else None
        if name in live:
            jobs += [Job(spec, _target(spec, name, True, region), c) for c, region in live[name]]
        elif spec is None:
            continue  # --bucket named something that neither exists nor has a spec
        elif failed:  # an account we could not list may hold it: find out by reading
            jobs += [Job(spec, _target(spec, name, None, None), c) for c in failed]
        else:
            jobs.append(Job(spec, _target(spec, name, False, None), listings[0][0]))
    return jobs


def _states(jobs: list[Job], listings: dict[int, Listing], concurrency: int,
            deadline: float | None) -> Iterator[BucketState]:
    reachable = [j for j in jobs if not listings[id(j.collector)].unreachable]
    read = collect(((j.collector, j.target) for j in reachable), concurrency, deadline)
    for job in jobs:
        listing = listings[id(job.collector)]
        if listing.unreachable and listing.error is not None:
            # Nothing answers at the endpoint: don't spend a retry budget per bucket and facet.
            yield unreachable_state(job.target, listing.error)
        else:
            yield next(read)


def _list_all(collectors: Sequence[Collector]) -> list[tuple[Collector, Listing]]:
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(collectors)))) as pool:
        return list(zip(collectors, pool.map(lambda c: c.list_buckets(), collectors)))


def run_audit(
    specs: SpecSet,
    config: AwsConfig,
    only: Sequence[str] = (),
    concurrency: int = 32,
    collector: Collector | None = None,
    controls: Sequence[str] = (),
    baseline: Baseline | None = None,
    now: datetime | None = None,
    deadline_seconds: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    collectors: Sequence[Collector] = (),
    account_errors: Sequence[Result] = (),
    shard: Shard | None = None,
) -> Report:
    """Audit every bucket the specs and the accounts name; never raises for AWS trouble."""
    started = time.monotonic()
    deadline = None if deadline_seconds is None else started + deadline_seconds
    if not collectors:
        collectors = [collector or Collector(Clients(config))]
    listings = _list_all(collectors)
    jobs = [j for j in plan(specs, listings, only, controls) if shard is None or shard.owns(j.target.name)]
    states = _states(jobs, {id(c): listing for c, listing in listings}, concurrency, deadline)
    if progress is not None:
        states = _counted(states, len(jobs), progress)
    results = list(evaluate(zip((j.spec for j in jobs), states)))
    if shard is None or shard.index == 1:  # run-level errors once, not once per shard
        results[:0] = [*account_errors, *(_listing_error(c, l.error) for c, l in listings if l.error)]
    now = now or datetime.now(UTC)
    waived, unused = apply_waivers(results, specs.waivers, now.date())
    ids = [c.account_id() for c in collectors]
    report = Report(
        generated_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        tool_version=__version__,
        results=waived,
        unused_waivers=unused,
        accounts=tuple(sorted({a for a in ids if isinstance(a, str) and a} | {
            r.account for r in account_errors if r.account})),
        spec_files=specs.files,
        endpoint_url=config.resolved_endpoint(),
        duration_seconds=round(time.monotonic() - started, 3),
        extra=(("shard", f"{shard.index}/{shard.count}"),) if shard else (),
    )
    return apply_baseline(report, baseline)


def _counted(states: Iterator[BucketState], total: int, progress: Callable[[int, int], None]) -> Iterator[BucketState]:
    for done, state in enumerate(states, 1):
        progress(done, total)
        yield state


def account_error(account: str | None, label: str, error: Unreadable) -> Result:
    """An account that could not be opened (assume role failed): an error, not the end of the run."""
    return _run_error(account, f"Could not open account {label}: {error.describe()}")


def _listing_error(collector: Collector, error: Unreadable) -> Result:
    account = collector.account_id()
    return _run_error(
        account if isinstance(account, str) and account else None,
        f"Could not list the account's buckets, so unmanaged buckets cannot be found: {error.describe()}",
    )


def _run_error(account: str | None, message: str) -> Result:
    # Account-wide trouble: the `managed` control (which needs the listing) cannot be judged.
    rule = by_control()["managed"]
    return Result(
        bucket="*", control="managed", status=Status.ERROR, severity=rule.severity,
        rule_id=rule.id, expected=True, actual=None, account=account, message=message,
    )
