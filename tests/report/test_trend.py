"""Reading the trend of a history directory."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from auditor.model import TrendPoint
from auditor.report import json_report
from auditor.run.history import history_file
from auditor.run.trend import point_of, read_trend
from tests.report.synthetic import big_report


def test_every_dated_report_is_a_point_oldest_first(tmp_path: Path) -> None:
    base = big_report(20, 0)
    for stamp, n in (("2026-11-24T02:15:00Z", 20), ("2026-11-22T02:15:00Z", 10), ("2026-11-23T02:15:00Z", 15)):
        report = replace(big_report(n, 0), generated_at=stamp)
        history_file(tmp_path, stamp).write_text(json_report.render(report))
    (tmp_path / "latest.json").write_text(json_report.render(base))  # not a dated report
    (tmp_path / "notes.txt").write_text("x")
    points = read_trend(tmp_path)
    assert [p.generated_at for p in points] == ["2026-11-22T02:15:00Z", "2026-11-23T02:15:00Z",
                                                "2026-11-24T02:15:00Z"]
    s = big_report(15, 0).summary
    assert points[1] == TrendPoint("2026-11-23T02:15:00Z", s.passed, s.drift, s.error, s.waived)


def test_only_the_head_of_a_large_report_is_read(tmp_path: Path) -> None:
    path = history_file(tmp_path, "2026-11-24T02:15:00Z")
    text = json_report.render(replace(big_report(300, 0), generated_at="2026-11-24T02:15:00Z"))
    path.write_text(text[:70_000])  # the results are cut off: only the head can be parsed
    point = point_of(path)
    assert point is not None and point.drift == big_report(300, 0).summary.drift


def test_a_report_laid_out_otherwise_is_parsed_whole(tmp_path: Path) -> None:
    doc = json.loads(json_report.render(big_report(300, 0)))
    reordered = {"results": doc["results"], "generated_at": "2026-11-24T02:15:00Z", "summary": doc["summary"]}
    path = history_file(tmp_path, "2026-11-24T02:15:00Z")
    path.write_text(json.dumps(reordered))
    point = point_of(path)
    assert point is not None and point.error == doc["summary"]["error"]


def test_unreadable_reports_are_left_out(tmp_path: Path) -> None:
    history_file(tmp_path, "2026-11-24T02:15:00Z").write_text("{not json")
    history_file(tmp_path, "2026-11-25T02:15:00Z").write_bytes(b"\xff\xfe")
    history_file(tmp_path, "2026-11-26T02:15:00Z").write_text('{"summary": {"pass": 1}}')
    assert read_trend(tmp_path) == ()
    assert read_trend(tmp_path / "missing") == ()
