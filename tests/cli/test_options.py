"""The command line as a user meets it: help on every option, FILE/DIR metavars, shell
completion, and defaults from s3audit.toml or pyproject.toml that command-line flags override."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from auditor.cli import main
from tests.conftest import SPECS

PATH_METAVARS = {"FILE", "DIR", "FILE|DIR"}


def _commands() -> list[tuple[str, click.Command]]:
    return [("s3audit", main), *((f"s3audit {n}", c) for n, c in sorted(main.commands.items()))]


@pytest.mark.parametrize(("name", "command"), _commands(), ids=[n for n, _ in _commands()])
def test_every_option_has_help_and_paths_say_file_or_dir(name: str, command: click.Command) -> None:
    for p in command.params:
        if isinstance(p, click.Option) and not p.hidden:
            assert p.help, f"{name} {p.opts[0]} has no help text"
            if isinstance(p.type, click.Path):
                assert p.metavar in PATH_METAVARS, f"{name} {p.opts[0]}: metavar {p.metavar}"
        if isinstance(p, click.Argument) and isinstance(p.type, click.Path):
            assert p.metavar and p.metavar.strip("[].").split(".")[0] in {"FILE", "FILE|DIR", "OLD", "NEW", "SHARD"}
    assert command.help, f"{name} has no help"


def test_shell_completion_is_clicks_and_is_documented() -> None:
    env = {**os.environ, "_S3AUDIT_COMPLETE": "bash_source"}
    script = subprocess.run([sys.executable, "-m", "auditor"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert "_s3audit_completion" in script.stdout or "complete -o" in script.stdout
    assert "_S3AUDIT_COMPLETE=bash_source s3audit" in (main.help or "")
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "_S3AUDIT_COMPLETE=bash_source s3audit" in readme


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_s3audit_toml_gives_defaults_and_flags_win(seeded_server: str, here: Path) -> None:
    (here / "s3audit.toml").write_text(
        f'specs = ["{SPECS}"]\nendpoint-url = "{seeded_server}"\nfail-on = "HIGH"\n\n[audit]\nout = "nightly/"\n')
    first = CliRunner().invoke(main, ["audit"])
    assert first.exit_code == 0, first.output
    assert json.loads((here / "nightly" / "drift-report.json").read_text())["summary"]["buckets"] == 5
    flag = CliRunner().invoke(main, ["audit", "--out", "other", "--endpoint-url", "http://127.0.0.1:9"])
    assert flag.exit_code == 3  # the flag's endpoint, not the file's
    assert (here / "other" / "drift-report.json").exists()


def test_pyproject_tool_table_gives_defaults(seeded_server: str, here: Path) -> None:
    (here / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n[tool.s3audit]\nspecs = ["{SPECS}"]\nendpoint-url = "{seeded_server}"\n'
        '[tool.s3audit.audit]\njson = "-"\n')
    result = CliRunner().invoke(main, ["audit"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["compliant"] is True
    assert not (here / "reports").exists()  # --json given (by the file): no default pair


def test_a_config_file_named_with_config_has_paths_relative_to_it(seeded_server: str, here: Path) -> None:
    conf = here / "etc" / "audit.toml"
    conf.parent.mkdir()
    conf.write_text(f'specs = ["{SPECS}"]\nendpoint-url = "{seeded_server}"\n[audit]\nout = "reports/"\n')
    result = CliRunner().invoke(main, ["--config", str(conf), "audit"])
    assert result.exit_code == 0, result.output
    assert (here / "etc" / "reports" / "drift-report.json").exists()


@pytest.mark.parametrize(("text", "message"), [
    ('fial-on = "high"\n', "s3audit.toml:1: unknown key 'fial-on'; did you mean 'fail-on'?"),
    ('[audti]\nout = "x"\n', "s3audit.toml:1: unknown key 'audti'; did you mean 'audit'?"),
    ('[audit]\nfail-on = "extreme"\n', "s3audit.toml:2: fail-on: Invalid value for '--fail-on': 'extreme' is "
                                       "not one of 'low', 'medium', 'high', 'critical'."),
    ('[validate]\nquiet = true\n', "s3audit.toml:2: unknown key 'quiet' in [validate]"),
    ("x = \n", "s3audit.toml: cannot read the config: Invalid value (at line 1, column 5)"),
])
def test_a_bad_config_is_exit_2_naming_file_and_line(here: Path, text: str, message: str) -> None:
    (here / "s3audit.toml").write_text(text)
    result = CliRunner().invoke(main, ["audit", "--out", str(here / "out")])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(f"s3audit: {here / message.split(':')[0]}")
    assert message in result.stderr.splitlines()[0]
    assert not (here / "out").exists()


def test_shared_out_is_the_report_directory_never_inits_spec_directory(here: Path) -> None:
    (here / "s3audit.toml").write_text('out = "reports/"\n')
    result = CliRunner().invoke(main, ["init", "--endpoint-url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "Missing option '--out'" in result.stderr
