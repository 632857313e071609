"""Waivers: accepted, expiring exceptions that turn a drift into `waived`.

A waiver applies to drift only. An `error` means the control was not seen, and an
exception for something nobody could see would be a pass in disguise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from fnmatch import fnmatchcase

from auditor.model import Result, Status, Waiver


def matches(waiver: Waiver, result: Result) -> bool:
    """The waiver names this result's control and its bucket (by name or glob)."""
    return (waiver.control == result.control and result.bucket is not None
            and fnmatchcase(result.bucket, waiver.bucket))


def expired(waiver: Waiver, today: date) -> bool:
    """A waiver applies through its `expires` day and stops the day after."""
    return date.fromisoformat(waiver.expires) < today


def apply_waivers(
    results: Iterable[Result], waivers: tuple[Waiver, ...], today: date
) -> tuple[tuple[Result, ...], tuple[Waiver, ...]]:
    """(results with waivers applied, waivers that matched no drift)."""
    used: set[int] = set()
    out = []
    for result in results:
        if result.status is not Status.DRIFT:
            out.append(result)
            continue
        hits = [(i, w) for i, w in enumerate(waivers) if matches(w, result)]
        used.update(i for i, _ in hits)
        live = [w for _, w in hits if not expired(w, today)]
        if live:
            out.append(replace(result, status=Status.WAIVED, waiver=live[0]))
        elif hits:
            w = hits[0][1]
            note = f" (waiver expired on {w.expires}: {w.reason}; owner {w.owner})"
            out.append(replace(result, message=result.message + note, waiver=w))
        else:
            out.append(result)
    unused = tuple(w for i, w in enumerate(waivers) if i not in used)
    return tuple(out), unused
