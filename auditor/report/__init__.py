"""Report renderers (pure `Report -> str` functions, by format name) and the atomic writer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from auditor.files import write_atomic
from auditor.model import Report
from auditor.report import asff, csv_report, html, json_report, junit, markdown, ocsf, sarif

RENDERERS: dict[str, Callable[[Report], str]] = {
    "json": json_report.render,
    "markdown": markdown.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "csv": csv_report.render,
    "ocsf": ocsf.render,
    "asff": asff.render,
    "html": html.render,
}


def configured_renderers(sarif_root: Path | None = None, cwd: Path | None = None) -> dict[str, Callable[[Report], str]]:
    """RENDERERS with the options of this run: SARIF URIs relative to `sarif_root` (default
    the current directory), relative spec paths read from `cwd` (default the current one)."""
    here = (cwd or Path.cwd()).resolve()
    paths = sarif.Paths(root=(sarif_root or here).resolve(), cwd=here)
    return {**RENDERERS, "sarif": functools.partial(sarif.render, paths=paths)}


def deliver(report: Report, targets: tuple[tuple[str, str], ...],
            renderers: dict[str, Callable[[Report], str]] | None = None) -> list[str]:
    """Render and write each (format, target); returns the targets written. WriteError on failure."""
    chosen = RENDERERS if renderers is None else renderers
    written = []
    for name, target in targets:
        write_atomic(target, chosen[name](report))
        written.append(target)
    return written


__all__ = ["RENDERERS", "configured_renderers", "deliver", "json_report", "markdown", "write_atomic"]
