"""Spec fixtures: every valid file loads; every invalid case reports exactly what it expects.

An invalid case is a file, or a directory loaded as one spec set, under fixtures/invalid/.
Its files state each expected problem in a leading comment:

    # expect: LINE: KEY: MESSAGE SUBSTRING

(KEY empty for file-level problems such as YAML syntax errors.) The case must report those
problems and no others, so a duplicated or mislocated problem fails the test.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from auditor.errors import SpecError, SpecProblem
from auditor.spec import check_specs, load_specs

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
VALID = sorted((FIXTURES / "valid").glob("*.yaml"))
INVALID = sorted((FIXTURES / "invalid").iterdir())
EXPECT = re.compile(r"^# expect: (\d+): ([^:]*): (.+)$")


@dataclass(frozen=True)
class Expected:
    file: str
    line: int
    key: str
    text: str

    def matches(self, problem: SpecProblem) -> bool:
        return (problem.file, problem.line, problem.key) == (self.file, self.line, self.key) \
            and self.text in problem.message


def _relative(path: Path) -> str:
    return os.path.relpath(path, ROOT)


def expectations(case: Path) -> list[Expected]:
    files = sorted(case.rglob("*.yaml")) if case.is_dir() else [case]
    found = []
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            if match := EXPECT.match(line):
                number, key, text = match.groups()
                found.append(Expected(_relative(file), int(number), key, text.strip()))
    return found


@pytest.fixture(autouse=True)
def _run_from_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Problems name files as given; relative paths keep the expectations short.
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_fixture_loads(path: Path) -> None:
    specs = load_specs([_relative(path)])
    assert specs.files == (_relative(path),)


@pytest.mark.parametrize("case", INVALID, ids=[p.name for p in INVALID])
def test_invalid_fixture_reports_expected_problems(case: Path) -> None:
    expected = expectations(case)
    assert expected, f"{case.name} states no '# expect:' line"
    with pytest.raises(SpecError) as raised:
        load_specs([_relative(case)])
    problems = list(raised.value.problems)
    for want in expected:
        assert any(want.matches(p) for p in problems), (
            f"expected {want}, got:\n" + "\n".join(str(p) for p in problems)
        )
    assert len(problems) == len(expected), "\n".join(str(p) for p in problems)


def test_every_invalid_case_is_also_reported_by_check_specs() -> None:
    for case in INVALID:
        assert check_specs([_relative(case)]), case.name


def test_project_specs_validate_when_present() -> None:
    if not (ROOT / "specs").is_dir():
        pytest.skip("specs/ not written yet")
    assert check_specs(["specs"]) == ()
