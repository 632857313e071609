"""SIGINT and SIGTERM during an audit: the first stops the reads and lets the run report, the
second exits at once.

On the first signal no new read is started, every bucket and control not read yet becomes
`error` ("Interrupted"), and the reports are written as usual; the run then exits 3 (130 or
143 when every read had finished, so the reports are complete). A read already in flight is
not waited for: the process leaves with `os._exit` once the reports are written, rather than
joining the worker threads. On a second signal the temp files of reports being written are
removed and the process exits at once (130/143): no report is left half written, and the
reports already there are kept.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType
from typing import Any

from auditor.files import discard_temporaries

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupt:
    """Context manager installing the handlers (main thread only; elsewhere a no-op)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.signum: int | None = None
        self._saved: dict[int, Any] = {}

    @property
    def name(self) -> str | None:
        return signal.Signals(self.signum).name if self.signum is not None else None

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process ended by it."""
        return 128 + (self.signum or 0)

    def __enter__(self) -> Interrupt:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
        self._saved.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            self.stop.set()
            # os.write, not print: the main thread may be inside a write to stderr right now.
            _say(f"s3audit: {signal.Signals(signum).name}: no further reads; writing the reports "
                 "with what was read (again to quit at once)\n")
            return
        discard_temporaries()
        _say(f"s3audit: {signal.Signals(signum).name} again: quitting; no report is left half written\n")
        os._exit(128 + signum)


def _say(text: str) -> None:
    with contextlib.suppress(OSError):
        os.write(2, text.encode("utf-8", "replace"))


def leave(code: int) -> None:
    """Exit with `code` without waiting for worker threads still blocked in a read."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
