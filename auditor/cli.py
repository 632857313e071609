"""The command line: wiring only."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor import __version__
from auditor.errors import AuditorError, SpecError
from auditor.model import Report, Severity, Status

F = TypeVar("F", bound=Callable[..., Any])
SEVERITIES = [s.value for s in Severity]


def _specs_option(f: F) -> F:
    return click.option(
        "--specs", "specs", multiple=True, default=("specs/",), show_default=True,
        type=click.Path(path_type=Path),
        help="Spec file or directory (all *.yaml/*.yml below it); repeatable.",
    )(f)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"s3audit: {message}", err=True)
    sys.exit(code)


def _load(paths: Sequence[Path]) -> Any:
    from auditor.spec import load_specs

    try:
        return load_specs(paths)
    except SpecError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        _fail(f"{len(exc.problems)} problem(s) in the specs; nothing audited")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="s3audit")
def main() -> None:
    """s3audit: audit live S3 buckets against YAML specs and report drift."""


@main.command()
@_specs_option
@click.option("--json", "json_path", help="Write the JSON report to FILE ('-' = stdout).")
@click.option("--markdown", "markdown_path", help="Write the Markdown report to FILE ('-' = stdout).")
@click.option("--out", "out_dir", default="reports/", show_default=True, type=click.Path(path_type=Path),
              help="Directory for both reports when neither --json nor --markdown is given.")
@click.option("--profile", help="AWS profile (default: the standard credentials chain).")
@click.option("--region", help="Region for global calls (default: AWS_REGION / the profile's).")
@click.option("--endpoint-url", help="Send every AWS call (S3, S3 Control, STS, KMS) to this URL.")
@click.option("--bucket", "buckets", multiple=True, help="Audit only this bucket; repeatable.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="low", show_default=True,
              help="Exit 1 only for drift at or above this severity.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=8, show_default=True,
              help="Buckets read in parallel.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
def audit(
    specs: tuple[Path, ...], json_path: str | None, markdown_path: str | None, out_dir: Path,
    profile: str | None, region: str | None, endpoint_url: str | None, buckets: tuple[str, ...],
    fail_on: str, concurrency: int, quiet: bool, debug: bool,
) -> None:
    """Audit live buckets against the specs and write the drift reports."""
    from auditor.audit import run_audit
    from auditor.collect import AwsConfig

    spec_set = _load(specs)
    config = AwsConfig(profile=profile, region=region, endpoint_url=endpoint_url,
                       max_pool_connections=max(10, concurrency * 2))
    try:
        report = run_audit(spec_set, config, only=buckets, concurrency=concurrency)
    except AuditorError as exc:
        _fail(str(exc), 3)
    except Exception as exc:  # noqa: BLE001 - a cron job gets a message and exit 3, not a trace
        if debug:
            traceback.print_exc()
        _fail(f"audit failed: {type(exc).__name__}: {exc}", 3)
    _finish(report, json_path, markdown_path, out_dir, Severity(fail_on), quiet)


def _finish(report: Report, json_path: str | None, markdown_path: str | None, out_dir: Path,
            fail_on: Severity, quiet: bool, exit_on_drift: bool = True) -> None:
    from auditor.engine import exit_code
    from auditor.report import RENDERERS, write_atomic

    targets = {"json": json_path, "markdown": markdown_path}
    if json_path is None and markdown_path is None:
        targets = {"json": str(out_dir / "drift-report.json"), "markdown": str(out_dir / "drift-report.md")}
    written = []
    for name, target in targets.items():
        if target is not None:
            write_atomic(target, RENDERERS[name](report))
            written.append(target)
    if not quiet:
        _print_summary(report, [w for w in written if w != "-"])
    code = exit_code(report, fail_on)
    sys.exit(code if exit_on_drift or code != 1 else 0)


def _print_summary(report: Report, written: list[str]) -> None:
    s = report.summary
    verdict = "compliant" if s.compliant else "NOT compliant"
    click.echo(f"s3audit: {s.buckets} bucket(s), {s.passed} pass, {s.drift} drift, "
               f"{s.error} error: {verdict}", err=True)
    for r in report.results:
        if r.status is not Status.PASS:
            click.echo(f"  {r.status.value:<5} {r.severity.value:<8} {r.bucket} {r.control}: {r.message}",
                       err=True)
    for path in written:
        click.echo(f"  report: {path}", err=True)


@main.command()
@_specs_option
def validate(specs: tuple[Path, ...]) -> None:
    """Check spec files (schema and semantic lint) without touching AWS."""
    spec_set = _load(specs)
    click.echo(f"s3audit: {len(spec_set.files)} spec file(s), {len(spec_set.buckets)} bucket "
               f"entr{'y' if len(spec_set.buckets) == 1 else 'ies'}: valid")


@main.command()
@click.option("--out", "out_dir", default="reports/", show_default=True, type=click.Path(path_type=Path))
@_specs_option
def demo(out_dir: Path, specs: tuple[Path, ...]) -> None:
    """Audit a simulated account (in-process moto) holding the seed's buckets with some drift."""
    from auditor.demo import run_demo

    spec_set = _load(specs)
    report, drifts = run_demo(spec_set)
    click.echo("s3audit demo: an in-process moto account holding the specs' buckets, with drifts:", err=True)
    for line in drifts:
        click.echo(f"  - {line}", err=True)
    # The drift is the demonstration, not a failure: exit 0 unless something could not be read.
    _finish(report, None, None, out_dir, Severity.LOW, quiet=False, exit_on_drift=False)


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True)
def rules_cmd(fmt: str) -> None:
    """List every rule: id, control, severity and title."""
    from auditor.docs import rules_markdown, rules_text

    click.echo(rules_markdown() if fmt == "markdown" else rules_text(), nl=False)


@main.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Explain one rule (by id or control name): what it checks, why, and how to fix it."""
    from auditor.docs import explain_rule

    text = explain_rule(rule_id)
    if text is None:
        _fail(f"no rule {rule_id!r}; see `s3audit rules`")
    click.echo(text, nl=False)


@main.command()
@_specs_option
def permissions(specs: tuple[Path, ...]) -> None:
    """Print the least-privilege IAM policy the audit of these specs needs."""
    import json

    from auditor.docs import permissions_policy

    click.echo(json.dumps(permissions_policy(_load(specs)), indent=2))
