"""The command line: wiring only. Each command lives in the module of its kind.

Defaults for any option may come from a config file (`s3audit.toml` in the working
directory, or `[tool.s3audit]` in its `pyproject.toml`, or `--config FILE`): see
auditor/cli/config.py. Every error, click's own usage errors included, is one
`s3audit: ...` line on stderr (exit 2 for a bad invocation).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from auditor import __version__
from auditor.cli.audit import audit, demo, diff, merge
from auditor.cli.catalog import explain, permissions, rules_cmd
from auditor.cli.config import config_option
from auditor.cli.specs import import_cmd, init, schema, validate


class Cli(click.Group):
    """A group whose errors read like the rest of s3audit's: `s3audit: <what>` plus a hint."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            _show_usage_error(exc)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            _echo(f"s3audit: {exc.format_message()}")
            sys.exit(exc.exit_code)
        except click.Abort:
            _echo("s3audit: interrupted")
            sys.exit(130)
        sys.exit(rv if isinstance(rv, int) else 0)


def _echo(text: str) -> None:
    from auditor.cli.terminal import safe_line

    click.echo(safe_line(text), err=True)


def _show_usage_error(exc: click.UsageError) -> None:
    _echo(f"s3audit: {exc.format_message()}")
    if exc.ctx is not None:
        path = exc.ctx.command_path
        _echo(f"  usage: {exc.ctx.command.get_usage(exc.ctx).removeprefix('Usage: ')}"
              f"; '{path} --help' lists every option")


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="s3audit", help="Print the version and exit.")
@config_option
def main() -> None:
    """s3audit: audit live S3 buckets against YAML specs and report drift.

    Defaults for any option can live in s3audit.toml (or [tool.s3audit] in pyproject.toml)
    in the working directory; options given on the command line win. Shell completion:
    eval "$(_S3AUDIT_COMPLETE=bash_source s3audit)" (zsh_source, fish_source for those shells).
    """


def entry() -> None:
    """The console script and `python -m auditor`: run `main`, then exit without waiting for
    worker threads still blocked in a read the run gave up on (a deadline, a signal): the
    reports are written by then, and the interpreter would otherwise join those threads."""
    import threading

    from auditor.cli.signals import leave

    try:
        main(prog_name="s3audit")  # `python -m auditor` too: its usage, its completion variable
    except SystemExit as exc:
        if threading.active_count() > 1:
            leave(exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1))
        raise


for _command in (audit, validate, demo, diff, merge, rules_cmd, explain, permissions, init,
                 import_cmd, schema):
    main.add_command(_command)

__all__ = ["entry", "main"]
