"""Meta-tests: the rule registry, the facet table, the docs and the case files agree."""

from __future__ import annotations

import inspect
import pkgutil
from pathlib import Path

import pytest
import yaml

import auditor.rules
from auditor.collect.facets import FACETS
from auditor.docs import permissions_policy, rules_markdown
from auditor.model import CONTROLS
from auditor.rules import RULES, by_control
from auditor.rules.registry import ID_PATTERN
from auditor.spec import load_specs

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "rules" / "cases"


def test_every_contract_control_has_exactly_one_rule() -> None:
    assert sorted(by_control()) == sorted(CONTROLS)
    assert len(RULES) == len(CONTROLS)


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_metadata_is_complete(rule_id: str) -> None:
    rule = RULES[rule_id]
    assert ID_PATTERN.match(rule.id)
    doc = rule.doc
    assert doc.splitlines()[0].strip(), "docstring needs a first line saying what is wrong"
    assert "Why it matters:" in doc
    assert rule.remediation
    assert all(f in FACETS and FACETS[f].iam_action for f in rule.reads)
    params = inspect.signature(rule.check).parameters
    extra = 1 if rule.control in ("exists", "managed") else 0  # their verdict comes from the listing
    assert len(params) == 2 + len(rule.reads) + extra


def _case_verdicts() -> dict[str, set[str]]:
    verdicts: dict[str, set[str]] = {}
    for path in CASES.glob("*.yaml"):
        for case in yaml.safe_load(path.read_text()):
            control = case.get("control") or next(iter(case["spec"]))
            verdicts.setdefault(control, set()).add(case["expect"])
    return verdicts


@pytest.mark.parametrize("control", sorted(set(CONTROLS) - {"exists", "managed"}))
def test_every_rule_has_pass_drift_and_error_cases(control: str) -> None:
    assert _case_verdicts().get(control, set()) >= {"pass", "drift", "error"}


def test_every_rule_module_is_imported_by_the_package() -> None:
    init = (ROOT / "auditor" / "rules" / "__init__.py").read_text()
    for mod in pkgutil.iter_modules(auditor.rules.__path__):
        if not mod.name.startswith("_") and mod.name != "registry":
            assert mod.name in init, f"auditor/rules/{mod.name}.py is not imported"


def test_docs_rules_md_is_current() -> None:
    assert (ROOT / "docs" / "rules.md").read_text() == rules_markdown(), (
        "docs/rules.md is stale: run `s3audit rules --format markdown > docs/rules.md`"
    )


def test_shipped_specs_validate() -> None:
    specs = load_specs([ROOT / "specs"])
    assert sorted(b.name for b in specs.buckets if b.name) == [
        "amply-backups-prod", "amply-frontend-prod", "amply-public-data",
        "amply-storage-prod", "amply-widgets-prod",
    ]


def test_permissions_cover_every_call_the_collector_can_make() -> None:
    actions = set(permissions_policy()["Statement"][0]["Action"])  # type: ignore[index]
    assert {spec.iam_action for spec in FACETS.values()} <= actions
    assert {"s3:ListAllMyBuckets", "sts:GetCallerIdentity"} <= actions
    assert all(a.split(":")[1].startswith(("Get", "List", "Describe")) for a in actions)
