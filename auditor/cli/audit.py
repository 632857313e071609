"""`audit`, `demo`, `merge` and `diff`: the commands that produce or compare reports."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from auditor.cli.common import EXIT_DRIFT, EXIT_INCOMPLETE, fail, load
from auditor.cli.invocation import check_profiles
from auditor.cli.options import (
    aws_options,
    fail_on_option,
    output_options,
    pack_option,
    quiet_option,
    specs_option,
    targets,
)
from auditor.cli.signals import Interrupt
from auditor.cli.terminal import Progress, escape, print_summary, safe_line
from auditor.errors import AuditorError, InvocationError
from auditor.model import Report, Severity, SpecSet
from auditor.run.history import Baseline
from auditor.run.options import AuditOptions, Outputs


def finish(report: Report, outputs: Outputs, fail_on: Severity, quiet: bool,
           exit_on_drift: bool = True, interrupt: Interrupt | None = None,
           history: tuple[Path, int] | None = None) -> NoReturn:
    """Write every report that can be written, print the summary last, exit with the run's code.

    A target that cannot be written does not stop the others (nor the history): the run
    exits 3 naming it. After a signal that came once every read had finished, 128 + its
    number (the reports are complete; an interrupted read makes it 3).
    """
    from auditor.engine import exit_code

    failed = keep_history(report, *history) if history is not None else []
    if history is not None:
        report = _with_trend(report, history[0])
    written, not_written = deliver_all(report, outputs)
    failed = not_written + failed
    print_summary(report, [w for w in written if w != "-"], failed, quiet)
    code = exit_code(report, fail_on)
    if not exit_on_drift and code == EXIT_DRIFT:
        code = 0
    if failed:
        code = EXIT_INCOMPLETE
    if interrupt is not None and interrupt.signum is not None and code != EXIT_INCOMPLETE:
        code = interrupt.exit_code  # every read had finished: the reports are complete
    sys.exit(code)


def _with_trend(report: Report, directory: Path) -> Report:
    """The report with the drift/error trend of the kept runs (for the HTML report)."""
    from dataclasses import replace

    from auditor.run.trend import read_trend

    try:
        return replace(report, trend=read_trend(directory))
    except (OSError, AuditorError):  # the history said why already; the reports still go out
        return report


def deliver_all(report: Report, outputs: Outputs) -> tuple[list[str], list[str]]:
    """(targets written, one message per target not written); a failure never stops the rest."""
    from auditor.report import configured_renderers, deliver

    renderers = configured_renderers(sarif_root=outputs.sarif_root)
    written: list[str] = []
    failed: list[str] = []
    for name, target in outputs.resolved():
        try:
            written += deliver(report, ((name, target),), renderers)
        except AuditorError as exc:
            failed.append(str(exc))
            if target == "-":
                _silence_stdout()
    return written, failed


def keep_history(report: Report, directory: Path, keep_count: int) -> list[str]:
    """Add the report to the history directory; a message when it could not be."""
    from auditor.run.history import keep

    try:
        keep(report, directory, keep_count)
    except (OSError, AuditorError) as exc:  # WriteError included
        return [f"history {directory}: {exc}"]
    return []


def _silence_stdout() -> None:
    # The reader of stdout has gone: the interpreter's own flush at exit would fail again
    # ("Exception ignored ... BrokenPipeError"); point the descriptor at /dev/null.
    with contextlib.suppress(Exception):
        fd = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)


def preflight(outputs: Outputs, history: Path | None) -> None:
    """Every report target writable before the first AWS read; exit 2 naming each that is not."""
    from auditor.files import unwritable

    problems = [p for _, target in outputs.resolved() if (p := unwritable(target))]
    if history is not None:
        if history.exists() and not history.is_dir():
            problems.append(f"--history {history} is not a directory")
        elif (p := unwritable(history / ".s3audit-preflight")) is not None:
            problems.append(f"--history: {p}")
    for problem in problems[:-1]:
        click.echo(f"s3audit: {safe_line(problem)}", err=True)
    if problems:
        fail(f"{safe_line(problems[-1])}; nothing audited")


def _options(params: dict[str, Any]) -> AuditOptions:
    from auditor.cli.invocation import region_from_environment
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
        aws=AwsConfig(region=params["region"] or region_from_environment(),
                      endpoint_url=params["endpoint_url"],
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
@click.option("--profile", "profiles", multiple=True, metavar="NAME", callback=check_profiles,
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
              metavar="CONTROL",
              help="Audit only this control (a spec key; `s3audit rules` lists them); repeatable.")
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
    from auditor.cli.invocation import check_environment
    from auditor.run.audit import baseline_for

    specs = load(params["specs"], params["packs"], quiet=params["quiet"])
    try:
        check_environment(params["profiles"], params["region"], params["endpoint_url"])
        options = _options(params)
        preflight(options.outputs, options.history)
        baseline = baseline_for(options)
        state = None
        if options.from_state is not None:
            from auditor.run.state import load_state

            state = load_state(options.from_state)
    except AuditorError as exc:
        fail(str(exc))
    history = (options.history, options.history_keep) if options.history is not None else None
    with Interrupt() as interrupt:
        report = _run(options, specs, baseline, interrupt, state)
        finish(report, options.outputs, options.fail_on, options.quiet, interrupt=interrupt,
               history=history)


def _run(options: AuditOptions, specs: SpecSet, baseline: Baseline | None, interrupt: Interrupt,
         state: Any = None) -> Report:
    from dataclasses import replace

    from auditor.run.audit import run_audit

    try:
        with Progress(enabled=not options.quiet and sys.stderr.isatty()) as progress:
            report = run_audit(options, specs, baseline=baseline, stop=interrupt.stop,
                               progress=progress.update if progress.enabled else None, state=state)
    except InvocationError as exc:  # e.g. no bucket matches --bucket: nothing audited
        fail(str(exc))
    except AuditorError as exc:
        fail(str(exc), EXIT_INCOMPLETE)
    except Exception as exc:
        if options.debug:
            traceback.print_exc()
        fail(f"audit failed: {type(exc).__name__}: {exc}", EXIT_INCOMPLETE)
    if interrupt.stop.is_set() and interrupt.name:
        report = replace(report, extra=(*report.extra, ("interrupted", interrupt.name)))
    return report


@click.command()
@click.option("--out", "out_dir", default="reports/", show_default=True,
              type=click.Path(path_type=Path), metavar="DIR", help="Directory for the reports.")
@specs_option
@click.pass_context
def demo(ctx: click.Context, out_dir: Path, specs: tuple[Path, ...]) -> None:
    """Audit a simulated account (in-process moto) holding the seed's buckets with some drift.

    Without --specs and without a specs/ directory here, the seed's five buckets shipped with
    s3audit are used, so the demo runs from any directory.
    """
    from auditor.demo import packaged_specs, run_demo

    defaulted = ctx.get_parameter_source("specs") is click.core.ParameterSource.DEFAULT
    if defaulted and not any(p.exists() for p in specs):
        specs = (packaged_specs(),)
    spec_set = load(specs)
    report, drifts = run_demo(spec_set)
    click.echo("s3audit demo: an in-process moto account holding the specs' buckets, with drifts:", err=True)
    for line in drifts:
        click.echo(safe_line(f"  - {line}"), err=True)
    # The drift is the demonstration, not a failure: exit 0 unless something could not be read.
    finish(report, Outputs(out_dir=out_dir), Severity.LOW, quiet=False, exit_on_drift=False)


@click.command()
@click.argument("old", metavar="OLD.json", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", metavar="NEW.json", type=click.Path(exists=True, dir_okay=False, path_type=Path))
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
            click.echo(safe_line(f"  {line.key} {line.status}{was}: {escape(line.message)}"))
    sys.exit(1 if any(line.change is Change.NEW for line in lines) else 0)


@click.command()
@click.argument("reports", nargs=-1, required=True, metavar="SHARD.json...",
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
