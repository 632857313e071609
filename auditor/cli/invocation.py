"""Bad invocations refused before anything is read (exit 2, with a hint, nothing written).

An unknown profile names the profiles that exist; an endpoint needs a scheme and a host; a
region must be one botocore's partition data knows (with the nearest names); the same checks
apply to the AWS_PROFILE, AWS_ENDPOINT_URL and AWS_REGION/AWS_DEFAULT_REGION variables, which
would otherwise fail later, once per bucket, as if AWS were at fault.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

import click

from auditor.errors import InvocationError

ENDPOINT_EXAMPLE = "http://127.0.0.1:5000"


def endpoint_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number or out of range
    except ValueError as exc:
        return f"not a URL ({exc}); e.g. {ENDPOINT_EXAMPLE}"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"an endpoint needs a scheme, e.g. {ENDPOINT_EXAMPLE}"
    if not parts.hostname or (port is None and parts.netloc.endswith(":")):
        return f"no host in the URL; e.g. {ENDPOINT_EXAMPLE}"
    return None


def region_problem(name: str) -> str | None:
    """Why `name` is not a region of any partition, or None."""
    from auditor.collect.known import regions

    known = regions()
    if name in known:
        return None
    close = difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; regions: {', '.join(known)}"
    return f"not an AWS region{hint}"


def profile_problem(name: str, known: Sequence[str]) -> str | None:
    """Why `name` is not a configured profile, or None."""
    if name in known:
        return None
    if not known:
        where = os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")
        return f"no such profile: no profiles are configured (in {where} or the credentials file)"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"no such profile; the profiles are: {', '.join(known)}{hint}"


def _shown(value: str) -> str:
    from auditor.cli.terminal import escape

    return escape(value, 120)


def check_endpoint(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """click callback for --endpoint-url."""
    if value is not None and (problem := endpoint_problem(value)):
        raise click.BadParameter(f"{_shown(value)}: {problem}")
    return value


def check_region(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """click callback for --region."""
    if value is not None and (problem := region_problem(value)):
        raise click.BadParameter(f"{_shown(value)}: {problem}")
    return value


def check_profiles(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """click callback for --profile (one or repeated)."""
    from auditor.collect.known import profiles

    names = value if isinstance(value, tuple) else (() if value is None else (value,))
    if names:
        known = profiles()
        for name in names:
            if problem := profile_problem(str(name), known):
                raise click.BadParameter(f"{_shown(str(name))}: {problem}")
    return value


def check_environment(profiles_given: Iterable[str] = (), region_given: str | None = None,
                      endpoint_given: str | None = None) -> None:
    """The AWS_* variables a run would use in place of options not given; InvocationError."""
    env = os.environ
    if not tuple(profiles_given) and env.get("AWS_PROFILE"):
        from auditor.collect.known import profiles

        if problem := profile_problem(env["AWS_PROFILE"], profiles()):
            raise InvocationError(f"AWS_PROFILE={_shown(env['AWS_PROFILE'])}: {problem}")
    url = env.get("AWS_ENDPOINT_URL") if endpoint_given is None else None
    if url and (problem := endpoint_problem(url)):
        raise InvocationError(f"AWS_ENDPOINT_URL={_shown(url)}: {problem}")
    if region_given is None:
        for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            if env.get(var):
                if problem := region_problem(env[var]):
                    raise InvocationError(f"{var}={_shown(env[var])}: {problem}")
                break  # the first one set is the one the run uses (see `region_from_environment`)


def region_from_environment() -> str | None:
    """AWS_REGION, which the AWS CLI and SDKs prefer to AWS_DEFAULT_REGION (botocore reads
    only the latter); None lets botocore decide (AWS_DEFAULT_REGION, then the profile)."""
    return os.environ.get("AWS_REGION") or None
