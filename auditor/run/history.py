"""Run-to-run drift: compare a report with a baseline report, and keep a history directory.

Results are matched across runs by `Result.key` (account/bucket/control). A failing result
(drift, error, waived) is `new` or `persisting` with `first_seen` carried forward from the
baseline; a result that failed in the baseline and passes now is `resolved`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError
from auditor.model import Change, Report, Result, Status

FAILING = frozenset({"drift", "error", "waived"})
HISTORY_NAME = re.compile(r"^drift-report-(\d{8}T\d{6}Z)\.json$")
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


def history_file(directory: Path, generated_at: str) -> Path:
    """The dated file name of a run's JSON report in the history directory."""
    stamp = generated_at.replace("-", "").replace(":", "")
    return directory / f"drift-report-{stamp}.json"


def previous_report(directory: Path, before: str | None = None) -> Path | None:
    """The newest dated report in the directory (earlier than `before`, when given)."""
    if not directory.is_dir():
        return None
    dated = sorted(
        (m.group(1), p) for p in directory.iterdir() if (m := HISTORY_NAME.match(p.name))
    )
    if before is not None:
        cutoff = before.replace("-", "").replace(":", "")
        dated = [(stamp, p) for stamp, p in dated if stamp < cutoff]
    return dated[-1][1] if dated else None


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest dated reports; returns what was deleted."""
    dated = sorted(p for p in directory.iterdir() if HISTORY_NAME.match(p.name))
    doomed = dated[:-keep] if keep > 0 else []
    for path in doomed:
        path.unlink()
    return doomed


def _pieces(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        while piece := handle.read(1 << 20):
            yield piece


def keep(report: Report, directory: Path, keep_count: int) -> None:
    """Write the run's report into the history directory (dated and latest.json) and prune."""
    from auditor.files import write_atomic
    from auditor.report import json_report

    dated = history_file(directory, report.generated_at)
    write_atomic(dated, json_report.chunks(report))  # streamed: flat memory for large runs
    write_atomic(directory / LATEST, _pieces(dated))
    prune(directory, keep_count)
