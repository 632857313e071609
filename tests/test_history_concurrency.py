"""Overlapping runs on one --history directory: every run's report is kept under a name of its
own, latest.json is the newest run's, pruning beside another run never fails, and a baseline
pruned away between listing and reading is replaced by the next one."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from auditor.model import Report
from auditor.report import json_report
from auditor.run.audit import baseline_for
from auditor.run.history import dated_reports, history_file, keep, prune
from auditor.run.options import AuditOptions


def _report(generated_at: str, tag: str) -> Report:
    return Report(generated_at, "0.1.0", (), extra=(("tag", tag),))


def _tag(path: Path) -> str:
    return str(json.loads(path.read_text())["run"]["tag"])


def test_runs_in_the_same_second_each_keep_their_report(tmp_path: Path) -> None:
    barrier = threading.Barrier(6)

    def run(i: int) -> None:
        barrier.wait()
        keep(_report("2026-11-24T23:00:00Z", f"run-{i}"), tmp_path, 30)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    dated = dated_reports(tmp_path)
    assert sorted(_tag(p) for p in dated) == [f"run-{i}" for i in range(6)]
    assert [p.name for p in dated] == ["drift-report-20261124T230000Z.json",
                                       *(f"drift-report-20261124T230000Z-{n}.json" for n in range(2, 7))]
    assert _tag(tmp_path / "latest.json") == _tag(dated[-1])  # the newest run's report
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*(p.name for p in dated), "latest.json"])


def test_latest_stays_with_the_newest_run_when_an_older_one_finishes_last(tmp_path: Path) -> None:
    keep(_report("2026-11-25T23:00:00Z", "newer"), tmp_path, 30)
    keep(_report("2026-11-24T23:00:00Z", "older, but slower"), tmp_path, 30)
    assert _tag(tmp_path / "latest.json") == "newer"


def test_pruning_beside_another_run_tolerates_vanished_files(tmp_path: Path) -> None:
    for day in range(10, 20):
        history_file(tmp_path, f"2026-11-{day}T23:00:00Z").write_text(json_report.render(_report("x", str(day))))
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def pruner() -> None:
        barrier.wait()
        try:
            prune(tmp_path, 2)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=pruner) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert [p.name for p in dated_reports(tmp_path)] == ["drift-report-20261118T230000Z.json",
                                                         "drift-report-20261119T230000Z.json"]


def test_a_baseline_pruned_away_before_it_is_read_is_replaced_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = history_file(tmp_path, "2026-11-23T23:00:00Z")
    older.write_text(json_report.render(_report("2026-11-23T23:00:00Z", "older")))
    gone = history_file(tmp_path, "2026-11-24T23:00:00Z")
    gone.write_text(json_report.render(_report("2026-11-24T23:00:00Z", "gone")))
    import auditor.run.audit as run_audit

    listed = run_audit.previous_reports(tmp_path)
    gone.unlink()  # another run pruned it after this one listed the directory
    monkeypatch.setattr(run_audit, "previous_reports", lambda directory, before=None: listed)
    baseline = baseline_for(AuditOptions(history=tmp_path))
    assert baseline is not None and baseline.path == str(older)
