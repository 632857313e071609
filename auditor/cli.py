"""The command line: wiring only."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor import __version__
from auditor.errors import AuditorError, SpecError
from auditor.model import SPEC_CONTROLS, Report, Severity, Status

F = TypeVar("F", bound=Callable[..., Any])
SEVERITIES = [s.value for s in Severity]


def _specs_option(f: F) -> F:
    return click.option(
        "--specs", "specs", multiple=True, default=("specs/",), show_default=True,
        type=click.Path(path_type=Path),
        help="Spec file or directory (all *.yaml/*.yml below it); repeatable.",
    )(f)


def _format_options(f: F) -> F:
    """The report formats beyond JSON and Markdown, shared by audit and merge."""
    options = [
        click.option("--sarif-root", type=click.Path(file_okay=False, path_type=Path),
                     help="SARIF URIs are relative to this directory (default: the current one)."),
        click.option("--asff", "asff_path", help="Also write Security Hub ASFF findings to FILE."),
        click.option("--ocsf", "ocsf_path", help="Also write OCSF Compliance Findings to FILE."),
        click.option("--csv", "csv_path", help="Also write a CSV report (one row per result) to FILE."),
        click.option("--html", "html_path", help="Also write the HTML report to FILE (--out writes "
                     "drift-report.html when neither --json nor --markdown is given)."),
    ]
    for option in options:
        f = option(f)
    return f


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"s3audit: {message}", err=True)
    sys.exit(code)


def _load(paths: Sequence[Path]) -> Any:
    from auditor.spec import load_specs

    try:
        specs = load_specs(paths)
    except SpecError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        _fail(f"{len(exc.problems)} problem(s) in the specs; nothing audited")
    for warning in specs.warnings:
        click.echo(warning, err=True)
    return specs


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
@click.option("--profile", "profiles", multiple=True,
              help="AWS profile (default: the standard credentials chain); repeat for several accounts.")
@click.option("--role-arn", "role_arns", multiple=True,
              help="Audit the account of this role (assumed with STS); repeatable.")
@click.option("--roles-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File of roles to assume, one 'ROLE-ARN [EXTERNAL-ID]' per line.")
@click.option("--external-id", help="External id for --role-arn roles.")
@click.option("--session-name", default="s3audit", show_default=True, help="STS role session name.")
@click.option("--org-role", metavar="ROLE-NAME",
              help="Audit every active account of the Organization through this role.")
@click.option("--shard", metavar="K/N",
              help="Audit slice K of N (by bucket name); 'N' alone takes K from JOB_COMPLETION_INDEX "
                   "or AWS_BATCH_JOB_ARRAY_INDEX (0-based).")
@click.option("--region", help="Region for global calls (default: AWS_REGION / the profile's).")
@click.option("--endpoint-url", help="Send every AWS call (S3, S3 Control, STS, KMS) to this URL.")
@click.option("--bucket", "buckets", multiple=True, help="Audit only this bucket; repeatable.")
@click.option("--controls", "controls", multiple=True, type=click.Choice(SPEC_CONTROLS),
              help="Audit only this control; repeatable.")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A previous JSON report: mark each drift/error new or persisting, fixes resolved.")
@click.option("--history", "history_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep a dated JSON report per run here (and latest.json); the newest earlier "
                   "one is the baseline unless --baseline is given.")
@click.option("--history-keep", type=click.IntRange(1), default=30, show_default=True,
              help="Dated reports to keep in --history.")
@click.option("--sarif", "sarif_path", help="Also write a SARIF 2.1.0 report to FILE ('-' = stdout).")
@click.option("--junit", "junit_path", help="Also write a JUnit XML report to FILE ('-' = stdout).")
@_format_options
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="low", show_default=True,
              help="Exit 1 only for drift at or above this severity.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=32, show_default=True,
              help="Buckets read in parallel.")
@click.option("--deadline", type=click.FloatRange(min=1), metavar="SECONDS",
              help="Whole-run limit: buckets not read by then are `error`, and the reports are still written.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
@click.option("--now", type=click.DateTime(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"]), hidden=True,
              help="Run as if at this UTC time (report time, waiver expiry); for replays and tests.")
def audit(
    specs: tuple[Path, ...], json_path: str | None, markdown_path: str | None, out_dir: Path,
    profiles: tuple[str, ...], role_arns: tuple[str, ...], roles_file: Path | None,
    external_id: str | None, session_name: str, org_role: str | None, shard: str | None,
    region: str | None, endpoint_url: str | None, buckets: tuple[str, ...],
    controls: tuple[str, ...], baseline: Path | None, history_dir: Path | None, history_keep: int,
    sarif_path: str | None, junit_path: str | None, html_path: str | None, csv_path: str | None,
    ocsf_path: str | None, asff_path: str | None, sarif_root: Path | None,
    fail_on: str, concurrency: int, deadline: float | None, quiet: bool, debug: bool,
    now: datetime | None,
) -> None:
    """Audit live buckets against the specs and write the drift reports."""
    from auditor.run.audit import run_audit
    from auditor.collect import AwsConfig
    from auditor.run.history import load_baseline, previous_report

    spec_set = _load(specs)
    if baseline is None and history_dir is not None:
        before = now.strftime("%Y-%m-%dT%H:%M:%SZ") if now else None
        baseline = previous_report(history_dir, before)
    try:
        base = load_baseline(baseline) if baseline is not None else None
    except AuditorError as exc:
        _fail(str(exc))
    config = AwsConfig(profile=profiles[0] if len(profiles) == 1 else None, region=region,
                       endpoint_url=endpoint_url, max_pool_connections=max(10, concurrency * 2))
    shard_slice = _shard(shard)
    roles = _roles(role_arns, roles_file, external_id)
    try:
        collectors, account_errors = _accounts(config, profiles, roles, session_name, org_role)
        with _Progress(enabled=not quiet and sys.stderr.isatty()) as progress:
            report = run_audit(spec_set, config, only=buckets, concurrency=concurrency,
                               controls=controls, baseline=base, deadline_seconds=deadline,
                               now=now.replace(tzinfo=UTC) if now else None,
                               progress=progress.update if progress.enabled else None,
                               collectors=collectors, account_errors=account_errors,
                               shard=shard_slice)
    except AuditorError as exc:
        _fail(str(exc), 3)
    except Exception as exc:  # noqa: BLE001 - a cron job gets a message and exit 3, not a trace
        if debug:
            traceback.print_exc()
        _fail(f"audit failed: {type(exc).__name__}: {exc}", 3)
    if history_dir is not None:
        from auditor.run.trend import read_trend

        _keep_history(report, history_dir, history_keep)
        report = replace(report, trend=read_trend(history_dir))
    extra = {"sarif": sarif_path, "junit": junit_path, "html": html_path, "csv": csv_path,
             "ocsf": ocsf_path, "asff": asff_path}
    _finish(report, json_path, markdown_path, out_dir, Severity(fail_on), quiet, extra=extra,
            sarif_root=sarif_root)


def _roles(role_arns: tuple[str, ...], roles_file: Path | None, external_id: str | None) -> list[Any]:
    from auditor.collect.accounts import ROLE_ARN, Role, read_roles_file

    for arn in role_arns:
        if not ROLE_ARN.match(arn):
            raise click.BadParameter(f"{arn!r} is not an IAM role ARN", param_hint="--role-arn")
    roles = [Role(arn, external_id) for arn in role_arns]
    if roles_file is not None:
        try:
            roles += read_roles_file(roles_file)
        except AuditorError as exc:
            _fail(str(exc))
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"{roles_file}: cannot read the roles file: {exc}")
    return roles


def _accounts(config: Any, profiles: tuple[str, ...], roles: list[Any], session_name: str,
              org_role: str | None) -> tuple[list[Any], list[Any]]:
    from auditor.run.audit import account_error
    from auditor.collect import Collector
    from auditor.collect.accounts import open_accounts

    many = profiles if len(profiles) > 1 else ()
    clients, failures = open_accounts(config, many, roles, org_role, session_name)
    return ([Collector(c) for c in clients],
            [account_error(f.account, f.label, f.error) for f in failures])


def _shard(text: str | None) -> Any:
    import os

    from auditor.run.audit import Shard

    if text is None:
        return None
    k, _, n = text.rpartition("/")
    if not k:
        index = os.environ.get("JOB_COMPLETION_INDEX") or os.environ.get("AWS_BATCH_JOB_ARRAY_INDEX")
        if index is None or not index.isdigit():
            raise click.BadParameter("K/N, or N with JOB_COMPLETION_INDEX / AWS_BATCH_JOB_ARRAY_INDEX set",
                                     param_hint="--shard")
        k = str(int(index) + 1)
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise click.BadParameter(f"{text!r} is not K/N with 1 <= K <= N", param_hint="--shard")
    return Shard(int(k), int(n))


class _Progress:
    """A click progress bar on stderr, created once the number of buckets is known."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="auditing buckets", file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(1)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def _keep_history(report: Report, directory: Path, keep: int) -> None:
    from auditor.run.history import LATEST, history_file, prune
    from auditor.report import RENDERERS, write_atomic

    text = RENDERERS["json"](report)
    try:
        write_atomic(history_file(directory, report.generated_at), text)
        write_atomic(directory / LATEST, text)
        prune(directory, keep)
    except OSError as exc:  # WriteError included
        _fail(f"history {directory}: {exc}")


