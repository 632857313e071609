"""The ASFF export: valid BatchImportFindings input per botocore's own Security Hub model, and
the ASFF rules the model does not encode (required attributes, lengths, stable ids)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from auditor.model import AwsFailure, Change, Report, Result, Scope, Status
from auditor.report import RENDERERS, asff
from tests.report.synthetic import big_report

# docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html: required
# for every finding (botocore's model requires only some of them).
REQUIRED = ("AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn",
            "Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt")
LABELS = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
# The namespaces of the ASFF types taxonomy.
TYPE_NAMESPACES = ("Software and Configuration Checks", "TTPs", "Effects", "Unusual Behaviors",
                   "Sensitive Data Identifications")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture(scope="module")
def input_shape() -> Any:
    model = botocore.session.get_session().get_service_model("securityhub")
    return model.operation_model("BatchImportFindings").input_shape


def _findings(report: Report) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = json.loads(asff.render(report))
    return findings


def asff_problems(finding: dict[str, Any]) -> list[str]:
    """The documented ASFF rules beyond the API model's shapes."""
    problems = [f"{key} is required" for key in REQUIRED if key not in finding]
    if finding.get("SchemaVersion") != "2018-10-08":
        problems.append("SchemaVersion must be 2018-10-08")
    if len(finding.get("Title", "")) > 256 or len(finding.get("Description", "")) > 1024:
        problems.append("Title <= 256, Description <= 1024 characters")
    if len(finding.get("Id", "")) > 512:
        problems.append("Id <= 512 characters")
    if finding.get("Severity", {}).get("Label") not in LABELS:
        problems.append("Severity.Label is one of " + ", ".join(sorted(LABELS)))
    for t in finding.get("Types", []):
        if not t.startswith(TYPE_NAMESPACES) or t.count("/") > 2:
            problems.append(f"type {t!r} is not namespace/category/classifier")
    if not 1 <= len(finding.get("Resources", [])) <= 32:
        problems.append("1 to 32 resources")
    account = finding.get("AwsAccountId", "")
    if not re.fullmatch(r"\d{12}", account) or f":{account}:product/{account}/default" not in finding.get("ProductArn", ""):
        problems.append("the default product ARN is the finding's own account")
    for key in ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt"):
        if key in finding and not TIMESTAMP.match(finding[key]):
            problems.append(f"{key} must be an ISO 8601 UTC timestamp")
    fields = finding.get("ProductFields", {})
    if len(fields) > 50 or any(len(k) > 128 or len(v) > 2048 for k, v in fields.items()):
        problems.append("ProductFields: <= 50 pairs, keys <= 128, values <= 2048 characters")
    if len(json.dumps(finding).encode()) > 240 * 1024:
        problems.append("a finding is at most 240 KB")
    return problems


def _valid_batches(findings: list[dict[str, Any]], input_shape: Any) -> None:
    for start in range(0, len(findings), 100):
        report = ParamValidator().validate({"Findings": findings[start:start + 100]}, input_shape)
        assert not report.has_errors(), report.generate_report()


def test_findings_are_valid_batch_import_input(sample_report: Report, input_shape: Any) -> None:
    for report in (sample_report, big_report(60, 0)):
        findings = _findings(report)
        _valid_batches(findings, input_shape)
        for finding in findings:
            assert asff_problems(finding) == [], finding["Id"]


def test_the_model_check_is_live(sample_report: Report, input_shape: Any) -> None:
    finding = _findings(sample_report)[0]
    for broken in ({**finding, "Severity": {"Label": 5}}, {k: v for k, v in finding.items() if k != "Title"},
                   {**finding, "Resources": [{"Id": "x"}]}, {**finding, "Surprise": 1}):
        assert ParamValidator().validate({"Findings": [broken]}, input_shape).has_errors()
    assert asff_problems({**finding, "Types": ["Whatever"]})
    assert asff_problems({**finding, "AwsAccountId": "222233334444"})


