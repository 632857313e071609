"""Report renderers (pure `Report -> str` functions, by format name) and the atomic writer."""

from __future__ import annotations

from collections.abc import Callable

from auditor.files import write_atomic
from auditor.model import Report
from auditor.report import asff, csv_report, json_report, junit, markdown, ocsf, sarif

RENDERERS: dict[str, Callable[[Report], str]] = {
    "json": json_report.render,
    "markdown": markdown.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "csv": csv_report.render,
    "ocsf": ocsf.render,
    "asff": asff.render,
}

__all__ = ["RENDERERS", "json_report", "markdown", "write_atomic"]
