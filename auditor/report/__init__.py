"""Report renderers (pure `Report -> str` functions, by format name) and the atomic writer."""

from __future__ import annotations

from collections.abc import Callable

from auditor.files import write_atomic
from auditor.model import Report
from auditor.report import json_report, junit, markdown, sarif

RENDERERS: dict[str, Callable[[Report], str]] = {
    "json": json_report.render,
    "markdown": markdown.render,
    "sarif": sarif.render,
    "junit": junit.render,
}

__all__ = ["RENDERERS", "deliver", "json_report", "markdown", "write_atomic"]


def deliver(report: Report, targets: tuple[tuple[str, str], ...]) -> list[str]:
    """Render and write each (format, target); returns the targets written. WriteError on failure."""
    written = []
    for name, target in targets:
        write_atomic(target, RENDERERS[name](report))
        written.append(target)
    return written
