"""The engine: specs x collected state -> results, and results -> exit code. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from auditor.model import (
    BucketSpec,
    BucketState,
    Facet,
    Report,
    Result,
    Severity,
    Status,
    Unreadable,
)
from auditor.rules import BucketRef, Rule, by_control

EXIT_OK, EXIT_DRIFT, EXIT_BAD_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3


def facets_needed(spec: BucketSpec) -> frozenset[Facet]:
    """Every facet the rules of the spec's stated controls read."""
    rules = by_control()
    return frozenset(f for control in spec.stated_controls() for f in rules[control].reads)


def evaluate(pairs: Iterable[tuple[BucketSpec | None, BucketState]]) -> Iterator[Result]:
    """Results for each (effective spec, state) pair, in order; None spec = unmanaged bucket."""
    for spec, state in pairs:
        yield from bucket_results(spec, state)


def bucket_results(spec: BucketSpec | None, state: BucketState) -> list[Result]:
    """One result per control the spec states; `managed`/`exists` alone when they fail."""
    rules = by_control()
    ref = BucketRef(state.name, state.account_id, state.region)
    if spec is None:
        return [_judge(rules["managed"], ref, True, (False,), state)]
    if not state.exists:
        return [_judge(rules["exists"], ref, True, (False,), state, spec)]
    return [_control(rules[c], ref, getattr(spec, c), state, spec) for c in spec.stated_controls()]


def _control(rule: Rule, ref: BucketRef, want: Any, state: BucketState, spec: BucketSpec) -> Result:
    missing = [f for f in rule.reads if not state.has(f)]
    unreadable = [v for f in rule.reads if state.has(f) and isinstance(v := state.facet(f), Unreadable)]
    if missing or unreadable:
        why = [u.describe() for u in unreadable] + [f"{f.value} was not collected" for f in missing]
        return _result(rule, ref, state, spec, Status.ERROR, want, None,
                       f"Could not evaluate {rule.control}: " + "; ".join(why))
    return _judge(rule, ref, want, tuple(state.facet(f) for f in rule.reads), state, spec)


def _judge(
    rule: Rule, ref: BucketRef, want: Any, facets: tuple[Any, ...], state: BucketState,
    spec: BucketSpec | None = None,
) -> Result:
    try:
        outcome = rule.check(want, ref, *facets)
    except Exception as exc:  # noqa: BLE001 - fail closed: a rule that cannot decide is an error
        return _result(rule, ref, state, spec, Status.ERROR, want, None,
                       f"Could not evaluate {rule.control}: {type(exc).__name__}: {exc}")
    if outcome.ok:
        return _result(rule, ref, state, spec, Status.PASS, want, outcome.actual,
                       f"{rule.title}: {_short(outcome.actual)}")
    message = "; ".join(d.message for d in outcome.differences)
    if outcome.notes:
        message += " (" + "; ".join(outcome.notes) + ")"
    own = [d.remediation for d in outcome.differences if d.remediation]
    fix = own[0] if own else rule.remediation_for(ref, want, facets)
    return _result(rule, ref, state, spec, Status.DRIFT, want, outcome.actual, message, fix,
                   outcome.differences)


def _result(
    rule: Rule, ref: BucketRef, state: BucketState, spec: BucketSpec | None, status: Status,
    want: Any, actual: Any, message: str, remediation: str | None = None,
    differences: tuple[Any, ...] = (),
) -> Result:
    severity = dict(spec.severity).get(rule.control, rule.severity) if spec else rule.severity
    return Result(
        bucket=ref.name, control=rule.control, status=status, severity=severity,
        rule_id=rule.id, expected=want, actual=actual, message=message,
        remediation=remediation, account=state.account_id or None, region=state.region,
        differences=differences if len(differences) > 1 or _has_path(differences) else (),
        source=spec.source(rule.control) or spec.source("name") if spec else None,
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
