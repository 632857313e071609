"""One audit run, wired: specs + live listings -> targets -> collectors -> engine -> Report.

A run covers one or more accounts (one Collector each). Never raises for AWS trouble: what
could not be read is an `error` result.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from auditor import __version__
from auditor.causes import DEADLINE_EXCEEDED, INTERRUPTED, Kind, account_wide, kind
from auditor.collect import Clients, Collector, Listing, Target, collect
from auditor.collect.accounts import AccountFailure, open_accounts
from auditor.engine import account_results, evaluate, facets_needed, principal_results, run_error
from auditor.errors import AuditorError
from auditor.model import (
    AccountState,
    AwsFailure,
    BucketState,
    Facet,
    PrincipalState,
    Report,
    Result,
    Scope,
    SpecEntry,
    SpecSet,
    Unreadable,
)
from auditor.run.history import Baseline, apply_baseline, load_baseline, previous_reports
from auditor.run.options import AuditOptions
from auditor.run.plan import Job, plan, restrict
from auditor.run.state import SavedRun, StateWriter, load_state
from auditor.run.waivers import apply_waivers
from auditor.spec.build import effective_spec

Progress = Callable[[int, int], None]


_CREDENTIAL_KINDS = frozenset({Kind.CREDENTIALS_MISSING, Kind.CREDENTIALS_REJECTED})


def _states(jobs: list[Job], listings: dict[int, Listing], concurrency: int,
            limits: Limits) -> Iterator[BucketState]:
    blocked = {i for i, listing in listings.items() if account_wide(listing.error)}
    readable = ((j.collector, j.target) for j in jobs if id(j.collector) not in blocked)
    read = collect(readable, concurrency, limits.deadline, stop=limits.stop)
    for job in jobs:
        listing = listings[id(job.collector)]
        if id(job.collector) in blocked and listing.error is not None:
            # No credentials, credentials refused, nothing answering: every read of this
            # account would fail the same way, so none is made (no retry budget per facet).
            yield unread_state(job.target, listing.error)
        else:
            yield _labelled(next(read), job.collector)


def unread_state(target: Target, error: AwsFailure) -> BucketState:
    """Every facet of the target unread for one account-wide reason."""
    facets = tuple((f, _unreadable(f, error)) for f in sorted(target.facets))
    return BucketState(target.name, "", target.region, target.listed is not False, facets)


def _unreadable(facet: Facet, error: AwsFailure) -> Unreadable:
    return Unreadable(facet, error.api, error.code, error.message, error.credentials)


def _labelled(state: BucketState, collector: Collector) -> BucketState:
    """Credentials refused in the middle of a run (a token expiring) say whose they were."""
    if not any(isinstance(v, Unreadable) and kind(v.code) in _CREDENTIAL_KINDS and not v.credentials
               for _, v in state.facets):
        return state
    label = collector.clients.credentials_label()
    facets = tuple((f, replace(v, credentials=label) if isinstance(v, Unreadable)
                    and kind(v.code) in _CREDENTIAL_KINDS else v) for f, v in state.facets)
    return replace(state, facets=facets)


@dataclass(frozen=True, slots=True)
class Limits:
    """When the run stops reading: at its deadline (a time.monotonic() value) or on `stop`."""

    deadline: float | None = None
    stop: threading.Event | None = None

    def reached(self) -> str | None:
        """The error code of the limit reached (Interrupted, DeadlineExceeded), or None."""
        if self.stop is not None and self.stop.is_set():
            return INTERRUPTED
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return DEADLINE_EXCEEDED
        return None

    @property
    def bounded(self) -> bool:
        return self.deadline is not None or self.stop is not None


_UNLISTED = {INTERRUPTED: "the run was interrupted before the account's buckets were listed",
             DEADLINE_EXCEEDED: "the run's deadline passed before the account's buckets were listed"}


def _list_all(collectors: Sequence[Collector], limits: Limits) -> list[tuple[Collector, Listing]]:
    pool = ThreadPoolExecutor(max_workers=max(1, min(8, len(collectors))))
    try:
        futures = [pool.submit(c.list_buckets) for c in collectors]
        return [(c, _labelled_listing(c, _listing(f, limits))) for c, f in zip(collectors, futures)]
    finally:
        pool.shutdown(wait=limits.reached() is None, cancel_futures=True)


def _listing(future: Future[Listing], limits: Limits) -> Listing:
    """The listing, or an error once the run's limit is reached (a silent endpoint, a signal)."""
    while limits.bounded and not future.done():
        if (code := limits.reached()) is not None:
            return Listing(error=AwsFailure("ListBuckets", code, _UNLISTED[code]))
        try:
            return future.result(timeout=0.25)
        except FutureTimeout:
            continue
    return future.result()


