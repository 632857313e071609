"""Meta-tests: the control registry, the facet table, the docs and the case files agree.

Every control has every part or says why not; every part that exists is exercised here."""

from __future__ import annotations

import functools
import inspect
import pkgutil
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

import auditor.controls
from auditor.catalog import permissions_policy, rules_markdown
from auditor.collect.facets import FACETS, READ_ONLY_OPERATIONS
from auditor.controls import CONTROLS, Control, Ref, example_remediation, requests
from auditor.controls.registry import ID_PATTERN, PARTS
from auditor.model import Facet, Scope
from auditor.spec import load_specs, schema
from tests.controls.test_cases import case_control, load_cases

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_CONTROLS = {"exists", "managed", "region", "versioning", "encryption",
                     "public_access_block", "public_access", "tls_only", "lifecycle", "cors",
                     "website"}
IDS = [pytest.param(c, id=f"{c.scope.value}:{c.key}") for c in CONTROLS]


def test_every_contract_control_has_exactly_one_bucket_control() -> None:
    bucket = [c.key for c in CONTROLS if c.scope is Scope.BUCKET]
    assert set(bucket) >= CONTRACT_CONTROLS
    assert len(bucket) == len(set(bucket))
    assert len({c.id for c in CONTROLS}) == len(CONTROLS)


@pytest.mark.parametrize("c", IDS)
def test_control_metadata_is_complete(c: Control) -> None:
    assert ID_PATTERN.match(c.id)
    assert c.doc.splitlines()[0].strip(), "docstring needs a first line saying what is wrong"
    assert "Why it matters:" in c.doc
    assert all(f in FACETS and FACETS[f].iam_action for f in c.reads)
    assert len(inspect.signature(c.check).parameters) == 2 + max(1, len(c.reads))
    for part in PARTS:
        assert getattr(c, part) is not None or c.why_not.get(part), f"{c.key}: {part}"
        assert not (getattr(c, part) is not None and part in c.why_not), f"{c.key}: {part} is set and excused"


@pytest.mark.parametrize("c", [p for p in IDS if not p.values[0].implicit])  # type: ignore[attr-defined]
def test_the_example_is_valid_spec_and_builds(c: Control) -> None:
    validator = Draft202012Validator(schema())
    section, name_key, subject = {
        Scope.BUCKET: ("buckets", "name", "amzn-s3-demo-bucket"),
        Scope.ACCOUNT: ("accounts", "id", "111122223333"),
        Scope.PRINCIPAL: ("principals", "role", "amzn-demo-role"),
    }[c.scope]
    doc = {"version": 1, section: [{name_key: subject, c.spec_key: c.example}]}
    assert not list(validator.iter_errors(doc)), c.example
    c.want(c.example)  # the builder takes what the schema lets through


@pytest.mark.parametrize("c", IDS)
def test_remediation_is_a_runnable_read_only_free_command(c: Control) -> None:
    text = example_remediation(c)
    assert text and text != "(none)"
    assert text.startswith(("aws ", "# ", "s3audit ")), text
    if c.put_requests is not None:
        ops = [r.operation for r in requests(c, Ref("amzn-s3-demo-bucket", "111122223333", "eu-central-1"),
                                             c.want(c.example))]
        assert all(op not in READ_ONLY_OPERATIONS for op in ops), "a put request is a write"


@functools.cache
def _verdicts() -> dict[tuple[str, str], set[str]]:
    verdicts: dict[tuple[str, str], set[str]] = {}
    for _, case in load_cases():
        key = (case.get("scope", "bucket"), case_control(case))
        verdicts.setdefault(key, set()).add(case["expect"])
    return verdicts


@pytest.mark.parametrize("c", IDS)
def test_every_control_has_pass_drift_and_error_cases(c: Control) -> None:
    wanted = {"drift"} if c.implicit else {"pass", "drift", "error"}
    assert _verdicts().get((c.scope.value, c.key), set()) >= wanted


def test_every_control_module_is_listed_in_the_registry() -> None:
    modules = {m.name for m in pkgutil.iter_modules(auditor.controls.__path__)
               if not m.name.startswith("_") and m.name != "registry"}
    listed = {c.check.__module__.rsplit(".", 1)[1] for c in CONTROLS}
    assert modules == listed


def test_nothing_outside_controls_imports_their_private_modules() -> None:
    for path in [*ROOT.joinpath("auditor").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py")]:
        if "controls" in path.relative_to(ROOT).parts[:2] or path.name == "test_registry.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "from auditor.controls._" not in text and "import auditor.controls._" not in text, path


def test_docs_rules_md_is_current() -> None:
    assert (ROOT / "docs" / "rules.md").read_text() == rules_markdown(), (
        "docs/rules.md is stale: run `s3audit rules --format markdown > docs/rules.md`"
    )


def test_shipped_schema_json_is_current() -> None:
    from auditor.spec import SCHEMA_PATH, schema_text

    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "auditor/spec/schema.json is stale: run `s3audit schema > auditor/spec/schema.json`"
    )


def test_shipped_specs_validate() -> None:
    specs = load_specs([ROOT / "specs"])
    assert sorted(b.name for b in specs.buckets if b.name) == [
        "amply-backups-prod", "amply-frontend-prod", "amply-public-data",
        "amply-storage-prod", "amply-widgets-prod",
    ]


def test_permissions_cover_every_call_the_collector_can_make() -> None:
    policy = permissions_policy()
    actions = {a for st in policy["Statement"] for a in st["Action"]}  # type: ignore[attr-defined]
    assert {a for spec in FACETS.values() for a in spec.iam_actions} <= actions
    assert {"s3:ListAllMyBuckets", "sts:GetCallerIdentity"} <= actions
    assert all(a.split(":")[1].startswith(("Get", "List", "Describe")) for a in actions)


def test_case_files_are_lists_of_named_cases() -> None:
    for path in (ROOT / "tests" / "controls" / "cases").glob("*.yaml"):
        cases = yaml.safe_load(path.read_text())
        assert isinstance(cases, list) and all("name" in c and "expect" in c for c in cases), path


def test_readme_table_of_controls_is_current() -> None:
    from auditor.catalog import controls_table

    assert controls_table() in (ROOT / "README.md").read_text(encoding="utf-8"), (
        "README.md's table of controls is stale: paste `s3audit rules --format readme`"
    )


def test_every_facet_is_read_by_some_control() -> None:
    read = {f for c in CONTROLS for f in c.reads} | {Facet.LOCATION}
    assert set(FACETS) == read


def test_permissions_name_every_call_of_multi_call_facets() -> None:
    actions = set(permissions_policy()["Statement"][0]["Action"])  # type: ignore[index]
    assert {"s3:ListAccessPoints", "s3:GetAccessPoint", "s3:GetMetricsConfiguration",
            "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors"} <= actions


def test_docs_frameworks_md_is_current() -> None:
    from auditor.catalog import frameworks_markdown

    assert (ROOT / "docs" / "frameworks.md").read_text() == frameworks_markdown(), (
        "docs/frameworks.md is stale: run `s3audit rules --framework all --format markdown > docs/frameworks.md`"
    )
