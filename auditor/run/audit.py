"""One audit run, wired: specs + live listings -> targets -> collectors -> engine -> Report.

A run covers one or more accounts (one Collector each). Never raises for AWS trouble: what
could not be read is an `error` result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

from auditor import __version__
from auditor.collect import Clients, Collector, Listing, collect, unreachable_state
from auditor.collect.accounts import AccountFailure, open_accounts
from auditor.engine import account_results, evaluate, facets_needed, principal_results, run_error
from auditor.model import (
    AwsFailure,
    BucketState,
    Facet,
    PrincipalState,
    Report,
    Result,
    Scope,
    SpecSet,
    Unreadable,
)
from auditor.run.history import Baseline, apply_baseline, load_baseline, previous_report
from auditor.run.options import AuditOptions
from auditor.run.plan import Job, plan, restrict
from auditor.run.waivers import apply_waivers
from auditor.spec.build import effective_spec

Progress = Callable[[int, int], None]


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


def open_collectors(options: AuditOptions) -> tuple[list[Collector], list[Result]]:
    """A collector per account of the run, and an account-scope error per account not opened."""
    a = options.accounts
    many = a.profiles if len(a.profiles) > 1 else ()
    config = options.aws
    if len(a.profiles) == 1:
        config = replace(config, profile=a.profiles[0])
    clients, failures = open_accounts(config, many, a.roles, a.org_role, a.session_name)
    return [Collector(c) for c in clients], [account_error(f) for f in failures]


def baseline_for(options: AuditOptions) -> Baseline | None:
    """The given --baseline, else the newest earlier report in --history; AuditorError if unreadable."""
    path = options.baseline
    if path is None and options.history is not None:
        before = options.now.strftime("%Y-%m-%dT%H:%M:%SZ") if options.now else None
        path = previous_report(options.history, before)
    return load_baseline(path) if path is not None else None


def run_audit(
    options: AuditOptions,
    specs: SpecSet,
    collectors: Sequence[Collector] | None = None,
    progress: Progress | None = None,
    baseline: Baseline | None = None,
) -> Report:
    """Audit every bucket and account the specs and the accounts name."""
    started = time.monotonic()
    deadline = None if options.deadline is None else started + options.deadline
    account_errors: list[Result] = []
    if collectors is None:
        collectors, account_errors = open_collectors(options)
    if not collectors:
        collectors = [Collector(Clients(options.aws))]
    listings = _list_all(collectors)
    shard = options.shard
    jobs = [j for j in plan(specs, listings, options.buckets, options.controls)
            if shard is None or shard.owns(j.target.name)]
    states = _states(jobs, {id(c): listing for c, listing in listings}, options.concurrency, deadline)
    if progress is not None:
        states = _counted(states, len(jobs), progress)
    results = list(evaluate(zip((j.spec for j in jobs), states)))
    if shard is None or shard.first:  # account-level results once, not once per shard
        results[:0] = [*account_errors, *(_listing_error(c, listing.error) for c, listing in listings if listing.error),
                       *_account_results(specs, collectors, options.controls),
                       *([] if options.buckets else _principal_results(specs, collectors, options.controls))]
    now = (options.now.replace(tzinfo=UTC) if options.now else None) or datetime.now(UTC)
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
        endpoint_url=options.aws.resolved_endpoint(),
        duration_seconds=round(time.monotonic() - started, 3),
        extra=(("shard", f"{shard.index}/{shard.count}"),) if shard else (),
    )
    return apply_baseline(report, baseline)


def _account_results(specs: SpecSet, collectors: Sequence[Collector],
                     controls: Sequence[str]) -> list[Result]:
    """Account-scope results for every opened account an `accounts:` entry applies to."""
    out: list[Result] = []
    for collector in collectors:
        account = collector.account_id()
        if not isinstance(account, str) or not account:
            continue  # the account could not be identified: its listing error says so
        entry = effective_spec(specs, account, Scope.ACCOUNT)
        if entry is None:
            continue
        entry = restrict(entry, controls)
        out += account_results(entry, collector.account(facets_needed(entry)))
    return out


def role_name(role: str) -> tuple[str, str | None]:
    """A spec's `role:` as (role name, the account an ARN pins it to, or None)."""
    if not role.startswith("arn:"):
        return role, None
    return role.rsplit("/", 1)[-1], role.split(":")[4]


def _principal_results(specs: SpecSet, collectors: Sequence[Collector],
                       controls: Sequence[str]) -> list[Result]:
    """Principal-scope results. A role given by ARN is judged in its account; one given by name,
    like a bucket, in each opened account that holds it, and is one drift when none does.
    (Not with --bucket: a run narrowed to some buckets judges no roles.)"""
    out: list[Result] = []
    opened = {a: c for c in collectors if isinstance(a := c.account_id(), str) and a}
    for spec in specs.principals:
        entry = restrict(spec, controls)
        if not entry.wants or entry.name is None:
            continue
        name, pinned = role_name(entry.name)
        if pinned is not None and pinned not in opened:
            why = f"account {pinned} of role {entry.name} is not one of the accounts this run audits"
            failed = Unreadable(Facet.ROLE, "(run)", "AccountNotAudited", why)
            state = PrincipalState(name, pinned, entry.name, tuple((f, failed) for f in facets_needed(entry)))
            out += principal_results(entry, state)
            continue
        states = [c.principal(name, facets_needed(entry)) for a, c in opened.items()
                  if pinned is None or pinned == a]
        held = [s for s in states if not s.has(Facet.ROLE) or s.facet(Facet.ROLE) is not None]
        for state in held or states[:1]:  # nowhere to be found: one "does not exist" drift
            out += principal_results(entry, state)
    return out


def _counted(states: Iterator[BucketState], total: int, progress: Progress) -> Iterator[BucketState]:
    for done, state in enumerate(states, 1):
        progress(done, total)
        yield state


def account_error(failure: AccountFailure) -> Result:
    """An account that could not be opened (assume role failed): an error, not the end of the run."""
    return run_error(failure.account, f"Could not open account {failure.label}: "
                                      f"{failure.error.describe()}", failure.error)


def _listing_error(collector: Collector, error: AwsFailure) -> Result:
    account = collector.account_id()
    return run_error(
        account if isinstance(account, str) and account else None,
        f"Could not list the account's buckets, so unmanaged buckets cannot be found: "
        f"{error.describe()}", error,
    )
