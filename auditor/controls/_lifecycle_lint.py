"""Lifecycle rules that S3 would refuse or that contradict themselves (spec-side lint)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any

from auditor.controls.registry import Locator
from auditor.errors import SpecProblem

KeyPath = tuple[str | int, ...]

# S3 moves objects only "down" this waterfall (AWS user guide, "Transitioning objects
# using Amazon S3 Lifecycle", supported transitions).
_CLASS_ORDER = ("STANDARD_IA", "INTELLIGENT_TIERING", "ONEZONE_IA", "GLACIER_IR", "GLACIER",
                "DEEP_ARCHIVE")
_INFREQUENT = ("STANDARD_IA", "ONEZONE_IA")
# S3 refuses IA transitions earlier than 30 days, and a move out of IA within 30 days of
# the move into it (both classes bill a 30-day minimum).
_IA_MIN_DAYS = 30
_MAX_RULES = 1000


def problems(at: Locator, rules: Sequence[Mapping[str, Any]]) -> Iterator[SpecProblem]:
    """Every problem of a schema-valid `lifecycle:` list."""
    if len(rules) > _MAX_RULES:
        yield at.problem(("lifecycle",), f"{len(rules)} lifecycle rules; S3 allows at most "
                                         f"{_MAX_RULES}")
    first_line: dict[str, str] = {}
    for index, rule in enumerate(rules):
        path: KeyPath = ("lifecycle", index)
        rule_id = rule["id"]
        if rule_id in first_line:
            yield at.problem((*path, "id"), f"duplicate lifecycle rule id '{rule_id}' "
                                            f"(first at {first_line[rule_id]})")
        first_line.setdefault(rule_id, f"line {at.position((*path, 'id'))[0]}")
        for check in _RULE_CHECKS:
            yield from check(at, path, rule)


def _filters(at: Locator, path: KeyPath, rule: Mapping[str, Any]) -> Iterator[SpecProblem]:
    greater, less = rule.get("object_size_greater_than"), rule.get("object_size_less_than")
    if greater is not None and less is not None and greater >= less:
        yield at.problem((*path, "object_size_less_than"),
                         f"object_size_less_than ({less}) must be larger than "
                         f"object_size_greater_than ({greater}): no object fits the filter")


def _expiration(at: Locator, path: KeyPath, rule: Mapping[str, Any]) -> Iterator[SpecProblem]:
    # S3 has one Expiration element holding exactly one of Days, Date, ExpiredObjectDeleteMarker.
    stated = [k for k in ("expiration_days", "expiration_date", "expired_object_delete_marker")
              if k in rule]
    if len(stated) > 1:
        later = max(stated, key=lambda k: at.position((*path, k)))
        others = " and ".join(k for k in stated if k != later)
        yield at.problem((*path, later), f"{later} cannot be combined with {others}: an S3 "
                                         "expiration takes only one of them")


def _transitions(at: Locator, path: KeyPath, rule: Mapping[str, Any]) -> Iterator[SpecProblem]:
    transitions = rule.get("transitions", [])
    kinds = {"days" if "days" in t else "date" for t in transitions}
    if len(kinds) > 1:
        yield at.problem((*path, "transitions"), "transitions mix 'days' and 'date'; S3 "
                                                 "requires one kind within a rule")
        return
    field = kinds.pop() if kinds else "days"
    yield from _order(at, (*path, "transitions"), transitions, field)
    expire_key = "expiration_days" if field == "days" else "expiration_date"
    yield from _expires_after(at, path, rule, "transitions", field, expire_key)


def _noncurrent(at: Locator, path: KeyPath, rule: Mapping[str, Any]) -> Iterator[SpecProblem]:
    transitions = rule.get("noncurrent_transitions", [])
    yield from _order(at, (*path, "noncurrent_transitions"), transitions, "days")
    yield from _expires_after(at, path, rule, "noncurrent_transitions", "days",
                              "noncurrent_expiration_days")


def _expires_after(at: Locator, path: KeyPath, rule: Mapping[str, Any], list_key: str,
                   field: str, expire_key: str) -> Iterator[SpecProblem]:
    transitions, expires = rule.get(list_key, []), rule.get(expire_key)
    if not transitions or expires is None:
        return
    last = max(transitions, key=lambda t: t[field])
    if expires <= last[field]:
        yield at.problem((*path, expire_key),
                         f"{expire_key} ({expires}) must come after the last transition "
                         f"({field} {last[field]}, {last['storage_class']})")


def _order(at: Locator, path: KeyPath, transitions: Sequence[Mapping[str, Any]],
           field: str) -> Iterator[SpecProblem]:
    for index, t in enumerate(transitions):
        if field == "days" and t["storage_class"] in _INFREQUENT and t["days"] < _IA_MIN_DAYS:
            yield at.problem((*path, index, "days"),
                             f"a transition to {t['storage_class']} needs days >= "
                             f"{_IA_MIN_DAYS} (S3 refuses earlier ones), not {t['days']}")
    ordered = sorted(enumerate(transitions), key=lambda item: (item[1][field], item[0]))
    for first, second in pairwise(ordered):
        yield from _pair(at, path, field, first, second)


def _pair(at: Locator, path: KeyPath, field: str, first: tuple[int, Any],
          second: tuple[int, Any]) -> Iterator[SpecProblem]:
    (i, a), (j, b) = first, second
    later = max(i, j)  # report on the one written second
    a_class, b_class = a["storage_class"], b["storage_class"]
    if a[field] == b[field]:
        yield at.problem((*path, later, field), f"two transitions on {field} {a[field]} "
                                                f"(items {i} and {j}); S3 needs distinct ones")
    elif a_class == b_class:
        yield at.problem((*path, later, "storage_class"),
                         f"{b_class} is the target of two transitions (items {i} and {j})")
    elif _CLASS_ORDER.index(b_class) < _CLASS_ORDER.index(a_class):
        yield at.problem((*path, j, "storage_class"),
                         f"{b_class} at {field} {b[field]} comes after {a_class} at {field} "
                         f"{a[field]}; S3 only moves objects to a colder class "
                         f"({' -> '.join(_CLASS_ORDER)})")
    elif field == "days" and a_class in _INFREQUENT and b["days"] - a["days"] < _IA_MIN_DAYS:
        yield at.problem((*path, j, "days"),
                         f"the {b_class} transition (days {b['days']}) must come at least "
                         f"{_IA_MIN_DAYS} days after the {a_class} one (days {a['days']})")


_RULE_CHECKS: tuple[Callable[[Locator, KeyPath, Mapping[str, Any]], Iterator[SpecProblem]], ...] = (
    _filters, _expiration, _transitions, _noncurrent,
)
