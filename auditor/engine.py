"""The engine: specs x collected state -> results, and results -> exit code. Pure.

Generic over the control registry: for each control an entry states, the facets it reads
are looked up in the state; an unreadable or missing facet makes the result `error` before
the check runs (a check never sees an unreadable facet), and a check that raises is `error`
too. Nothing here names a control except the two implicit ones, by key.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from auditor.controls import CONTROLS, Control, Ref, control, remediation
from auditor.frameworks import requirement_ids
from auditor.model import (
    Absence,
    AccountState,
    AwsFailure,
    BucketState,
    Facet,
    ObjectQuery,
    PrincipalState,
    Report,
    Result,
    Scope,
    Severity,
    Skip,
    SpecEntry,
    Status,
    Unreadable,
)

EXIT_OK, EXIT_DRIFT, EXIT_BAD_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3


def _stated(entry: SpecEntry) -> Iterator[tuple[Control, Any]]:
    for key, want in entry.wants:
        yield control(key, entry.scope), want


def facets_needed(entry: SpecEntry) -> frozenset[Facet]:
    """Every facet the controls an entry states read."""
    return frozenset(f for c, _ in _stated(entry) for f in c.reads)


def skips(entry: SpecEntry) -> tuple[tuple[Facet, tuple[Skip, ...]], ...]:
    """The facets an entry's controls may leave unread, each with every control's Skip: a
    facet is skipped only when every stated control that reads it lets it go."""
    stated = [c for c, _ in _stated(entry)]
    out = []
    for facet in sorted(facets_needed(entry)):
        readers = [c for c in stated if facet in c.reads]
        found = [next((s for s in c.skips if s.facet is facet), None) for c in readers]
        if found and all(s is not None for s in found):
            out.append((facet, tuple(s for s in found if s is not None)))
    return tuple(out)


def object_queries(entry: SpecEntry) -> tuple[ObjectQuery, ...]:
    """What the objects facet must read for the entry's controls, each once."""
    found = (q for c, want in _stated(entry) if c.object_queries is not None for q in c.object_queries(want))
    return tuple(dict.fromkeys(found))


def kms_refs(entry: SpecEntry) -> tuple[str, ...]:
    """The KMS key references the entry's controls need resolved, in order, each once."""
    refs = (r for c, want in _stated(entry) if c.kms_refs is not None for r in c.kms_refs(want))
    return tuple(dict.fromkeys(refs))


def evaluate(pairs: Iterable[tuple[SpecEntry | None, BucketState]]) -> Iterator[Result]:
    """Results for each (effective spec, state) pair, in order; None spec = unmanaged bucket."""
    for entry, state in pairs:
        yield from bucket_results(entry, state)


def bucket_results(entry: SpecEntry | None, state: BucketState) -> list[Result]:
    """One result per control the entry states; `managed`/`exists` alone when they fail."""
    region = state.region or (entry.want("region") if entry is not None else None)
    ref = Ref(state.name, state.account_id, region if isinstance(region, str) else None)
    if entry is None:
        return [_judge(control("managed"), ref, True, (False,), state, None)]
    if not state.exists:
        return [_judge(control("exists"), ref, True, (state.absence or Absence.MISSING,), state, entry)]
    return [_control(c, ref, want, state, entry) for c, want in _stated(entry)]


def account_results(entry: SpecEntry, state: AccountState) -> list[Result]:
    """One account-scope result per control the account entry states."""
    ref = Ref(state.account_id, state.account_id, None)
    return [_control(c, ref, want, state, entry) for c, want in _stated(entry)]


def principal_results(entry: SpecEntry, state: PrincipalState) -> list[Result]:
    """One principal-scope result per control the principal entry states (subject: the role ARN)."""
    ref = Ref(state.arn, state.account_id, None)
    return [_control(c, ref, want, state, entry) for c, want in _stated(entry)]


State = BucketState | AccountState | PrincipalState