def _finish(report: Report, json_path: str | None, markdown_path: str | None, out_dir: Path,
            fail_on: Severity, quiet: bool, exit_on_drift: bool = True,
            extra: dict[str, str | None] | None = None, sarif_root: Path | None = None) -> None:
    from auditor.engine import exit_code
    from auditor.report import configured_renderers, write_atomic

    targets = {"json": json_path, "markdown": markdown_path}
    if json_path is None and markdown_path is None:
        targets = {"json": str(out_dir / "drift-report.json"), "markdown": str(out_dir / "drift-report.md"),
                   "html": str(out_dir / "drift-report.html")}
    targets.update({name: path for name, path in (extra or {}).items() if path is not None})
    renderers = configured_renderers(sarif_root=sarif_root)
    written = []
    for name, target in targets.items():
        if target is not None:
            try:
                write_atomic(target, renderers[name](report))
            except AuditorError as exc:  # the audit ran, but its report cannot be delivered
                _fail(str(exc))
            written.append(target)
    if not quiet:
        _print_summary(report, [w for w in written if w != "-"])
    code = exit_code(report, fail_on)
    sys.exit(code if exit_on_drift or code != 1 else 0)


def _print_summary(report: Report, written: list[str]) -> None:
    s = report.summary
    verdict = "compliant" if s.compliant else "NOT compliant"
    waived = f", {s.waived} waived" if s.waived else ""
    click.echo(f"s3audit: {s.buckets} bucket(s), {s.passed} pass, {s.drift} drift, "
               f"{s.error} error{waived}: {verdict}", err=True)
    for r in report.results:
        if r.status is not Status.PASS or r.change is not None:
            change = f" [{r.change.value}]" if r.change else ""
            click.echo(f"  {r.status.value:<6} {r.severity.value:<8} {r.bucket} {r.control}{change}: "
                       f"{r.message}", err=True)
    for w in report.unused_waivers:
        click.echo(f"  unused waiver: {w.bucket} {w.control} (expires {w.expires}, owner {w.owner})", err=True)
    for path in written:
        click.echo(f"  report: {path}", err=True)