def _labelled_listing(collector: Collector, listing: Listing) -> Listing:
    error = listing.error
    if error is None or kind(error.code) not in _CREDENTIAL_KINDS or error.credentials:
        return listing
    return replace(listing, error=replace(error, credentials=collector.clients.credentials_label()))


def _opened(options: AuditOptions, collectors: Sequence[Collector] | None, state: SavedRun | None,
            ) -> tuple[list[Collector], list[AccountFailure], dict[str, Any] | None]:
    """The run's collectors: given, from a saved state (--from-state: no AWS access), or opened."""
    if state is not None or options.from_state is not None:
        run = state or load_state(options.from_state)  # type: ignore[arg-type]
        return list[Collector](run.collectors), run.failures, run.meta
    if collectors is not None:
        return list(collectors), [], None
    found, failures = _open(options)
    return found, failures, None


def _open(options: AuditOptions) -> tuple[list[Collector], list[AccountFailure]]:
    a = options.accounts
    many = a.profiles if len(a.profiles) > 1 else ()
    config = options.aws
    if len(a.profiles) == 1:
        config = replace(config, profile=a.profiles[0])
    clients, failures = open_accounts(config, many, a.roles, a.org_role, a.session_name)
    return [Collector(c) for c in clients], list(failures)


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
    if options.baseline is not None:
        return load_baseline(options.baseline)
    if options.history is None:
        return None
    before = options.now.strftime("%Y-%m-%dT%H:%M:%SZ") if options.now else None
    for path in previous_reports(options.history, before):
        try:
            return load_baseline(path)
        except AuditorError:
            if path.exists():
                raise
            # pruned by an overlapping run between listing and reading: take the next one
    return None


