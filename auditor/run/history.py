"""Run-to-run drift: compare a report with a baseline report, and keep a history directory.

Results are matched across runs by `Result.key` (account/bucket/control). A failing result
(drift, error, waived) is `new` or `persisting` with `first_seen` carried forward from the
baseline; a result that failed in the baseline and passes now is `resolved`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError
from auditor.model import Change, Report, Result, Status

FAILING = frozenset({"drift", "error", "waived"})
HISTORY_NAME = re.compile(r"^drift-report-(\d{8}T\d{6}Z)(?:-(\d+))?\.json$")
LATEST = "latest.json"


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    status: str
    first_seen: str
    message: str


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the comparison needs of a previous report: per result key, its status and age."""

    path: str
    generated_at: str
    entries: Mapping[str, BaselineEntry]


def result_key(item: Mapping[str, Any]) -> str:
    """The `Result.key` of a result read back from a JSON report."""
    from auditor.report.load import result_from_dict

    return result_from_dict(item).key


def load_baseline(path: str | Path) -> Baseline:
    """Read a previous JSON report; refuse anything that is not one."""
    from auditor.report.json_report import validate_report

    try:
        text = Path(path).read_text(encoding="utf-8")
        validate_report(text)
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise AuditorError(f"baseline {path}: {exc}") from exc
    generated = str(data["generated_at"])
    entries = {
        result_key(r): BaselineEntry(r["status"], r.get("first_seen") or generated, r.get("message", ""))
        for r in data["results"]
    }
    return Baseline(str(path), generated, entries)


def change_for(status: str, before: BaselineEntry | None) -> Change | None:
    """new/persisting for a failing result, resolved for a pass that failed before, else None."""
    failed_before = before is not None and before.status in FAILING
    if status == Status.PASS.value:
        return Change.RESOLVED if failed_before else None
    return Change.PERSISTING if failed_before else Change.NEW


def classify(result: Result, baseline: Baseline, now: str) -> Result:
    """The result with `change` and `first_seen` set against the baseline."""
    before = baseline.entries.get(result.key)
    change = change_for(result.status.value, before)
    if change is None or change is Change.RESOLVED:
        return replace(result, change=change)
    first_seen = before.first_seen if change is Change.PERSISTING and before else now
    return replace(result, change=change, first_seen=first_seen)


@dataclass(frozen=True, slots=True)
class DiffLine:
    change: Change
    key: str
    status: str
    before: str | None
    message: str


def diff_reports(old: Baseline, new: Baseline) -> list[DiffLine]:
    """Every result of `new` that is new, persisting or resolved against `old`, sorted by key."""
    lines = []
    for key, entry in sorted(new.entries.items()):
        before = old.entries.get(key)
        change = change_for(entry.status, before)
        if change is not None:
            lines.append(DiffLine(change, key, entry.status, before.status if before else None, entry.message))
    return lines


def apply_baseline(report: Report, baseline: Baseline | None) -> Report:
    """Classify every result of the report against the baseline (a no-op without one)."""
    if baseline is None:
        return report
    results = tuple(classify(r, baseline, report.generated_at) for r in report.results)
    return replace(report, results=results, baseline=baseline.path)


# --------------------------------------------------------------------------- history directory
#
# Several runs may share one directory (overlapping cron jobs, shards, a manual run beside
# the nightly one). Each run's dated report gets a name of its own (a second run in the same
# second takes `-2`, created with a hard link, which never replaces a file), and latest.json
# and pruning happen under an advisory lock on the directory; pruning tolerates files that
# another run removed first. No run's report is ever written over by another's.


def history_file(directory: Path, generated_at: str, sequence: int = 1) -> Path:
    """The dated file name of a run's JSON report in the history directory."""
    stamp = generated_at.replace("-", "").replace(":", "")
    suffix = "" if sequence == 1 else f"-{sequence}"
    return directory / f"drift-report-{stamp}{suffix}.json"


def _order(path: Path) -> tuple[str, int]:
    match = HISTORY_NAME.match(path.name)
    assert match is not None
    return match.group(1), int(match.group(2) or 1)


def dated_reports(directory: Path) -> list[Path]:
    """The dated reports of the directory, oldest first (by time, then by arrival)."""
    try:
        names = [p for p in directory.iterdir() if HISTORY_NAME.match(p.name)]
    except OSError:
        return []
    return sorted(names, key=_order)


def previous_reports(directory: Path, before: str | None = None) -> list[Path]:
    """The dated reports (earlier than `before`, when given), newest first."""
    dated = dated_reports(directory)
    if before is not None:
        cutoff = before.replace("-", "").replace(":", "")
        dated = [p for p in dated if _order(p)[0] < cutoff]
    return dated[::-1]


def previous_report(directory: Path, before: str | None = None) -> Path | None:
    """The newest dated report in the directory (earlier than `before`, when given)."""
    found = previous_reports(directory, before)
    return found[0] if found else None


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest dated reports; returns what was deleted. A file that
    is already gone (another run pruned it) is not an error."""
    dated = dated_reports(directory)
    doomed = dated[:-keep] if keep > 0 else []
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """An exclusive advisory lock (flock) on the directory itself: no lock file to leave."""
    try:
        import fcntl
    except ImportError:  # not POSIX: unique names still keep every run's report
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def keep(report: Report, directory: Path, keep_count: int) -> Path:
    """Add the run's report to the history directory (a dated file, latest.json) and prune;
    returns the dated file."""
    from auditor.files import write_atomic, write_new
    from auditor.report import json_report

    text = json_report.render(report)
    directory.mkdir(parents=True, exist_ok=True)
    names = (history_file(directory, report.generated_at, n) for n in itertools.count(1))
    dated = write_new(directory, names, text)
    with locked(directory):
        newest = previous_report(directory)
        # latest.json is the newest run's report, which an overlapping run may have written.
        latest = text if newest is None or newest == dated else _read_or(newest, text)
        write_atomic(directory / LATEST, latest)
        prune(directory, keep_count)
    return dated


def _read_or(path: Path, default: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return default