def test_one_finding_per_drift_and_error_with_stable_ids(sample_report: Report) -> None:
    report = big_report(60, 0)
    expected = [r for r in report.results if r.status in (Status.DRIFT, Status.ERROR)]
    findings = _findings(report)
    assert [f["Id"] for f in findings] == [f"s3audit/{r.key}" for r in expected]
    assert len({f["Id"] for f in findings}) == len(findings)
    # The next night: new time, new wording; the same Ids, so Security Hub updates.
    later = replace(report, generated_at="2026-12-01T02:15:00Z",
                    results=tuple(replace(r, message=r.message + " again") for r in report.results))
    assert [f["Id"] for f in _findings(later)] == [f["Id"] for f in findings]


def test_statuses_map_to_compliance_and_record_state(
    sample_report: Report, make_result: Callable[..., Result],
) -> None:
    drift = make_result(status=Status.DRIFT, first_seen="2026-11-01T00:00:00Z", change=Change.PERSISTING)
    error = make_result(control="tls_only", status=Status.ERROR,
                        error=AwsFailure("GetBucketPolicy", "AccessDenied", "Access Denied"))
    waived = make_result(control="cors", status=Status.WAIVED)
    resolved = make_result(control="website", status=Status.PASS, change=Change.RESOLVED)
    passed = make_result(control="region", status=Status.PASS)
    d, e, r = _findings(replace(sample_report, results=(drift, error, waived, resolved, passed)))
    assert (d["Compliance"]["Status"], d["RecordState"]) == ("FAILED", "ACTIVE")
    assert (d["CreatedAt"], d["UpdatedAt"]) == ("2026-11-01T00:00:00.000Z", "2026-11-24T23:00:00.000Z")
    assert e["Compliance"]["Status"] == "NOT_AVAILABLE"
    assert e["ProductFields"]["s3audit/error"] == "GetBucketPolicy failed (AccessDenied): Access Denied"
    assert (r["Compliance"]["Status"], r["RecordState"], r["Severity"]["Label"]) == (
        "PASSED", "ARCHIVED", "INFORMATIONAL")


def test_resources_accounts_regions_and_frameworks(
    sample_report: Report, make_result: Callable[..., Result],
) -> None:
    bucket = make_result(status=Status.DRIFT, frameworks=(("aws-fsbp", ("S3.14",)), ("cis-aws", ("2.1.3",))))
    account = make_result(bucket=None, scope=Scope.ACCOUNT, region=None, control="public_access_block",
                          status=Status.DRIFT)
    missing = make_result(bucket="amply-gone", control="exists", status=Status.DRIFT, account=None, region=None)
    b, a, m = _findings(replace(sample_report, results=(bucket, account, missing)))
    assert b["Resources"] == [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::amply-storage-prod",
                               "Partition": "aws", "Region": "eu-central-1"}]
    assert b["ProductArn"] == "arn:aws:securityhub:eu-central-1:111122223333:product/111122223333/default"
    assert b["Compliance"]["RelatedRequirements"] == ["aws-fsbp S3.14", "cis-aws 2.1.3"]
    assert b["Types"][-1].endswith("/CIS AWS Foundations Benchmark")
    assert b["FindingProviderFields"]["Severity"] == b["Severity"]
    assert a["Resources"][0]["Type"] == "AwsAccount" and a["Region"] == "eu-central-1"
    assert (m["AwsAccountId"], m["Region"]) == ("111122223333", "eu-central-1")


def test_long_values_are_cut_to_the_documented_limits(
    sample_report: Report, make_result: Callable[..., Result], input_shape: Any,
) -> None:
    long = make_result(status=Status.DRIFT, message="x" * 5000, remediation="y" * 5000, actual="z" * 9000)
    (finding,) = _findings(replace(sample_report, results=(long,)))
    assert asff_problems(finding) == []
    assert len(finding["Remediation"]["Recommendation"]["Text"]) == 512
    _valid_batches([finding], input_shape)


def test_registered_as_asff() -> None:
    assert RENDERERS["asff"] is asff.render
