"""Defaults for command-line options from a TOML file, so cron, CI and Kubernetes lines stop
repeating every flag. Options given on the command line win (click's `default_map`).

Looked up in the working directory: `s3audit.toml`, else the `[tool.s3audit]` table of
`pyproject.toml`; or named with `s3audit --config FILE`. Keys are option names (`fail-on`
or `fail_on`); a top-level key applies to every command that has that option, a table
`[audit]` (`[tool.s3audit.audit]`) to that command only:

    specs = ["specs/"]
    endpoint-url = "http://127.0.0.1:5000"
    fail-on = "high"

    [audit]
    json = "reports/drift-report.json"
    history = "history/"

An unknown key is an error (exit 2) naming the file and line, with the closest key: a
misspelt default must not be silently ignored. Relative paths in a file named with
`--config` are relative to that file's directory.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
CONFIG_NAME = "s3audit.toml"
PYPROJECT = "pyproject.toml"
# Options whose name means something else in these commands: a shared `out` is the report
# directory, while init and import write spec files into their --out.
_NOT_SHARED = frozenset({("init", "out_dir"), ("import", "out_dir")})


class ConfigError(click.ClickException):
    """A config file that cannot be used: exit 2, like any bad invocation."""

    exit_code = 2


def config_option(f: F) -> F:
    option = click.option(
        "--config", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
        is_eager=True, expose_value=False, callback=_apply,
        help=f"Defaults for options, in TOML (default: ./{CONFIG_NAME}, else [tool.s3audit] "
             f"in ./{PYPROJECT}); command-line options win.",
    )
    return option(f)


def _apply(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    found = find_config(value)
    if found is not None:
        path, table = found
        assert isinstance(ctx.command, click.Group)
        ctx.default_map = default_map(ctx.command, table, path, explicit=value is not None)


def find_config(explicit: Path | None, cwd: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """(file, its s3audit table): the file named, else ./s3audit.toml, else ./pyproject.toml's."""
    if explicit is not None:
        if not explicit.is_file():
            raise click.BadParameter(f"{explicit}: no such file", param_hint="--config")
        return explicit, _table(explicit, required=True)
    here = cwd or Path.cwd()
    if (here / CONFIG_NAME).is_file():
        return here / CONFIG_NAME, _table(here / CONFIG_NAME, required=True)
    if (here / PYPROJECT).is_file():
        table = _table(here / PYPROJECT, required=False)
        return (here / PYPROJECT, table) if table else None
    return None


def _table(path: Path, required: bool) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc}") from exc
    if path.name != PYPROJECT:
        return data
    table = data.get("tool", {}).get("s3audit")
    if table is None and required:
        raise ConfigError(f"{path}: no [tool.s3audit] table")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.s3audit] must be a table")
    return table or {}


def _options(command: click.Command) -> dict[str, click.Parameter]:
    """A command's options by every spelling a config key may use."""
    found: dict[str, click.Parameter] = {}
    for p in command.params:
        if not isinstance(p, click.Option) or p.hidden or not p.name or p.name in ("help",):
            continue
        for spelling in (*(o.lstrip("-") for o in p.opts if o.startswith("--")), p.name):
            found.setdefault(spelling, p)
            found.setdefault(spelling.replace("_", "-"), p)
    return found


def _line(path: Path, key: str) -> int:
    pattern = re.compile(rf"^\s*(\[.*\b{re.escape(key)}\b.*\]|[\"']?{re.escape(key)}[\"']?\s*=)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 1
    return next((n for n, text in enumerate(lines, 1) if pattern.match(text)), 1)


def _unknown(path: Path, key: str, known: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return ConfigError(f"{path}:{_line(path, key)}: unknown key '{key}'{where}{hint}")


def default_map(group: click.Group, table: Mapping[str, Any], path: Path,
                explicit: bool = False) -> dict[str, dict[str, Any]]:
    """click's default_map for every command of the group from one config table."""
    commands = group.commands
    shared = {k: v for k, v in table.items() if not (k in commands and isinstance(v, dict))}
    out: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for name, command in commands.items():
        options = _options(command)
        values: dict[str, Any] = {}
        for key, value in shared.items():
            p = options.get(key)
            if p is not None and (name, p.name) not in _NOT_SHARED:
                values[str(p.name)] = _value(p, value, path, key, explicit)
                used.add(key)
        own = table.get(name)
        for key, value in (own.items() if isinstance(own, dict) else ()):
            p = options.get(key)
            if p is None:
                raise _unknown(path, key, sorted({o for o in options if "_" not in o}), f" in [{name}]")
            values[str(p.name)] = _value(p, value, path, key, explicit)
        if values:
            out[name] = values
    every = sorted({o for c in commands.values() for o in _options(c) if "_" not in o} | set(commands))
    for key in shared:
        if key not in used:
            raise _unknown(path, key, every, "")
    return out


def _value(p: click.Parameter, value: Any, path: Path, key: str, explicit: bool) -> Any:
    """The config value as the option takes it: a list for a repeatable option, paths
    relative to a --config file's directory, and refused early when the type does not fit."""
    if getattr(p, "multiple", False) and not isinstance(value, list):
        value = [value]
    if isinstance(value, (dict, list)) and not getattr(p, "multiple", False):
        raise ConfigError(f"{path}:{_line(path, key)}: {key}: expected one value, not a "
                               f"{'table' if isinstance(value, dict) else 'list'}")
    if explicit and isinstance(p.type, click.Path):
        base = path.parent
        value = ([_relative(base, str(v)) for v in value] if isinstance(value, list)
                 else _relative(base, str(value)))
    try:
        p.type_cast_value(click.Context(click.Command("config")), value)
    except click.BadParameter as exc:
        raise ConfigError(f"{path}:{_line(path, key)}: {key}: {exc.format_message()}") from exc
    return value


def _relative(base: Path, value: str) -> str:
    return value if value == "-" or Path(value).is_absolute() else str(base / value)
