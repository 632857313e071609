"""Each command-line option once, as a decorator; commands stack the ones they take."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor.model import Severity
from auditor.run.options import DEFAULT_OUT, DEFAULT_SPECS

F = TypeVar("F", bound=Callable[..., Any])
SEVERITIES = [s.value for s in Severity]
# Report formats besides the JSON and Markdown pair, by option name.
EXTRA_FORMATS: tuple[tuple[str, str], ...] = (
    ("sarif", "Also write a SARIF 2.1.0 report to FILE ('-' = stdout)."),
    ("junit", "Also write a JUnit XML report to FILE ('-' = stdout)."),
    ("html", "Also write the HTML report to FILE (--out writes drift-report.html by default)."),
    ("csv", "Also write a CSV report (one row per result) to FILE."),
    ("ocsf", "Also write OCSF Compliance Finding events (JSON) to FILE."),
    ("asff", "Also write Security Hub ASFF findings (JSON) to FILE."),
)


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(f: F) -> F:
        for decorator in reversed(decorators):
            f = decorator(f)
        return f
    return apply


# A report target: a file, "-" for stdout, or a device/FIFO (written to directly).
REPORT_FILE = click.Path(dir_okay=False, allow_dash=True)


def specs_option(f: F) -> F:
    return click.option(
        "--specs", "specs", multiple=True, default=tuple(str(p) for p in DEFAULT_SPECS),
        show_default=True, type=click.Path(path_type=Path), metavar="FILE|DIR",
        help="Spec file or directory (all *.yaml/*.yml below it); repeatable.",
    )(f)


def _framework_names() -> list[str]:
    from auditor.frameworks import NAMES

    return list(NAMES)


def pack_option(f: F) -> F:
    """--pack NAME: a framework's built-in baseline beneath the specs (repeatable)."""
    return click.option(
        "--pack", "packs", multiple=True, type=click.Choice(_framework_names()), metavar="NAME",
        help="Add a framework's built-in baseline (aws-fsbp, cis-aws) for every bucket and account, "
             "beneath the specs (theirs win key by key); repeatable. Runs without a spec directory.",
    )(f)


def output_options(f: F) -> F:
    """--json, --markdown, --out and every extra format: the report targets."""
    extra = [click.option(f"--{name}", f"{name}_path", metavar="FILE", type=REPORT_FILE, help=text)
             for name, text in EXTRA_FORMATS]
    return _stack(
        click.option("--json", "json_path", metavar="FILE", type=REPORT_FILE,
                     help="Write the JSON report to FILE ('-' = stdout)."),
        click.option("--markdown", "markdown_path", metavar="FILE", type=REPORT_FILE,
                     help="Write the Markdown report to FILE ('-' = stdout)."),
        click.option("--out", "out_dir", default=str(DEFAULT_OUT), show_default=True,
                     type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
                     help="Directory for the default reports when neither --json nor --markdown is given."),
        *extra,
        click.option("--sarif-root", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
                     help="SARIF URIs are relative to this directory (default: the current one)."),
    )(f)


def fail_on_option(f: F) -> F:
    return click.option("--fail-on", type=click.Choice(SEVERITIES, case_sensitive=False), default="low",
                        show_default=True,
                        help="Exit 1 only for drift at or above this severity (any case).")(f)


def quiet_option(f: F) -> F:
    return click.option("--quiet", "-q", is_flag=True,
                        help="Print nothing but errors (each cause once) and reports not written.")(f)


def region_option(f: F) -> F:
    from auditor.cli.invocation import check_region

    return click.option("--region", metavar="NAME", callback=check_region,
                        help="Region for global calls (default: AWS_REGION, AWS_DEFAULT_REGION, "
                             "the profile's).")(f)


def endpoint_option(f: F) -> F:
    from auditor.cli.invocation import check_endpoint

    return click.option("--endpoint-url", metavar="URL", callback=check_endpoint,
                        help="Send every AWS call (S3, S3 Control, STS, KMS) to this URL, "
                             "e.g. http://127.0.0.1:5000 (default: AWS_ENDPOINT_URL).")(f)


def aws_options(f: F) -> F:
    """--region and --endpoint-url (the profile options differ between commands)."""
    return _stack(region_option, endpoint_option)(f)


def targets(params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(format, target) for each report option the user gave."""
    given = [("json", params.get("json_path")), ("markdown", params.get("markdown_path"))]
    given += [(name, params.get(f"{name}_path")) for name, _ in EXTRA_FORMATS]
    return tuple((name, str(path)) for name, path in given if path is not None)
