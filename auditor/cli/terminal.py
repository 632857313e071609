"""What a person sees on stderr: the progress bar on a terminal, and the run's summary."""

from __future__ import annotations

import sys
from typing import Any

import click

from auditor.model import Report, Status


class Progress:
    """A click progress bar on stderr, created once the number of buckets is known."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="auditing buckets", file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(1)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def print_summary(report: Report, written: list[str]) -> None:
    s = report.summary
    verdict = "compliant" if s.compliant else "NOT compliant"
    waived = f", {s.waived} waived" if s.waived else ""
    click.echo(f"s3audit: {s.buckets} bucket(s), {s.passed} pass, {s.drift} drift, "
               f"{s.error} error{waived}: {verdict}", err=True)
    for r in report.results:
        if r.status is not Status.PASS or r.change is not None:
            change = f" [{r.change.value}]" if r.change else ""
            click.echo(f"  {r.status.value:<6} {r.severity.value:<8} {r.subject} {r.control}{change}: "
                       f"{r.message}", err=True)
    for w in report.unused_waivers:
        click.echo(f"  unused waiver: {w.bucket} {w.control} (expires {w.expires}, owner {w.owner})", err=True)
    for path in written:
        click.echo(f"  report: {path}", err=True)