def _control(c: Control, ref: Ref, want: Any, state: State, entry: SpecEntry) -> Result:
    missing = [f for f in c.reads if not state.has(f)]
    unreadable = [v for f in c.reads if state.has(f) and isinstance(v := state.facet(f), Unreadable)]
    if unreadable:
        why = "; ".join(dict.fromkeys(u.describe() for u in unreadable))  # one cause once
        return _result(c, ref, entry, Status.ERROR, want, None, f"Could not evaluate {c.key}: {why}",
                       error=unreadable[0].failure)
    if missing:
        why = "; ".join(f"{f.value} was not collected" for f in missing)
        return _result(c, ref, entry, Status.ERROR, want, None, f"Could not evaluate {c.key}: {why}",
                       error=AwsFailure("(collector)", "NotCollected", why))
    return _judge(c, ref, want, tuple(state.facet(f) for f in c.reads), state, entry)


def _judge(c: Control, ref: Ref, want: Any, facets: tuple[Any, ...],
           state: State, entry: SpecEntry | None) -> Result:
    try:
        outcome = c.check(want, ref, *facets)
    except Exception as exc:
        return _result(c, ref, entry, Status.ERROR, want, None,
                       f"Could not evaluate {c.key}: {type(exc).__name__}: {exc}",
                       error=AwsFailure("(check)", type(exc).__name__, str(exc)))
    if outcome.ok:
        message = f"{c.title}: {_short(outcome.actual)}"
        if outcome.notes:
            message += " (" + "; ".join(outcome.notes) + ")"
        return _result(c, ref, entry, Status.PASS, want, outcome.actual, message)
    message = "; ".join(d.message for d in outcome.differences)
    if outcome.notes:
        message += " (" + "; ".join(outcome.notes) + ")"
    own = [d.remediation for d in outcome.differences if d.remediation]
    fix = own[0] if own else remediation(c, ref, want, facets)
    return _result(c, ref, entry, Status.DRIFT, want, outcome.actual, message, fix,
                   outcome.differences)


def _result(
    c: Control, ref: Ref, entry: SpecEntry | None, status: Status, want: Any, actual: Any,
    message: str, remediation_: str | None = None, differences: tuple[Any, ...] = (),
    error: AwsFailure | None = None,
) -> Result:
    severity = dict(entry.severity).get(c.key, c.severity) if entry else c.severity
    source = (entry.source(c.key) or entry.source("name") or entry.source("match")) if entry else None
    return Result(
        bucket=ref.name if c.scope is Scope.BUCKET else None, control=c.key, status=status,
        severity=severity, rule_id=c.id, expected=want, actual=actual, message=message,
        remediation=remediation_, account=ref.account_id or None,
        region=ref.region if c.scope is Scope.BUCKET else None,
        differences=differences if len(differences) > 1 or _has_path(differences) else (),
        source=source, scope=c.scope, error=error,
        principal=ref.name if c.scope is Scope.PRINCIPAL else None,
        # The framework requirements this check evidences, whatever its verdict.
        frameworks=() if c.implicit else requirement_ids(c.scope, c.key, want),
    )


def run_error(account: str | None, message: str, failure: AwsFailure) -> Result:
    """Account-wide trouble (a role not assumed, a listing that failed): the account's
    `managed` control, which needs the listing, cannot be judged."""
    c = control("managed")
    return Result(
        bucket=None, control=c.key, status=Status.ERROR, severity=c.severity, rule_id=c.id,
        expected=True, actual=None, account=account, message=message, scope=Scope.ACCOUNT,
        error=failure,
    )


def _has_path(differences: tuple[Any, ...]) -> bool:
    return any(d.path for d in differences)


def _short(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "as specified"


def exit_code(report: Report, fail_on: Severity = Severity.LOW) -> int:
    """0 clean, 1 drift at or above fail_on, 3 any error (takes precedence over 1)."""
    if any(r.status is Status.ERROR for r in report.results):
        return EXIT_INCOMPLETE
    if any(r.status is Status.DRIFT and r.severity.rank >= fail_on.rank for r in report.results):
        # waived results have status WAIVED and never fail the run
        return EXIT_DRIFT
    return EXIT_OK


__all__ = ["CONTROLS", "account_results", "bucket_results", "evaluate", "exit_code",
           "facets_needed", "kms_refs", "object_queries", "principal_results", "run_error", "skips"]
