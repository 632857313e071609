"""Atomic report writing: whole file or old file, never half; "-" is stdout."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from auditor.report import write_atomic


def test_writes_the_file_and_creates_parent_directories(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "nested" / "drift-report.md"
    write_atomic(str(target), "# report\n")
    assert target.read_text(encoding="utf-8") == "# report\n"
    assert os.listdir(target.parent) == ["drift-report.md"]


def test_file_is_readable_by_others(tmp_path: Path) -> None:
    target = tmp_path / "drift-report.json"
    write_atomic(target, "{}\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_replaces_the_target_whole_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "drift-report.json"
    write_atomic(target, "x" * 100_000)
    write_atomic(target, "short\n")
    assert target.read_text(encoding="utf-8") == "short\n"
    assert os.listdir(tmp_path) == ["drift-report.json"]


def test_text_is_written_exactly(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    text = "Größe ✅\r\nline two\n"
    write_atomic(target, text)
    assert target.read_bytes() == text.encode("utf-8")


def test_dash_writes_to_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    write_atomic("-", '{"schema_version": 1}\n')
    assert capsys.readouterr().out == '{"schema_version": 1}\n'
    assert os.listdir(tmp_path) == []


def test_failed_rename_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "drift-report.json"
    target.write_text("old\n", encoding="utf-8")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["drift-report.json"]


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "drift-report.md"
    target.write_text("old\n", encoding="utf-8")

    def broken_fsync(fd: int) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="no space"):
        write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["drift-report.md"]


def test_interrupt_during_write_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "drift-report.md"

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new\n")
    assert os.listdir(tmp_path) == []
