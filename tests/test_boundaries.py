"""Rules, reports, specs and the engine are pure: they never import boto3 or botocore."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "auditor"
PURE = [
    *sorted((PKG / "rules").glob("*.py")),
    *sorted((PKG / "report").glob("*.py")),
    *sorted((PKG / "spec").glob("*.py")),
    PKG / "engine.py",
    PKG / "model.py",
    PKG / "collect" / "parse.py",
    *sorted((PKG / "policy").glob("*.py")),
]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(PKG)))
def test_pure_module_imports_no_aws_sdk(path: Path) -> None:
    assert not _imports(path) & {"boto3", "botocore", "moto"}


def test_model_imports_nothing_from_the_project() -> None:
    assert "auditor" not in _imports(PKG / "model.py")
