"""What every command shares: failing with a message, loading specs, the exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

from auditor.errors import SpecError
from auditor.model import SpecSet
from auditor.run.options import DEFAULT_SPECS

EXIT_DRIFT, EXIT_BAD_INPUT, EXIT_INCOMPLETE = 1, 2, 3


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print `s3audit: message` on stderr and exit (2 = bad input, 3 = incomplete)."""
    from auditor.cli.terminal import safe_line

    click.echo(safe_line(f"s3audit: {message}"), err=True)
    sys.exit(code)


def load(paths: Sequence[Path], packs: Sequence[str] = (), notes: bool = False,
         quiet: bool = False) -> SpecSet:
    """Load the specs beneath the built-in baselines `packs`, or print every problem and exit
    2; lint warnings (and with `notes`, notes) go to stderr, unless `quiet` (warnings are not
    errors).

    With a pack, the default spec directory may be missing: the pack alone is a spec then."""
    from auditor.cli.terminal import safe_line
    from auditor.spec import load_specs

    if packs and tuple(paths) == DEFAULT_SPECS and not DEFAULT_SPECS[0].exists():
        paths = ()
    try:
        specs = load_specs(paths, packs)
    except SpecError as exc:
        for problem in exc.problems:
            click.echo(safe_line(str(problem)), err=True)
        fail(f"{len(exc.problems)} problem(s) in the specs; nothing audited")
    if not quiet:
        for warning in (*specs.warnings, *(specs.notes if notes else ())):
            click.echo(safe_line(warning), err=True)
    return specs
