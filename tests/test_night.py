"""What a night brings (issue 11), the CLI against a moto server through a fault proxy on
127.0.0.1: signals, unwritable and closed outputs, rejected credentials, hostile strings, an
endpoint that never answers. Nothing lost, nothing forged, no temp file left behind."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.report.json_report import validate_report
from tests.conftest import SPECS, clients_for
from tests.faultproxy import Fault, FaultProxy
from tests.test_invocation import unjudged


def _env() -> dict[str, str]:
    return {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}


def _popen(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "auditor", *args], env=_env(), text=True,
                            stderr=subprocess.PIPE, **kwargs)


def _temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.name.endswith(".tmp"))


@pytest.fixture
def proxy(seeded_server: str) -> Iterator[FaultProxy]:
    p = FaultProxy(int(seeded_server.rsplit(":", 1)[1])).start()
    yield p
    p.stop()


def _stall(proxy: FaultProxy, path_prefix: str) -> tuple[threading.Event, threading.Event]:
    """Hold every request whose path starts with `path_prefix` until released."""
    stalled, release = threading.Event(), threading.Event()
    original = proxy._match

    def match(method: str, path: str, body: bytes = b"") -> Fault | None:
        if path.startswith(path_prefix):
            stalled.set()
            release.wait(120)
        return original(method, path, body)

    proxy._match = match  # type: ignore[method-assign]
    return stalled, release


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize("sig", [signal.SIGTERM])  # SIGINT: the second-signal test below
def test_a_signal_stops_the_reads_and_writes_the_reports_with_the_unread_as_errors(
    proxy: FaultProxy, tmp_path: Path, sig: signal.Signals
) -> None:
    stalled, release = _stall(proxy, "/amply-widgets-prod?cors")
    out = tmp_path / "out"
    # One bucket at a time: the stalled one (last by name) is read after all the others.
    proc = _popen("audit", "--specs", str(SPECS), "--endpoint-url", proxy.url, "--out", str(out),
                  "--concurrency", "1")
    try:
        assert stalled.wait(60), "the audit never reached the stalled read"
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
        still_held = not release.is_set()
    finally:
        release.set()
        proc.kill()
    assert still_held  # it ended while the read was still held: it did not wait for it
    assert proc.returncode == 3, stderr
    text = (out / "drift-report.json").read_text()
    validate_report(text)
    report = json.loads(text)
    assert report["run"]["interrupted"] == sig.name
    errors = [r for r in report["results"] if r["status"] == "error"]
    widgets = [r for r in report["results"] if r["bucket"] == "amply-widgets-prod"]
    # the stalled bucket, and the role read after the buckets (nothing is read after a signal)
    assert sorted(r["bucket"] or r["control"] for r in errors) == ["amply-widgets-prod"] * len(widgets) + [
        "principals"]
    assert {r["error"]["code"] for r in errors} == {"Interrupted"}
    passed = sum(r["status"] == "pass" for r in report["results"])
    assert passed == len(report["results"]) - len(errors)  # what was read is kept
    assert _temp_files(tmp_path) == []
    lines = stderr.splitlines()
    assert lines[0] == (f"s3audit: {sig.name}: no further reads; writing the reports with what was read "
                        "(again to quit at once)")
    controls = ", ".join(sorted(r["control"] for r in widgets))
    assert (f"  error  interrupted before these were read (Interrupted); {len(widgets)} controls on "
            f"amply-widgets-prod ({controls}) and 1 role check not evaluated") in lines
    assert lines[-1].startswith(f"s3audit: 5 bucket(s), {passed} pass, 0 drift, {len(errors)} error: INCOMPLETE")


def test_a_second_signal_exits_at_once_leaving_no_partial_file(proxy: FaultProxy, tmp_path: Path) -> None:
    stalled, release = _stall(proxy, "/amply-widgets-prod?cors")
    fifo = tmp_path / "nobody-reads.fifo"  # opening it blocks: the run is held in its writes
    os.mkfifo(fifo)
    json_path = tmp_path / "r.json"
    proc = _popen("audit", "--specs", str(SPECS), "--endpoint-url", proxy.url, "--json", str(json_path),
                  "--markdown", str(fifo))
    try:
        assert stalled.wait(60)
        proc.send_signal(signal.SIGINT)
        for _ in range(600):  # until the JSON report is there and the run waits on the FIFO
            if json_path.exists():
                break
            threading.Event().wait(0.1)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        release.set()
        proc.kill()
    assert proc.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "s3audit: SIGINT again: quitting; no report is left half written"
    validate_report(json_path.read_text())  # the report written before the second signal is whole
    assert _temp_files(tmp_path) == []


def test_the_second_signal_removes_the_temp_file_of_a_report_being_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor import files
    from auditor.cli.signals import Interrupt

    temp = tmp_path / ".drift-report.json.abc.tmp"
    temp.write_text("half a rep")
    monkeypatch.setattr(files, "_TEMPORARIES", {str(temp)})
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)
    handler = Interrupt()
    handler._handle(signal.SIGTERM, None)
    assert handler.stop.is_set() and temp.exists() and exits == []  # the first only stops the reads
    handler._handle(signal.SIGTERM, None)
    assert exits == [143] and not temp.exists()


# --------------------------------------------------------------------------- outputs


def test_an_unwritable_output_is_found_before_the_first_aws_read(proxy: FaultProxy, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = CliRunner().invoke(main, ["audit", "--specs", str(SPECS), "--endpoint-url", proxy.url,
                                       "--out", str(blocker / "reports")])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (f"s3audit: cannot write {blocker / 'reports' / 'drift-report.json'}: "
                                             f"{blocker} is not a directory")
    assert sum(proxy.requests.values()) == 0  # nothing was read


def test_a_read_only_filesystem_is_found_before_the_first_aws_read(
    proxy: FaultProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    result = CliRunner().invoke(main, ["audit", "--specs", str(SPECS), "--endpoint-url", proxy.url,
                                       "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (f"s3audit: cannot write {tmp_path / 'r.json'}: Read-only file "
                                             "system; nothing audited")
    assert sum(proxy.requests.values()) == 0


def test_one_target_failing_does_not_stop_the_others(
    seeded_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor import files

    real_write = files._write

    def full_disk(path: Path, text: str) -> None:
        if path.suffix == ".md" or path.name == "latest.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, text)

    monkeypatch.setattr(files, "_write", full_disk)
    history = tmp_path / "history"
    result = CliRunner().invoke(main, ["audit", "--specs", str(SPECS), "--endpoint-url", seeded_server,
                                       "--json", str(tmp_path / "r.json"), "--markdown", str(tmp_path / "r.md"),
                                       "--history", str(history)])
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert f"  not written: cannot write {tmp_path / 'r.md'}: No space left on device" in lines
    assert (f"  not written: history {history}: cannot write {history / 'latest.json'}: No space left on "
            "device") in lines
    assert lines[-1].startswith("s3audit: 5 bucket(s), ") and " 0 drift, 0 error: compliant" in lines[-1]
    validate_report((tmp_path / "r.json").read_text())  # the healthy target got its report
    assert not (tmp_path / "r.md").exists() and _temp_files(tmp_path) == []


def test_a_closed_stdout_says_so_on_stderr(seeded_server: str, tmp_path: Path) -> None:
    proc = _popen("audit", "--specs", str(SPECS), "--endpoint-url", seeded_server, "--json", "-",
                  "--markdown", str(tmp_path / "r.md"), stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader went away (`s3audit ... | head -0`)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 3, stderr
    assert "  not written: cannot write to stdout: it is closed (Broken pipe)" in stderr.splitlines()
    assert "Exception ignored" not in stderr and "Traceback" not in stderr
    assert (tmp_path / "r.md").read_text().startswith("#")
    closed = _popen("audit", "--specs", str(SPECS), "--endpoint-url", seeded_server, "--json", "-",
                    preexec_fn=lambda: os.close(1))
    _, stderr = closed.communicate(timeout=120)
    assert closed.returncode == 2
    assert stderr.splitlines()[0] == "s3audit: stdout is closed; nothing audited"


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize(("code", "status"), [("ExpiredToken", 400), ("InvalidAccessKeyId", 403),
                                               ("SignatureDoesNotMatch", 403)])
def test_rejected_credentials_are_named_once_as_credentials(
    proxy: FaultProxy, tmp_path: Path, code: str, status: int
) -> None:
    rejected = Fault("*", "", None, status, code)

    def every_request(method: str, path: str, body: bytes = b"") -> Fault:
        proxy.requests[f"{method} {path}"] += 1
        return rejected

    proxy._match = every_request  # type: ignore[method-assign]
    result = CliRunner().invoke(main, ["audit", "--specs", str(SPECS), "--endpoint-url", proxy.url,
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("  error")]
    assert len(errors) == 1, errors
    report = json.loads((tmp_path / "out" / "drift-report.json").read_text())
    assert errors[0] == ("  error  AWS rejected the credentials of environment credentials (AWS_ACCESS_KEY_ID): "
                         f"injected {code} ({code}); {unjudged(report)} not evaluated; refresh or replace them "
                         "(e.g. aws sso login, new access keys)")
    assert {(r["error"]["code"], r["error"].get("credentials")) for r in report["results"]} == {
        (code, "environment credentials (AWS_ACCESS_KEY_ID)")}
    assert sum(v for k, v in proxy.requests.items() if k.startswith("GET /amply")) == 0  # none per bucket


# --------------------------------------------------------------------------- hostile strings


def test_hostile_strings_from_aws_cannot_drive_the_terminal_or_a_ci_log(seeded_server: str, tmp_path: Path) -> None:
    s3, _, _ = clients_for(seeded_server)
    evil = "x\u001b[2J\u0007\r\n::error file=a::pwned\u202e"
    s3.put_bucket_policy(Bucket="amply-backups-prod", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": evil, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::amply-backups-prod/*"}]}))
    result = CliRunner().invoke(main, ["audit", "--specs", str(SPECS), "--endpoint-url", seeded_server,
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "\\x1b[2J" in result.stderr  # it is there, escaped
    for char in ("\x1b", "\x07", "\r", "\u202e"):
        assert char not in result.stderr
    assert not [line for line in result.stderr.splitlines() if line.lstrip().startswith("::")]


# --------------------------------------------------------------------------- deadline


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def test_the_deadline_holds_against_an_endpoint_that_never_answers(silent_endpoint: str, tmp_path: Path) -> None:
    """Judged by events, not the clock: botocore's own timeouts and retries would hold a read
    for 40 s and more; the run must report DeadlineExceeded for everything it did not read."""
    out = tmp_path / "out"
    proc = _popen("audit", "--specs", str(SPECS), "--endpoint-url", silent_endpoint, "--out", str(out),
                  "--deadline", "2")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 3, stderr
    report = json.loads((out / "drift-report.json").read_text())
    assert {r["error"]["code"] for r in report["results"]} == {"DeadlineExceeded"}
    assert [line for line in stderr.splitlines() if line.startswith("  error")] == [
        f"  error  the --deadline passed before these were read (DeadlineExceeded); {unjudged(report)} "
        "not evaluated"]


def test_a_signal_after_every_read_is_not_reported_as_drift(tmp_path: Path) -> None:
    """The reports are complete, but the run was asked to stop: 128 + the signal, never 1."""
    from auditor.cli.audit import finish
    from auditor.cli.signals import Interrupt
    from auditor.model import Report, Result, Severity, Status
    from auditor.run.options import Outputs

    drift = Result("b", "versioning", Status.DRIFT, Severity.MEDIUM, "S3-VER-001", "Enabled", "Suspended", "m")
    interrupt = Interrupt()
    interrupt.signum = signal.SIGTERM
    with pytest.raises(SystemExit) as exited:
        finish(Report("2026-11-24T23:00:00Z", "0.1.0", (drift,)), Outputs(out_dir=tmp_path), Severity.LOW,
               quiet=True, interrupt=interrupt)
    assert exited.value.code == 143
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drift-report.html", "drift-report.json",
                                                          "drift-report.md"]
