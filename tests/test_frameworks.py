"""The framework files: every control and rule they name exists, every value they state is a
valid spec value, the baselines load as specs, and results carry the ids they evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from auditor.cli import main
from auditor.controls import CONTROLS, by_id, control
from auditor.frameworks import COVERAGE, NAMES, framework, requirement_ids
from auditor.frameworks.pack import pack_text
from auditor.model import Scope
from auditor.spec import load_specs, schema

FRAMEWORKS = Path(__file__).resolve().parent.parent / "auditor" / "frameworks"
MEETS = [pytest.param(name, req, m, id=f"{name} {req.id} {m.control}")
         for name in NAMES for req in framework(name).requirements for m in req.meets]


def test_every_control_and_rule_a_framework_names_exists() -> None:
    for name in NAMES:
        raw = yaml.safe_load((FRAMEWORKS / f"{name}.yaml").read_text())
        for req in raw["requirements"]:
            for m in req.get("meets") or ():
                found = control(m["control"], Scope(m.get("scope", "bucket")))  # KeyError if not
                assert found in CONTROLS and by_id(found.id) is found, (name, req["id"])


def test_requirements_are_unique_sourced_and_honest_about_coverage() -> None:
    for fw in (framework(n) for n in NAMES):
        ids = [r.id for r in fw.requirements]
        assert len(ids) == len(set(ids)), fw.name
        assert fw.source.startswith("https://")
        for req in fw.requirements:
            assert req.url.startswith("https://") and req.title
            assert req.coverage in COVERAGE
            assert (req.coverage == "not covered") == (not req.meets)
            assert req.coverage == "full" or req.note, f"{req.id}: say why it is {req.coverage}"
            assert not (req.pack and req.coverage == "not covered")


@pytest.mark.parametrize(("name", "req", "meets"), MEETS)
def test_every_value_a_framework_states_is_a_valid_spec_value(name: str, req: Any, meets: Any) -> None:
    validator = Draft202012Validator(schema())
    section, key = ("buckets", "name") if meets.scope is Scope.BUCKET else ("accounts", "id")
    subject = "amzn-s3-demo-bucket" if meets.scope is Scope.BUCKET else "111122223333"
    values = meets.value if meets.mode == "one_of" else [meets.value]
    if meets.mode in ("equals", "one_of", "any_but"):
        for value in values:
            doc = {"version": 1, section: [{key: subject, meets.control: value}]}
            assert not list(validator.iter_errors(doc)), (req.id, value)
    if req.pack:  # what the baseline states meets the requirement it stands for
        assert meets.satisfied(meets.target.want(meets.baseline)) or meets is not req.meets[0]


@pytest.mark.parametrize("name", NAMES)
def test_each_baseline_loads_as_a_spec_and_meets_its_own_requirements(name: str) -> None:
    specs = load_specs([], packs=[name])
    assert specs.files == (f"pack:{name}",) and not specs.warnings
    packed = {r.id for r in framework(name).requirements if r.pack}
    met: set[str] = set()
    for entry in specs.entries:
        for key, want in entry.wants:
            for fw, ids in requirement_ids(entry.scope, key, want):
                if fw == name:
                    met |= set(ids)
    assert packed <= met


@pytest.mark.parametrize(("scope", "key", "value", "expected"), [
    (Scope.BUCKET, "versioning", "Enabled", {"aws-fsbp": ("S3.14",)}),
    (Scope.BUCKET, "versioning", "Suspended", {}),
    (Scope.BUCKET, "public_access", "none", {"aws-fsbp": ("S3.2", "S3.3"), "cis-aws": ("2.21",)}),
    (Scope.BUCKET, "public_access", "read", {"aws-fsbp": ("S3.3",)}),
    (Scope.BUCKET, "logging", {"target_bucket": "amply-logs"}, {"aws-fsbp": ("S3.9",), "cis-aws": ("4.4",)}),
    (Scope.BUCKET, "logging", False, {}),
    (Scope.BUCKET, "encryption", {"algorithm": "aws:kms:dsse"}, {"aws-fsbp": ("S3.17",)}),
    (Scope.BUCKET, "encryption", {"algorithm": "AES256"}, {}),
    (Scope.BUCKET, "public_access_block", {"block_public_acls": True}, {}),
    (Scope.ACCOUNT, "public_access_block", {"block_public_acls": True, "ignore_public_acls": True,
                                            "block_public_policy": True, "restrict_public_buckets": True},
     {"aws-fsbp": ("S3.1",), "cis-aws": ("3.1.4",)}),
    (Scope.BUCKET, "data_events", {"read": True}, {"aws-fsbp": ("S3.23",), "cis-aws": ("4.9",)}),
    (Scope.BUCKET, "min_tls_version", "1.2", {"cis-aws": ("3.1.1",)}),
    (Scope.BUCKET, "min_tls_version", "1.0", {}),
    (Scope.BUCKET, "access_points", [], {"aws-fsbp": ("S3.19",)}),
    (Scope.BUCKET, "access_points", [{"name": "open"}], {}),
    (Scope.BUCKET, "replication", [], {}),
    (Scope.BUCKET, "object_lock", True, {"aws-fsbp": ("S3.15",)}),
    (Scope.BUCKET, "mfa_delete", True, {"aws-fsbp": ("S3.20",), "cis-aws": ("3.1.2",)}),
])
def test_a_value_carries_the_ids_of_exactly_the_requirements_it_meets(
        scope: Scope, key: str, value: Any, expected: dict[str, tuple[str, ...]]) -> None:
    assert dict(requirement_ids(scope, key, control(key, scope).want(value))) == expected


def test_results_carry_framework_ids_whatever_their_verdict(tmp_path: Path) -> None:
    from tests.controls.test_cases import run_case

    case = {"spec": {"versioning": "Enabled"}, "aws": {"GetBucketVersioning": {"Status": "Suspended"}}}
    (drift,) = run_case(case, tmp_path)
    assert drift.frameworks == (("aws-fsbp", ("S3.14",)),)
    error = run_case({**case, "aws": {"GetBucketVersioning": {"error": "AccessDenied"}}}, tmp_path)[0]
    assert (error.status.value, error.frameworks) == ("error", (("aws-fsbp", ("S3.14",)),))


def test_rules_framework_prints_every_requirement_and_what_is_not_covered() -> None:
    result = CliRunner().invoke(main, ["rules", "--framework", "aws-fsbp"])
    assert result.exit_code == 0
    for req in framework("aws-fsbp").requirements:
        assert f"\n{req.id} " in result.output
    assert "not covered by s3audit: S3.24, S3.25" in result.output
    assert "met by versioning: Enabled (S3-VER-001)" in result.output
    markdown = CliRunner().invoke(main, ["rules", "--framework", "cis-aws", "--format", "markdown"])
    assert "| [3.1.3](" in markdown.output and "| not covered |" in markdown.output


def test_pack_text_is_stable_and_says_where_it_comes_from() -> None:
    text = pack_text("aws-fsbp")
    assert text.startswith("# s3audit built-in baseline aws-fsbp:")
    assert "    # S3.14: S3 general purpose buckets should have versioning enabled\n    versioning: Enabled\n" in text
    assert yaml.safe_load(text)["accounts"][0]["match"] == "*"