@main.command()
@_specs_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate(specs: tuple[Path, ...], paths: tuple[Path, ...]) -> None:
    """Check spec files (schema and semantic lint) without touching AWS; PATHS add to --specs."""
    spec_set = _load(paths if paths and specs == (Path("specs/"),) else (*specs, *paths))
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


@main.command()
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def diff(old: Path, new: Path) -> None:
    """Compare two JSON reports: what is new, persisting and resolved. Exit 1 if anything is new."""
    from auditor.run.history import diff_reports, load_baseline
    from auditor.model import Change

    try:
        lines = diff_reports(load_baseline(old), load_baseline(new))
    except AuditorError as exc:
        _fail(str(exc))
    for change in (Change.NEW, Change.RESOLVED, Change.PERSISTING):
        group = [line for line in lines if line.change is change]
        click.echo(f"{change.value}: {len(group)}")
        for line in group:
            was = f" (was {line.before})" if line.before else ""
            click.echo(f"  {line.key} {line.status}{was}: {line.message}")
    sys.exit(1 if any(line.change is Change.NEW for line in lines) else 0)


@main.command()
@click.argument("reports", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "json_path", help="Write the merged JSON report to FILE ('-' = stdout).")
@click.option("--markdown", "markdown_path", help="Write the merged Markdown report to FILE.")
@click.option("--out", "out_dir", default="reports/", show_default=True, type=click.Path(path_type=Path))
@click.option("--sarif", "sarif_path", help="Also write SARIF to FILE.")
@click.option("--junit", "junit_path", help="Also write JUnit XML to FILE.")
@_format_options
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="low", show_default=True)
@click.option("--quiet", "-q", is_flag=True)
def merge(reports: tuple[Path, ...], json_path: str | None, markdown_path: str | None, out_dir: Path,
          sarif_path: str | None, junit_path: str | None, html_path: str | None, csv_path: str | None,
          ocsf_path: str | None, asff_path: str | None, sarif_root: Path | None, fail_on: str,
          quiet: bool) -> None:
    """Combine shard reports (from --shard runs) into one report; exit code as for audit."""
    from auditor.report.load import load_report, merge_reports

    try:
        merged = merge_reports([load_report(p) for p in reports])
    except AuditorError as exc:
        _fail(str(exc))
    _finish(merged, json_path, markdown_path, out_dir, Severity(fail_on), quiet,
            extra={"sarif": sarif_path, "junit": junit_path, "html": html_path, "csv": csv_path,
                   "ocsf": ocsf_path, "asff": asff_path}, sarif_root=sarif_root)


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


from auditor.cli_generate import register  # noqa: E402
register(main)
