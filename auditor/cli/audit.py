"""`audit`, `demo`, `merge` and `diff`: the commands that produce or compare reports."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

import click

from auditor.cli.common import EXIT_INCOMPLETE, fail, load
from auditor.cli.options import (
    aws_options,
    fail_on_option,
    output_options,
    pack_option,
    quiet_option,
    specs_option,
    targets,
)
from auditor.cli.terminal import Progress, print_summary
from auditor.errors import AuditorError
from auditor.model import Report, Severity
from auditor.run.options import AuditOptions, Outputs


def finish(report: Report, outputs: Outputs, fail_on: Severity, quiet: bool,
           exit_on_drift: bool = True) -> None:
    """Write the reports, print the summary, exit with the run's code."""
    from auditor.engine import exit_code
    from auditor.report import configured_renderers, deliver

    try:
        written = deliver(report, outputs.resolved(), configured_renderers(sarif_root=outputs.sarif_root))
    except AuditorError as exc:  # the audit ran, but its report cannot be delivered
        fail(str(exc))
    if not quiet:
        print_summary(report, [w for w in written if w != "-"])
    code = exit_code(report, fail_on)
    sys.exit(code if exit_on_drift or code != 1 else 0)


def _options(params: dict[str, Any]) -> AuditOptions:
    from auditor.collect import AwsConfig
    from auditor.collect.accounts import ROLE_ARN, Role, read_roles_file
    from auditor.run.plan import parse_shard

    for arn in params["role_arns"]:
        if not ROLE_ARN.match(arn):
            raise click.BadParameter(f"{arn!r} is not an IAM role ARN", param_hint="--role-arn")
    roles = [Role(arn, params["external_id"]) for arn in params["role_arns"]]
    if params["roles_file"] is not None:
        try:
            roles += read_roles_file(params["roles_file"])
        except (OSError, UnicodeDecodeError) as exc:
            raise AuditorError(f"{params['roles_file']}: cannot read the roles file: {exc}") from exc
    shard = None
    if params["shard"] is not None:
        try:
            shard = parse_shard(params["shard"])
        except AuditorError as exc:
            raise click.BadParameter(str(exc).removeprefix("--shard: "), param_hint="--shard") from exc
    from auditor.run.options import Accounts

    return AuditOptions(
        specs=params["specs"],
        aws=AwsConfig(region=params["region"], endpoint_url=params["endpoint_url"],
                      max_pool_connections=max(10, params["concurrency"] * 2)),
        accounts=Accounts(params["profiles"], tuple(roles), params["org_role"],
                          params["session_name"]),
        buckets=params["buckets"], controls=params["controls"],
        concurrency=params["concurrency"], deadline=params["deadline"], shard=shard,
        baseline=params["baseline"], history=params["history_dir"],
        history_keep=params["history_keep"], now=params["now"],
        fail_on=Severity(params["fail_on"]),
        outputs=Outputs(targets(params), params["out_dir"], sarif_root=params["sarif_root"]),
        quiet=params["quiet"], debug=params["debug"],
        save_state=params["save_state"], from_state=params["from_state"],
    )


def _control_keys() -> list[str]:
    from auditor.controls import keys

    return list(keys(implicit=False))


@click.command()
@specs_option
@pack_option
@output_options
@click.option("--profile", "profiles", multiple=True, metavar="NAME",
              help="AWS profile (default: the standard credentials chain); repeat for several accounts.")
@click.option("--role-arn", "role_arns", multiple=True, metavar="ARN",
              help="Audit the account of this role (assumed with STS); repeatable.")
@click.option("--roles-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="FILE", help="File of roles to assume, one 'ROLE-ARN [EXTERNAL-ID]' per line.")
@click.option("--external-id", metavar="ID", help="External id for --role-arn roles.")
@click.option("--session-name", default="s3audit", show_default=True, metavar="NAME",
              help="STS role session name.")
@click.option("--org-role", metavar="ROLE-NAME",
              help="Audit every active account of the Organization through this role.")
@click.option("--shard", metavar="K/N",
              help="Audit slice K of N (by bucket name); 'N' alone takes K from JOB_COMPLETION_INDEX "
                   "or AWS_BATCH_JOB_ARRAY_INDEX (0-based).")
@aws_options
@click.option("--bucket", "buckets", multiple=True, metavar="NAME",
              help="Audit only this bucket; repeatable.")
@click.option("--controls", "controls", multiple=True, type=click.Choice(_control_keys()),
              help="Audit only this control; repeatable.")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="FILE",
              help="A previous JSON report: mark each drift/error new or persisting, fixes resolved.")
