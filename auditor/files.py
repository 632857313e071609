"""The one place report files are written: atomically, so a reader never sees half a report."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from auditor.errors import AuditorError

STDOUT = "-"
FILE_MODE = 0o644


class WriteError(AuditorError, OSError):
    """A report or spec file could not be written (no such directory, permission denied ...)."""


def write_atomic(target: str | Path, text: str | Iterable[str]) -> None:
    """Write text (or its chunks, streamed: a large report is never one string) to target via
    a temp file and rename; "-" writes to stdout."""
    if str(target) == STDOUT:
        for chunk in [text] if isinstance(text, str) else text:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    path = Path(target)
    try:
        _write(path, text)
    except WriteError:
        raise
    except OSError as exc:  # callers turn this into a message, never a traceback
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    _sync_directory(path.parent)


def _write(path: Path, text: str | Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same directory as the target: os.replace is only atomic within one filesystem.
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, after the name is known
        "w", encoding="utf-8", newline="", delete=False,
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
    )
    tmp_path = Path(tmp.name)
    try:
        with tmp:
            for chunk in [text] if isinstance(text, str) else text:
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())  # the data is on disk before the name points at it
        # NamedTemporaryFile creates 0o600; a report is meant to be read by others.
        os.chmod(tmp_path, FILE_MODE)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _sync_directory(directory: Path) -> None:
    # Makes the rename itself durable across a crash; not possible on every platform.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
