"""The SARIF report: valid against the published SARIF 2.1.0 schema, one result per finding."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import pytest

from auditor.controls import CONTROLS
from auditor.model import Report, Result, SourceRef, Status
from auditor.report import RENDERERS, sarif
from tests.report.ci_sample import CI_ACCOUNT as ACCOUNT
from tests.report.ci_sample import CI_PROD as PROD
from tests.report.ci_sample import CI_WEB as WEB
from tests.report.ci_sample import ci_report
from tests.report.github_sarif import github_upload_problems

RULES = {c.id: c for c in CONTROLS}

# The OASIS SARIF 2.1.0 schema (errata 01), verbatim from oasis-tcs/sarif-spec; see README.md.
SCHEMA_PATH = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
HOSTILE = 'Tag <script>alert("x")</script> & "quoted"\nsecond line'


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


@pytest.fixture
def report(make_result: Callable[..., Result]) -> Report:
    return ci_report(make_result)


def _doc(report: Report) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(sarif.render(report))
    return doc


def _results(report: Report) -> dict[str, dict[str, Any]]:
    """SARIF results keyed by control."""
    return {r["properties"]["control"]: r for r in _doc(report)["runs"][0]["results"]}


def test_output_is_valid_against_the_published_sarif_schema(
    report: Report, validator: jsonschema.protocols.Validator,
) -> None:
    doc = _doc(report)
    assert list(validator.iter_errors(doc)) == []
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1


def test_the_schema_is_live_a_wrong_level_is_rejected(
    report: Report, validator: jsonschema.protocols.Validator,
) -> None:
    doc = _doc(report)
    doc["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(doc)


def test_shipped_schema_is_the_oasis_sarif_2_1_0_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]


def test_one_result_per_drift_error_and_waiver_none_for_pass(report: Report) -> None:
    results = _doc(report)["runs"][0]["results"]
    assert [r["properties"]["control"] for r in results] == [
        "tls_only", "public_access", "cors", "lifecycle",
    ]
    assert [r["ruleId"] for r in results] == ["S3-TLS-001", "S3-PUB-001", "S3-COR-001", "S3-LCY-001"]


def test_levels_follow_status_and_severity(report: Report) -> None:
    levels = {control: r["level"] for control, r in _results(report).items()}
    assert levels == {"tls_only": "error", "public_access": "error", "cors": "warning",
                      "lifecycle": "note"}


def test_error_result_says_the_control_could_not_be_evaluated(report: Report) -> None:
    text = _results(report)["public_access"]["message"]["text"]
    assert text.startswith(f"Could not evaluate public_access on bucket {WEB}")
    assert "AccessDenied" in text


def test_drift_message_names_bucket_control_and_expected_vs_actual(report: Report) -> None:
    text = _results(report)["tls_only"]["message"]["text"]
    assert text == (f"{PROD} tls_only: The bucket policy allows requests without TLS. "
                    "Expected true; actual false.")


def test_location_is_the_spec_line_and_the_bucket(report: Report) -> None:
    (location,) = _results(report)["tls_only"]["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "specs/amply.yaml"
    assert physical["region"]["startLine"] == 12
    assert location["logicalLocations"] == [
        {"name": PROD, "fullyQualifiedName": f"{ACCOUNT}/{PROD}", "kind": "resource"},
    ]


def test_result_without_a_source_points_at_the_first_spec_file_line_1(report: Report) -> None:
    located = replace(report, spec_files=("specs/amply.yaml", "specs/waivers.yaml"))
    (location,) = _results(located)["public_access"]["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "specs/amply.yaml"}, "region": {"startLine": 1, "startColumn": 1},
    }
    assert location["logicalLocations"][0]["fullyQualifiedName"] == f"{ACCOUNT}/{WEB}"


def test_an_unmanaged_bucket_the_night_it_appears_keeps_the_upload_acceptable(
    report: Report, make_result: Callable[..., Result], validator: jsonschema.protocols.Validator,
) -> None:
    rogue = make_result(bucket="rogue-bucket", control="managed", rule_id="S3-BKT-002",
                        status=Status.DRIFT, expected=None, actual="rogue-bucket",
                        message="No spec entry matches bucket rogue-bucket")
    doc = _doc(replace(report, results=(*report.results, rogue), spec_files=("specs/amply.yaml",)))
    assert validator.is_valid(doc)
    assert github_upload_problems(doc) == []
    (result,) = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "S3-BKT-002"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "specs/amply.yaml"


def test_account_principal_and_run_level_results_are_located_too(
    report: Report, make_result: Callable[..., Result],
) -> None:
    from auditor.model import AwsFailure, Scope

    account = make_result(bucket=None, scope=Scope.ACCOUNT, control="public_access_block",
                          rule_id="S3-PAB-001", status=Status.DRIFT,
                          source=SourceRef("specs/accounts.yaml", 3, 5))
    role = make_result(bucket=None, scope=Scope.PRINCIPAL, control="principals", rule_id="S3-BKT-002",
                       status=Status.DRIFT, principal="arn:aws:iam::111122223333:role/app")
    run_level = make_result(bucket="*", control="managed", rule_id="S3-BKT-002", status=Status.ERROR,
                            message="Could not list the account's buckets",
                            error=AwsFailure("ListBuckets", "AccessDenied", "Access Denied"))
    doc = _doc(replace(report, results=(account, role, run_level), spec_files=("specs/amply.yaml",)))
    assert github_upload_problems(doc) == []
    located = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
                r["locations"][0]["logicalLocations"][0]["name"]) for r in doc["runs"][0]["results"]]
    assert located == [("specs/accounts.yaml", 3, ACCOUNT),
                       ("specs/amply.yaml", 1, "arn:aws:iam::111122223333:role/app"),
                       ("specs/amply.yaml", 1, ACCOUNT)]
    error = doc["runs"][0]["results"][2]
    assert error["message"]["text"] == (
        f"Could not evaluate managed on account {ACCOUNT}, so it is not known to comply: "
        "ListBuckets failed (AccessDenied): Access Denied")
    assert error["properties"]["error"] == {"api": "ListBuckets", "code": "AccessDenied",
                                            "message": "Access Denied"}


def test_a_report_without_spec_files_still_has_a_physical_location_everywhere(report: Report) -> None:
    assert github_upload_problems(_doc(replace(report, spec_files=()))) == []


@pytest.mark.parametrize(("path", "root", "cwd", "uri"), [
    ("specs/amply.yaml", "/repo", "/repo", "specs/amply.yaml"),
    ("specs/amply.yaml", "/repo", "/repo/infra", "infra/specs/amply.yaml"),
    ("/repo/infra/specs/a b.yaml", "/repo", "/elsewhere", "infra/specs/a%20b.yaml"),
    ("../specs/amply.yaml", "/repo", "/repo/ci", "specs/amply.yaml"),
    ("/etc/s3audit/specs.yaml", "/repo", "/repo", "file:///etc/s3audit/specs.yaml"),
    ("../outside.yaml", "/repo", "/repo", "file:///outside.yaml"),
])
def test_uris_are_relative_to_the_sarif_root(path: str, root: str, cwd: str, uri: str) -> None:
    paths = sarif.Paths(root=PurePosixPath(root), cwd=PurePosixPath(cwd))
    assert sarif.artifact_uri(path, paths) == uri


def test_the_root_applies_to_results_and_waivers(report: Report) -> None:
    paths = sarif.Paths(root=PurePosixPath("/work"), cwd=PurePosixPath("/work/repo"))
    doc = json.loads(sarif.render(replace(report, spec_files=("specs/amply.yaml",)), paths))
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in doc["runs"][0]["results"] for loc in r["locations"]}
    assert uris == {"repo/specs/amply.yaml"}
    (waived,) = [r for r in doc["runs"][0]["results"] if "suppressions" in r]
    location = waived["suppressions"][0]["location"]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "repo/specs/waivers.yaml"}


def test_frameworks_become_rule_tags_and_result_properties(
    report: Report, make_result: Callable[..., Result],
) -> None:
    mapped = make_result(control="tls_only", rule_id="S3-TLS-001", status=Status.DRIFT,
                         frameworks=(("aws-fsbp", ("S3.5",)), ("cis-aws", ("2.1.1",))))
    doc = _doc(replace(report, results=(mapped,)))
    rules = {rule["id"]: rule for rule in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["S3-TLS-001"]["properties"]["tags"] == ["security", "aws-s3", "aws-fsbp/S3.5",
                                                          "cis-aws/2.1.1"]
    assert rules["S3-VER-001"]["properties"]["tags"] == ["security", "aws-s3"]
    (result,) = doc["runs"][0]["results"]
    assert result["properties"]["frameworks"] == {"aws-fsbp": ["S3.5"], "cis-aws": ["2.1.1"]}


def test_past_githubs_result_limit_the_most_severe_are_kept_and_the_rest_announced(
    report: Report, monkeypatch: pytest.MonkeyPatch, validator: jsonschema.protocols.Validator,
) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 2)
    doc = _doc(report)
    run = doc["runs"][0]
    assert [r["properties"]["control"] for r in run["results"]] == ["tls_only", "public_access"]
    (notice,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notice["message"]["text"].startswith("2 results were left out")
    assert validator.is_valid(doc)


def test_the_sample_meets_githubs_upload_constraints(report: Report) -> None:
    assert github_upload_problems(_doc(replace(report, spec_files=("specs/amply.yaml",)))) == []


def test_the_constraint_check_is_live() -> None:
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": []}},
                                         "results": [{"ruleId": "R", "message": {"text": "m"},
                                                      "locations": [{"logicalLocations": []}]}]}]}
    problems = github_upload_problems(bad)
    assert any("physicalLocation" in p for p in problems)
    assert any("not a rule" in p for p in problems)


def test_bucket_without_a_known_account_is_named_alone(
    report: Report, make_result: Callable[..., Result],
) -> None:
    missing = make_result(bucket="amply-backups", control="exists", rule_id="S3-BKT-001",
                          status=Status.DRIFT, account=None, expected=True, actual=False,
                          message="Bucket amply-backups does not exist")
    (result,) = _doc(replace(report, results=(missing,)))["runs"][0]["results"]
    assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "amply-backups"
    assert result["partialFingerprints"] == {"s3audit/v1": "-/amply-backups/exists"}


def test_only_the_waived_result_is_suppressed_with_its_reason(report: Report) -> None:
    results = _results(report)
    assert results["cors"]["suppressions"] == [{
        "kind": "external", "status": "accepted",
        "justification": "Partner uploads until the migration",
        "location": {"physicalLocation": {
            "artifactLocation": {"uri": "specs/waivers.yaml"},
            "region": {"startLine": 3, "startColumn": 5},
        }},
        "properties": {"owner": "web-team", "expires": "2026-12-31", "ticket": "OPS-42"},
    }]
    assert [c for c, r in results.items() if "suppressions" in r] == ["cors"]


def test_partial_fingerprints_are_the_stable_result_key(report: Report) -> None:
    before = {c: r["partialFingerprints"] for c, r in _results(report).items()}
    # Another run: new timestamp, reworded messages, different line numbers.
    later = replace(report, generated_at="2026-12-01T00:00:00Z", results=tuple(
        replace(r, message=r.message + " (again)", source=None) for r in report.results
    ))
    after = {c: r["partialFingerprints"] for c, r in _results(later).items()}
    assert after == before
    assert before["tls_only"] == {"s3audit/v1": f"{ACCOUNT}/{PROD}/tls_only"}
    assert len({fp["s3audit/v1"] for fp in before.values()}) == len(before)


def test_change_and_first_seen_are_carried(report: Report) -> None:
    results = _results(report)
    assert results["lifecycle"]["baselineState"] == "new"
    assert results["lifecycle"]["properties"]["change"] == "new"
    assert results["tls_only"]["baselineState"] == "unchanged"
    assert results["tls_only"]["properties"]["first_seen"] == "2026-11-01T00:00:00Z"
    assert "baselineState" not in results["public_access"]


def test_result_properties_carry_the_report_fields(report: Report) -> None:
    props = _results(report)["tls_only"]["properties"]
    assert props == {
        "bucket": PROD, "account": ACCOUNT, "region": "eu-central-1", "control": "tls_only",
        "severity": "high", "status": "drift", "change": "persisting",
        "first_seen": "2026-11-01T00:00:00Z",
        "remediation": f"aws s3api put-bucket-policy --bucket {PROD} --policy x",
        "expected": True, "actual": False,
    }


def test_rules_come_from_the_registry_with_code_scanning_severity(report: Report) -> None:
    driver = _doc(report)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "s3audit"
    assert driver["version"] == "0.1.0"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == set(RULES)
    tls = rules["S3-TLS-001"]
    assert tls["name"] == "tls_only"
    assert tls["shortDescription"]["text"] == RULES["S3-TLS-001"].title
    assert tls["defaultConfiguration"]["level"] == "error"
    assert "Remediation (example): aws s3api put-bucket-policy" in tls["help"]["text"]
    expected = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
    for rule in rules.values():
        props = rule["properties"]
        assert props["security-severity"] == expected[props["severity"]]
        assert 0.0 <= float(props["security-severity"]) <= 10.0


def test_rule_index_points_at_the_rule(report: Report) -> None:
    doc = _doc(report)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    for result in doc["runs"][0]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_hostile_message_survives_a_json_round_trip(
    report: Report, validator: jsonschema.protocols.Validator,
) -> None:
    hostile = replace(report, results=tuple(replace(r, message=HOSTILE) for r in report.results))
    doc = _doc(hostile)
    assert validator.is_valid(doc)
    assert HOSTILE in _results(hostile)["tls_only"]["message"]["text"]


def test_output_is_deterministic(report: Report) -> None:
    assert sarif.render(report) == sarif.render(report)
    assert sarif.render(report).endswith("}\n")


def test_registered_as_sarif() -> None:
    assert RENDERERS["sarif"] is sarif.render


@pytest.mark.parametrize(("path", "uri"), [
    ("specs/amply.yaml", "specs/amply.yaml"),
    ("specs/my buckets/a#1.yaml", "specs/my%20buckets/a%231.yaml"),
    ("specs\\win.yaml", "specs/win.yaml"),
    ("/etc/s3audit/specs.yaml", "file:///etc/s3audit/specs.yaml"),
])
def test_spec_paths_become_uri_references(path: str, uri: str) -> None:
    assert sarif.artifact_uri(path) == uri