@click.option("--history", "history_dir", type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR",
              help="Keep a dated JSON report per run here (and latest.json); the newest earlier "
                   "one is the baseline unless --baseline is given.")
@click.option("--history-keep", type=click.IntRange(1), default=30, show_default=True,
              help="Dated reports to keep in --history.")
@fail_on_option
@click.option("--concurrency", type=click.IntRange(1, 256), default=32, show_default=True,
              help="Requests in flight at most (lowered while AWS throttles).")
@click.option("--save-state", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write the facets read (JSON Lines), to judge again with --from-state.")
@click.option("--from-state", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="FILE", help="Judge a --save-state file instead of reading AWS (no AWS access).")
@click.option("--deadline", type=click.FloatRange(min=1), metavar="SECONDS",
              help="Whole-run limit: buckets not read by then are `error`, and the reports are still written.")
@quiet_option
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
@click.option("--now", type=click.DateTime(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"]), hidden=True,
              help="Run as if at this UTC time (report time, waiver expiry); for replays and tests.")
def audit(**params: Any) -> None:
    """Audit live buckets against the specs and write the drift reports."""
    from auditor.run.audit import baseline_for, run_audit
    from auditor.run.history import keep

    specs = load(params["specs"], params["packs"])
    try:
        options = _options(params)
        baseline = baseline_for(options)
        state = None
        if options.from_state is not None:
            from auditor.run.state import load_state

            state = load_state(options.from_state)
    except AuditorError as exc:
        fail(str(exc))
    try:
        with Progress(enabled=not options.quiet and sys.stderr.isatty()) as progress:
            report = run_audit(options, specs, baseline=baseline,
                               progress=progress.update if progress.enabled else None, state=state)
    except AuditorError as exc:
        fail(str(exc), EXIT_INCOMPLETE)
    except Exception as exc:
        if options.debug:
            traceback.print_exc()
        fail(f"audit failed: {type(exc).__name__}: {exc}", EXIT_INCOMPLETE)
    if options.history is not None:
        from dataclasses import replace

        from auditor.run.trend import read_trend

        try:
            keep(report, options.history, options.history_keep)
        except OSError as exc:  # WriteError included
            fail(f"history {options.history}: {exc}")
        report = replace(report, trend=read_trend(options.history))
    finish(report, options.outputs, options.fail_on, options.quiet)


@click.command()
@click.option("--out", "out_dir", default="reports/", show_default=True,
              type=click.Path(path_type=Path), metavar="DIR", help="Directory for the reports.")
@specs_option
def demo(out_dir: Path, specs: tuple[Path, ...]) -> None:
    """Audit a simulated account (in-process moto) holding the seed's buckets with some drift."""
    from auditor.demo import run_demo

    spec_set = load(specs)
    report, drifts = run_demo(spec_set)
    click.echo("s3audit demo: an in-process moto account holding the specs' buckets, with drifts:", err=True)
    for line in drifts:
        click.echo(f"  - {line}", err=True)
    # The drift is the demonstration, not a failure: exit 0 unless something could not be read.
    finish(report, Outputs(out_dir=out_dir), Severity.LOW, quiet=False, exit_on_drift=False)


@click.command()
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def diff(old: Path, new: Path) -> None:
    """Compare two JSON reports: what is new, persisting and resolved. Exit 1 if anything is new."""
    from auditor.model import Change
    from auditor.run.history import diff_reports, load_baseline

    try:
        lines = diff_reports(load_baseline(old), load_baseline(new))
    except AuditorError as exc:
        fail(str(exc))
    for change in (Change.NEW, Change.RESOLVED, Change.PERSISTING):
        group = [line for line in lines if line.change is change]
        click.echo(f"{change.value}: {len(group)}")
        for line in group:
            was = f" (was {line.before})" if line.before else ""
            click.echo(f"  {line.key} {line.status}{was}: {line.message}")
    sys.exit(1 if any(line.change is Change.NEW for line in lines) else 0)


@click.command()
@click.argument("reports", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_options
@fail_on_option
@quiet_option
def merge(reports: tuple[Path, ...], fail_on: str, quiet: bool, out_dir: Path, **params: Any) -> None:
    """Combine shard reports (from --shard runs) into one report; exit code as for audit."""
    from auditor.report.load import load_report, merge_reports

    try:
        merged = merge_reports([load_report(p) for p in reports])
    except AuditorError as exc:
        fail(str(exc))
    finish(merged, Outputs(targets(params), out_dir, sarif_root=params["sarif_root"]),
           Severity(fail_on), quiet)
