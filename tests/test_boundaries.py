"""The one-way flow, judged by what is really loaded (sys.modules in a fresh interpreter), not
by import lines: a "pure" module that pulls boto3 in through a package __init__ is caught."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "auditor"
AWS_SDK = ("boto3", "botocore", "moto")

# Layers that judge, describe or render: no AWS SDK, no collector.
PURE = [
    "auditor.model", "auditor.errors", "auditor.jsonable", "auditor.shapes", "auditor.files",
    "auditor.engine", "auditor.controls", "auditor.policy.document", "auditor.policy.evaluate",
    "auditor.policy.globs", "auditor.spec", "auditor.cfn.values", "auditor.cfn.intrinsics",
    "auditor.report", "auditor.report.json_report", "auditor.report.markdown",
    "auditor.report.sarif", "auditor.report.junit", "auditor.report.load",
    "auditor.frameworks", "auditor.frameworks.pack", "auditor.frameworks.bar",
    *sorted(f"auditor.controls.{p.stem}" for p in (PKG / "controls").glob("[!_]*.py")),
]


def _loaded(*modules: str) -> list[str]:
    """Every module loaded after importing these, in a fresh interpreter."""
    code = (f"import importlib, json, sys; [importlib.import_module(m) for m in {list(modules)!r}]; "
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def _forbidden(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in AWS_SDK
            or m.startswith(("auditor.collect", "auditor.run", "auditor.cli"))]


def test_pure_modules_load_no_aws_sdk_and_no_collector() -> None:
    # All of them in one interpreter: if any one pulled boto3 in, the union holds it. Only then
    # is each imported alone, to name the culprit (one interpreter each costs a second of CPU).
    if not _forbidden(_loaded(*PURE)):
        return
    culprits = {m: _forbidden(_loaded(m)) for m in PURE}
    assert not {m: found for m, found in culprits.items() if found}


def test_report_uses_only_the_model_and_public_control_metadata() -> None:
    ours = {m for m in _loaded("auditor.report") if m.startswith("auditor.")}
    allowed = ("auditor.model", "auditor.jsonable", "auditor.files", "auditor.errors", "auditor.report",
               "auditor.controls", "auditor.cfn", "auditor.policy", "auditor.shapes")
    assert {m for m in ours if not m.startswith(allowed)} == set()


def test_the_check_detects_a_leak() -> None:
    # The probe itself works: the collector does load boto3, and is reported.
    assert "boto3" in _forbidden(_loaded("auditor.model", "auditor.collect"))


def test_model_imports_nothing_from_the_project() -> None:
    assert [m for m in _loaded("auditor.model") if m.startswith("auditor")] == ["auditor", "auditor.model"]
