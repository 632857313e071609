"""The command line: wiring only. Each command lives in the module of its kind."""

from __future__ import annotations

import click

from auditor import __version__
from auditor.cli.audit import audit, demo, diff, merge
from auditor.cli.catalog import explain, permissions, rules_cmd
from auditor.cli.specs import import_cmd, init, schema, validate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="s3audit")
def main() -> None:
    """s3audit: audit live S3 buckets against YAML specs and report drift."""


for _command in (audit, validate, demo, diff, merge, rules_cmd, explain, permissions, init,
                 import_cmd, schema):
    main.add_command(_command)

__all__ = ["main"]