def run_audit(
    options: AuditOptions,
    specs: SpecSet,
    collectors: Sequence[Collector] | None = None,
    progress: Progress | None = None,
    baseline: Baseline | None = None,
    stop: threading.Event | None = None,
    state: SavedRun | None = None,
) -> Report:
    """Audit every bucket and account the specs and the accounts name.

    Once `stop` is set (a signal), nothing more is read: what was not read yet is `error`
    ("Interrupted") and the report is still returned. InvocationError when a --bucket
    pattern matches no bucket. `state`: a --from-state file, loaded (no AWS access).
    """
    started = time.monotonic()
    deadline = None if options.deadline is None else started + options.deadline
    collectors, failures, saved = _opened(options, collectors, state)
    account_errors = [account_error(f) for f in failures]
    if not collectors:
        collectors = [Collector(Clients(options.aws))]
    writer = StateWriter(options.save_state) if options.save_state is not None else None
    try:
        now = (options.now.replace(tzinfo=UTC) if options.now else None) or (
            datetime.strptime(str(saved["generated_at"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            if saved else datetime.now(UTC))
        report = _audit(options, specs, collectors, account_errors, Limits(deadline, stop), progress,
                        writer, now)
        report = _as_saved(report, saved, started)
        if writer is not None:
            writer.close(collectors, failures, {"generated_at": report.generated_at, "endpoint_url":
                                                report.endpoint_url, "duration_seconds": report.duration_seconds})
    except BaseException:
        if writer is not None:
            writer.abandon()
        raise
    return apply_baseline(report, baseline)


def _audit(options: AuditOptions, specs: SpecSet, collectors: list[Collector], account_errors: list[Result],
           limits: Limits, progress: Progress | None, writer: StateWriter | None, now: datetime) -> Report:
    for collector in collectors:
        collector.deadline = limits.deadline
        if writer is not None:
            collector.record = functools.partial(writer.state, collector)
    listings = _list_all(collectors, limits)
    shard = options.shard
    jobs = [j for j in plan(specs, listings, options.buckets, options.controls)
            if shard is None or shard.owns(j.target.name)]
    by_collector = {id(c): listing for c, listing in listings}
    states = _states(jobs, by_collector, options.concurrency, limits)
    if writer is not None:
        for c, listing in listings:
            writer.listing(c, listing)
        states = _saving(states, jobs, writer)
    if progress is not None:
        states = _counted(states, len(jobs), progress)
    results = list(evaluate(zip((j.spec for j in jobs), states)))
    if shard is None or shard.first:  # account-level results once, not once per shard
        results[:0] = [*account_errors, *_run_level(options, specs, listings, limits)]
    waived, unused = apply_waivers(results, specs.waivers, now.date())
    ids = [c.account_id() if not _skipped(by_collector[id(c)], limits) else c.known_account_id()
           for c in collectors]
    return Report(
        generated_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        tool_version=__version__,
        results=waived,
        unused_waivers=unused,
        accounts=tuple(sorted({a for a in ids if isinstance(a, str) and a} | {
            r.account for r in account_errors if r.account})),
        spec_files=specs.files,
        endpoint_url=options.aws.resolved_endpoint(),
        duration_seconds=0.0,  # set by the caller, who started the clock
        extra=(("shard", f"{shard.index}/{shard.count}"),) if shard else (),
    )


def _as_saved(report: Report, saved: dict[str, Any] | None, started: float) -> Report:
    """A saved run's report keeps its own endpoint and duration (an exact replay)."""
    if saved is None:
        return replace(report, duration_seconds=round(time.monotonic() - started, 3))
    return replace(report, endpoint_url=saved["endpoint_url"], duration_seconds=saved["duration_seconds"])


def _saving(states: Iterator[BucketState], jobs: list[Job], writer: StateWriter) -> Iterator[BucketState]:
    for job, state in zip(jobs, states):
        writer.bucket(job.collector, state)
        yield state


def _run_level(options: AuditOptions, specs: SpecSet, listings: list[tuple[Collector, Listing]],
               limits: Limits) -> list[Result]:
    """Listing failures, then account- and principal-scope results (no roles with --bucket)."""
    collectors = [c for c, _ in listings]
    by_collector = {id(c): listing for c, listing in listings}
    return [*(_listing_error(c, listing, limits) for c, listing in listings if listing.error),
            *_account_results(specs, collectors, options.controls, by_collector, limits),
            *([] if options.buckets else _principal_results(specs, collectors, options.controls,
                                                             by_collector, limits))]


def _skipped(listing: Listing, limits: Limits) -> bool:
    return account_wide(listing.error) or limits.reached() is not None


def _account_results(specs: SpecSet, collectors: Sequence[Collector], controls: Sequence[str],
                     listings: dict[int, Listing], limits: Limits) -> list[Result]:
    """Account-scope results for every opened account an `accounts:` entry applies to."""
    out: list[Result] = []
    for collector in collectors:
        listing = listings[id(collector)]
        if _skipped(listing, limits):
            out += _unread_account(specs, collector, controls, listing, limits)
            continue
        account = collector.account_id()
        if not isinstance(account, str) or not account:
            continue  # the account could not be identified: its listing error says so
        entry = effective_spec(specs, account, Scope.ACCOUNT)
        if entry is None:
            continue
        entry = restrict(entry, controls)
        out += account_results(entry, collector.account(facets_needed(entry)))
    return out


def _why_unread(listing: Listing, limits: Limits) -> AwsFailure:
    """Why an account is read no further: its account-wide failure, or the run's limit."""
    if account_wide(listing.error) and listing.error is not None:
        return listing.error
    code = limits.reached() or INTERRUPTED
    return AwsFailure("(run)", code, _UNLISTED[code].replace("buckets were listed", "settings were read"))


def _unread_account(specs: SpecSet, collector: Collector, controls: Sequence[str],
                    listing: Listing, limits: Limits) -> list[Result]:
    """The account entry's controls as errors, read no further (blocked, interrupted, late)."""
    account = collector.known_account_id()
    entry = effective_spec(specs, account, Scope.ACCOUNT) if account else None
    if account is None or entry is None:
        return []  # an account not identified: its listing error says why
    entry = restrict(entry, controls)
    error = _why_unread(listing, limits)
    facets = tuple((f, _unreadable(f, error)) for f in sorted(facets_needed(entry)))
    return account_results(entry, AccountState(account, facets))


def role_name(role: str) -> tuple[str, str | None]:
    """A spec's `role:` as (role name, the account an ARN pins it to, or None)."""
    if not role.startswith("arn:"):
        return role, None
    return role.rsplit("/", 1)[-1], role.split(":")[4]


def _principal_results(specs: SpecSet, collectors: Sequence[Collector], controls: Sequence[str],
                       listings: dict[int, Listing], limits: Limits) -> list[Result]:
    """Principal-scope results. A role given by ARN is judged in its account; one given by name,
    like a bucket, in each opened account that holds it, and is one drift when none does.
    (Not with --bucket: a run narrowed to some buckets judges no roles.)"""
    out: list[Result] = []
    unread = [c for c in collectors if _skipped(listings[id(c)], limits)]
    opened = {a: c for c in collectors if c not in unread and isinstance(a := c.account_id(), str) and a}
    for spec in specs.principals:
        entry = restrict(spec, controls)
        if entry.wants and entry.name is not None:
            out += _principal(entry, entry.name, opened, [(c, listings[id(c)]) for c in unread], limits)
    return out


def _principal(entry: SpecEntry, role: str, opened: dict[str, Collector],
               unread: list[tuple[Collector, Listing]], limits: Limits) -> list[Result]:
    """One principal entry's results. A role that may be in an account read no further (no
    credentials, interrupted) is an error there, never "does not exist"."""
    name, pinned = role_name(role)
    blocked = [] if pinned in opened else [
        listing for c, listing in unread if pinned is None or c.known_account_id() in (pinned, None)]
    if pinned is not None and pinned not in opened and not blocked:
        why = f"account {pinned} of role {role} is not one of the accounts this run audits"
        failed = Unreadable(Facet.ROLE, "(run)", "AccountNotAudited", why)
        return principal_results(entry, PrincipalState(name, pinned, role, tuple(
            (f, failed) for f in facets_needed(entry))))
    states = [c.principal(name, facets_needed(entry)) for a, c in opened.items() if pinned is None or pinned == a]
    held = [s for s in states if not s.has(Facet.ROLE) or s.facet(Facet.ROLE) is not None]
    if not held and blocked:
        error = _why_unread(blocked[0], limits)
        return principal_results(entry, PrincipalState(name, pinned or "", role, tuple(
            (f, _unreadable(f, error)) for f in facets_needed(entry))))
    # nowhere to be found: one "does not exist" drift
    return [r for state in held or states[:1] for r in principal_results(entry, state)]


def _counted(states: Iterator[BucketState], total: int, progress: Progress) -> Iterator[BucketState]:
    for done, state in enumerate(states, 1):
        progress(done, total)
        yield state


def account_error(failure: AccountFailure) -> Result:
    """An account that could not be opened (assume role failed): an error, not the end of the run."""
    return run_error(failure.account, f"Could not open account {failure.label}: "
                                      f"{failure.error.describe()}", failure.error)


def _listing_error(collector: Collector, listing: Listing, limits: Limits) -> Result:
    error = listing.error
    assert error is not None
    # Past a limit, or with the account blocked, only an id already known: asking STS now
    # could wait on the very endpoint that failed.
    account = collector.known_account_id() if _skipped(listing, limits) else collector.account_id()
    return run_error(
        account if isinstance(account, str) and account else None,
        f"Could not list the account's buckets, so unmanaged buckets cannot be found: "
        f"{error.describe()}", error,
    )
