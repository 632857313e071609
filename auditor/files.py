"""The one place report files are written: atomically, so a reader never sees half a report.

A regular file (or a path not there yet) is written through a temp file in the same
directory and renamed over the target. A target that exists and is not a regular file
(`/dev/stdout`, `/dev/null`, a FIFO, a terminal) is written to directly: renaming over it
would replace a device node or a pipe with a file (as root, `/dev/null` itself). A symlink
to a regular file is followed, so the link stays and its target is replaced.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from auditor.errors import AuditorError

STDOUT = "-"
FILE_MODE = 0o644

# Temp files being written right now, so a second signal can remove them before it exits.
_TEMPORARIES: set[str] = set()
_TEMPORARIES_LOCK = threading.Lock()


class WriteError(AuditorError, OSError):
    """A report or spec file could not be written (no such directory, permission denied ...)."""


Text = str | Iterable[str]  # a string, or its pieces (a large report is never one string)


def _pieces(text: Text) -> Iterable[str]:
    return (text,) if isinstance(text, str) else text


def write_atomic(target: str | Path, text: Text) -> None:
    """Write text (or its pieces, streamed) to target via a temp file and rename; "-"
    writes to stdout."""
    if str(target) == STDOUT:
        _write_stdout(text)
        return
    path = Path(target)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # not there yet (or a dangling link): created below
    try:
        if mode is not None and stat.S_ISDIR(mode):
            raise WriteError(f"cannot write {path}: it is a directory")
        if mode is not None and not stat.S_ISREG(mode):
            _write_direct(path, text)
            return
        real = Path(os.path.realpath(path)) if path.is_symlink() else path
        _write(real, text)
    except WriteError:
        raise
    except OSError as exc:  # callers turn this into a message, never a traceback
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    _sync_directory(path.parent)


def _write_stdout(text: Text) -> None:
    try:
        for piece in _pieces(text):
            sys.stdout.write(piece)
        sys.stdout.flush()
    except (OSError, ValueError) as exc:  # a closed pipe (EPIPE), a closed stream
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise WriteError(f"cannot write to stdout: it is closed ({reason})") from exc


def _write_direct(path: Path, text: Text) -> None:
    # No temp file and no rename: the target is a device or a pipe, written as it is.
    with open(path, "w", encoding="utf-8", newline="") as out:
        for piece in _pieces(text):
            out.write(piece)


def _write(path: Path, text: Text) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same directory as the target: os.replace is only atomic within one filesystem.
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, after the name is known
        "w", encoding="utf-8", newline="", delete=False,
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
    )
    tmp_path = Path(tmp.name)
    with _TEMPORARIES_LOCK:
        _TEMPORARIES.add(tmp.name)
    try:
        with tmp:
            for piece in _pieces(text):
                tmp.write(piece)
            tmp.flush()
            os.fsync(tmp.fileno())  # the data is on disk before the name points at it
        # NamedTemporaryFile creates 0o600; a report is meant to be read by others.
        os.chmod(tmp_path, FILE_MODE)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    finally:
        with _TEMPORARIES_LOCK:
            _TEMPORARIES.discard(tmp.name)


def write_new(directory: Path, names: Iterator[Path], text: str) -> Path:
    """Write text under the first of `names` that does not exist yet, never replacing a file:
    the temp file is hard-linked to the name (link fails if the name is taken, where a
    rename would replace it). Returns the name used."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".s3audit-new.", suffix=".tmp")
    with _TEMPORARIES_LOCK:
        _TEMPORARIES.add(tmp)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, FILE_MODE)
        for name in names:
            try:
                os.link(tmp, name)
            except FileExistsError:
                continue
            _sync_directory(directory)
            return name
        raise WriteError(f"cannot write into {directory}: no free name")  # names never run out
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(f"cannot write into {directory}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        with _TEMPORARIES_LOCK:
            _TEMPORARIES.discard(tmp)


def discard_temporaries() -> None:
    """Remove every temp file still being written (before exiting on a second signal).

    Called from a signal handler: no lock is taken (the writer may hold it), only a copy of
    the set is iterated, and unlink is all it does.
    """
    for name in list(_TEMPORARIES):
        with contextlib.suppress(OSError):
            os.unlink(name)


def _sync_directory(directory: Path) -> None:
    # Makes the rename itself durable across a crash; not possible on every platform.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def unwritable(target: str | Path) -> str | None:
    """Why a report could not be written to target, or None; creates nothing that stays.

    For the preflight before the first AWS read: a directory, a parent that is a file, a
    directory without write permission or on a read-only filesystem, a closed stdout.
    """
    if str(target) == STDOUT:
        return _closed_stdout()
    path = Path(target)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        return f"{path} is a directory"
    if mode is not None and not stat.S_ISREG(mode):
        return None if os.access(path, os.W_OK) else f"{path} is not writable"
    real = Path(os.path.realpath(path))
    return _unwritable_directory(real.parent, path)


def _unwritable_directory(directory: Path, path: Path) -> str | None:
    existing = directory
    while not existing.exists():
        if existing.is_symlink() or existing.parent == existing:
            return f"cannot create the directory for {path}"
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot write {path}: {existing} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write {path}: {existing} is not writable"
    # access() cannot tell everything (a read-only or special filesystem, ACLs, root on
    # sysfs): create and remove a file where the report or its directory will be made.
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".s3audit-probe.", suffix=".tmp")
    except OSError as exc:
        return f"cannot write {path}: {exc.strerror or exc}"
    os.close(fd)
    os.unlink(probe)
    return None


def _closed_stdout() -> str | None:
    stream = sys.stdout
    if stream is None or stream.closed:
        return "stdout is closed"
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return None  # not a real file (a test runner's buffer): writable
    try:
        os.fstat(fd)
    except OSError:
        return "stdout is closed"
    return None
