"""`rules`, `explain` and `permissions`: what s3audit checks and what it needs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from auditor.cli.common import fail, load
from auditor.cli.options import pack_option, specs_option


def _framework_names() -> list[str]:
    from auditor.frameworks import NAMES

    return [*NAMES, "all"]


@click.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "readme"]), default="text",
              show_default=True,
              help="text: one line per rule; markdown: docs/rules.md; readme: the README's table.")
@click.option("--framework", type=click.Choice(_framework_names()), metavar="NAME",
              help="Instead: each requirement of this framework (aws-fsbp, cis-aws, all), the controls "
                   "and values that meet it, and what s3audit does not cover.")
def rules_cmd(fmt: str, framework: str | None) -> None:
    """List every rule: id, control, severity and title (or a framework's requirements)."""
    from auditor.catalog import (
        controls_table,
        framework_markdown,
        framework_text,
        frameworks_markdown,
        rules_markdown,
        rules_text,
    )
    from auditor.frameworks import NAMES

    if framework is not None:
        names = NAMES if framework == "all" else (framework,)
        if fmt == "markdown":
            text = frameworks_markdown() if framework == "all" else framework_markdown(framework)
        else:
            text = "\n".join(framework_text(n) for n in names)
        click.echo(text, nl=False)
        return
    text = {"markdown": rules_markdown, "readme": controls_table}.get(fmt, rules_text)()
    click.echo(text, nl=False)


@click.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Explain one rule (by id or control name): what it checks, why, and how to fix it."""
    from auditor.catalog import explain_rule, suggest

    text = explain_rule(rule_id)
    if text is None:
        close = suggest(rule_id)
        hint = f"; did you mean {close}?" if close else ""
        fail(f"no rule {rule_id!r}{hint} (see `s3audit rules`)")
    click.echo(text, nl=False)


@click.command()
@specs_option
@pack_option
def permissions(specs: tuple[Path, ...], packs: tuple[str, ...]) -> None:
    """Print the least-privilege IAM policy the audit of these specs (and packs) needs."""
    from auditor.catalog import data_plane_note, permissions_policy

    loaded = load(specs, packs)
    click.echo(json.dumps(permissions_policy(loaded), indent=2))
    note = data_plane_note(loaded)
    if note:
        click.echo(note, err=True)  # stdout stays a policy document to pipe into IAM
