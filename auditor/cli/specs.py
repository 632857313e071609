"""`validate`, `schema`, `init` and `import`: specs checked, described and generated."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from auditor.cli.common import EXIT_INCOMPLETE, fail, load
from auditor.cli.invocation import check_profiles, check_region
from auditor.cli.options import _framework_names, aws_options, pack_option, specs_option
from auditor.cli.terminal import safe_line
from auditor.errors import AuditorError, CollectError


@click.command()
@specs_option
@pack_option
@click.option("--framework", "frameworks", multiple=True, type=click.Choice(_framework_names()),
              metavar="NAME", help="Also warn about entries below this framework's bar "
                                   "(what `--pack NAME` states); repeatable.")
@click.argument("paths", nargs=-1, metavar="[FILE|DIR]...", type=click.Path(path_type=Path))
def validate(specs: tuple[Path, ...], packs: tuple[str, ...], frameworks: tuple[str, ...],
             paths: tuple[Path, ...]) -> None:
    """Check spec files (schema and semantic lint) without touching AWS; PATHS add to --specs.

    Warnings (the spec still loads) include an exact entry that replaces a value its
    `match:` baseline states without listing the key under `overrides:`; notes are advice.
    """
    from auditor.frameworks.bar import findings

    spec_set = load(paths if paths and specs == (Path("specs/"),) else (*specs, *paths), packs,
                    notes=True)
    below = [line for name in frameworks for line in findings(spec_set, name)]
    for line in below:
        click.echo(safe_line(line), err=True)
    entries = len(spec_set.entries)
    extra = f"; {len(below)} below the bar of {', '.join(frameworks)}" if frameworks else ""
    click.echo(f"s3audit: {len(spec_set.files)} spec file(s), {entries} "
               f"entr{'y' if entries == 1 else 'ies'}: valid{extra}")


@click.command()
def schema() -> None:
    """Print the spec JSON Schema (for editors; auditor/spec/schema.json holds the same)."""
    from auditor.spec import schema_text

    click.echo(schema_text(), nl=False)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _out_option(f: Any) -> Any:
    return click.option("--out", "out_dir", required=True, metavar="DIR",
                        type=click.Path(file_okay=False, path_type=Path),
                        help="Directory for the spec files (one <bucket>.yaml each).")(f)


def _force_option(f: Any) -> Any:
    return click.option("--force", is_flag=True, help="Overwrite spec files that already exist.")(f)


def _report(written: list[Path], entries: list[dict[str, Any]], out_dir: Path) -> None:
    from auditor.bootstrap import COMMENTS

    for entry in entries:
        for comment in entry.get(COMMENTS, ()):
            if not str(comment).startswith("source: "):
                click.echo(safe_line(f"  {entry['name']}: {comment}"), err=True)
    click.echo(safe_line(f"s3audit: wrote {len(written)} spec file(s) to {out_dir}"), err=True)
    for path in written:
        click.echo(safe_line(f"  {path}"), err=True)


@click.command("init")
@click.option("--bucket", "buckets", multiple=True, metavar="NAME",
              help="Describe only this bucket (a name or a glob); repeatable (default: every bucket "
                   "of the account).")
@_out_option
@pack_option
@click.option("--specs", "baseline_specs", multiple=True, type=click.Path(path_type=Path),
              metavar="FILE|DIR", help="Baselines already adopted: write only what differs from the "
                                   "`match:` entries of these spec files; repeatable.")
@click.option("--no-buckets", is_flag=True,
              help="With --pack: write only the baseline file; read nothing from AWS.")
@click.option("--profile", metavar="NAME", callback=check_profiles,
              help="AWS profile (default: the standard credentials chain).")
@aws_options
@_force_option
def init(buckets: tuple[str, ...], out_dir: Path, packs: tuple[str, ...],
         baseline_specs: tuple[Path, ...], no_buckets: bool, profile: str | None,
         region: str | None, endpoint_url: str | None, force: bool) -> None:
    """Write specs describing live buckets exactly as they are now (read-only).

    With --pack NAME it also writes the framework's baseline as NAME.yaml, and each bucket's
    file states only what differs from the baselines (--pack, and the `match:` entries of
    --specs): keys the bucket already meets are left to the baseline, and each key where
    it falls short says so in a comment, for review. Without baselines an audit right after
    `init` passes every control. Review the specs before adopting them: they record what
    is, which is not necessarily what should be.
    """
    from botocore.exceptions import BotoCoreError

    from auditor.bootstrap import write_pack, write_specs
    from auditor.bootstrap.from_live import account_label, describe_buckets
    from auditor.cli.invocation import check_environment, region_from_environment
    from auditor.collect import AwsConfig, Clients, Collector

    if no_buckets and not packs:
        fail("--no-buckets writes only the baselines of --pack; name one")
    try:
        written = [write_pack(name, out_dir, force) for name in dict.fromkeys(packs)]
        entries: list[dict[str, Any]] = []
        if not no_buckets:
            baselines = load(baseline_specs, packs) if packs or baseline_specs else None
            check_environment((profile,) if profile else (), region, endpoint_url)
            config = AwsConfig(profile=profile, region=region or region_from_environment(),
                               endpoint_url=endpoint_url)
            collector = Collector(Clients(config))
            entries = describe_buckets(collector, list(buckets) or None, baselines)
            what = "what differs from its baselines" if baselines else "the bucket"
            header = (f"generated by s3audit init at {_now()} from account {account_label(collector)}\n"
                      f"describes {what} as it was then; review before relying on it")
            written += write_specs(entries, out_dir, header, force=force)
    except CollectError as exc:
        fail(str(exc), EXIT_INCOMPLETE)
    except AuditorError as exc:
        fail(str(exc))
    except BotoCoreError as exc:  # no such profile, no credentials, bad endpoint URL
        fail(f"cannot set up AWS access: {exc}")
    _report(written, entries, out_dir)


@click.command("import")
@click.argument("files", nargs=-1, required=True, metavar="FILE...", type=click.Path(path_type=Path))
@_out_option
@click.option("--region", callback=check_region, metavar="NAME",
              help="Region the templates deploy to; fills `region` where a source states none.")
@_force_option
def import_cmd(files: tuple[Path, ...], out_dir: Path, region: str | None, force: bool) -> None:
    """Turn CloudFormation templates and seed-style bucket YAML (or Markdown) into specs.

    Reads AWS::S3::Bucket and AWS::S3::BucketPolicy resources, and ```yaml blocks with
    BucketName in Markdown. Values decided only at deploy time (parameters, !If ...) are
    left out with a warning. public_access is `none` when the public access block sets both
    IgnorePublicAcls and RestrictPublicBuckets, `read` when the policy grants anonymous
    s3:GetObject and nothing more; tls_only is `true` when the policy denies plain HTTP.
    """
    from auditor.bootstrap import write_specs
    from auditor.bootstrap.from_cfn import import_templates

    def warn(message: str) -> None:
        click.echo(safe_line(f"s3audit: warning: {message}"), err=True)

    try:
        entries = import_templates(files, region=region, warn=warn)
        header = f"generated by s3audit import at {_now()} from {', '.join(map(str, files))}"
        written = write_specs(entries, out_dir, header, force=force)
    except AuditorError as exc:
        fail(str(exc))
    _report(written, entries, out_dir)
