"""The JUnit XML report: valid against the published JUnit schemas, one case per bucket x control."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import xmlschema

from auditor.model import Report, Result, Status
from auditor.report import RENDERERS, junit
from tests.report.ci_sample import CI_ACCOUNT as ACCOUNT
from tests.report.ci_sample import CI_PROD as PROD
from tests.report.ci_sample import CI_WEB as WEB
from tests.report.ci_sample import ci_report

SCHEMAS = Path(__file__).parent / "schemas"
# Ant's JUnit.xsd as published by Windy Road, and the Jenkins xunit plugin's junit-10.xsd;
# verbatim, see schemas/README.md.
SCHEMA_FILES = ("JUnit.xsd", "junit-10.xsd")
HOSTILE = 'Tag <script>alert("x")</script> & "quoted"\nsecond line'


@pytest.fixture(scope="module", params=SCHEMA_FILES)
def schema(request: pytest.FixtureRequest) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / request.param))


@pytest.fixture
def report(make_result: Callable[..., Result]) -> Report:
    return ci_report(make_result)


def _root(report: Report) -> ET.Element:
    return ET.fromstring(junit.render(report))


def _suites(report: Report) -> dict[str, ET.Element]:
    return {suite.get("name", ""): suite for suite in _root(report).iter("testsuite")}


def _case(report: Report, bucket: str, control: str) -> ET.Element:
    (case,) = [c for c in _suites(report)[bucket].iter("testcase") if c.get("name") == control]
    return case


def test_output_is_valid_against_the_published_junit_schemas(
    report: Report, schema: xmlschema.XMLSchema,
) -> None:
    schema.validate(junit.render(report))


def test_the_schemas_are_live_a_case_without_a_name_is_rejected(
    report: Report, schema: xmlschema.XMLSchema,
) -> None:
    root = _root(report)
    del next(root.iter("testcase")).attrib["name"]
    assert not schema.is_valid(ET.tostring(root, encoding="unicode"))


def test_one_suite_per_bucket_one_case_per_bucket_and_control(report: Report) -> None:
    root = _root(report)
    assert root.tag == "testsuites"
    cases = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert cases == [
        (f"s3audit.{PROD}", "versioning"), (f"s3audit.{PROD}", "tls_only"),
        (f"s3audit.{PROD}", "lifecycle"), (f"s3audit.{WEB}", "public_access"),
        (f"s3audit.{WEB}", "cors"),
    ]
    assert [s.get("name") for s in root.iter("testsuite")] == [PROD, WEB]


def test_counts_are_right_per_suite_and_in_total(report: Report) -> None:
    suites = _suites(report)
    counts = {name: tuple(int(s.get(k, "-1")) for k in ("tests", "failures", "errors", "skipped"))
              for name, s in suites.items()}
    assert counts == {PROD: (3, 2, 0, 0), WEB: (2, 0, 1, 1)}
    root = _root(report)
    assert len(list(root.iter("testcase"))) == 5
    assert len(list(root.iter("failure"))) == 2
    assert len(list(root.iter("error"))) == 1
    assert len(list(root.iter("skipped"))) == 1


def test_failing_cases_are_the_drifts(report: Report) -> None:
    failing = [c.get("name") for c in _root(report).iter("testcase") if c.find("failure") is not None]
    assert failing == ["tls_only", "lifecycle"]


def test_drift_is_a_failure_with_expected_actual_and_remediation(report: Report) -> None:
    failure = _case(report, PROD, "tls_only").find("failure")
    assert failure is not None
    assert failure.get("type") == "drift"
    assert failure.get("message") == "The bucket policy allows requests without TLS"
    text = failure.text or ""
    assert "Expected: true" in text
    assert "Actual: false" in text
    assert f"Remediation: aws s3api put-bucket-policy --bucket {PROD} --policy x" in text
    assert "Spec: specs/amply.yaml:12" in text


def test_new_drift_says_it_is_new(report: Report) -> None:
    failure = _case(report, PROD, "lifecycle").find("failure")
    assert failure is not None
    assert "Change: new, first seen 2026-11-24T23:00:00Z" in (failure.text or "")


def test_error_carries_the_aws_error_code_as_its_type(report: Report) -> None:
    error = _case(report, WEB, "public_access").find("error")
    assert error is not None
    assert error.get("type") == "AccessDenied"
    assert "GetBucketPolicy failed" in (error.get("message") or "")


def test_error_without_a_code_is_typed_error(
    report: Report, make_result: Callable[..., Result],
) -> None:
    broken = make_result(status=Status.ERROR, message="Could not evaluate versioning: KeyError")
    error = _case(replace(report, results=(broken,)), PROD, "versioning").find("error")
    assert error is not None
    assert error.get("type") == "error"


def test_waived_is_skipped_with_expiry_and_reason(report: Report) -> None:
    skipped = _case(report, WEB, "cors").find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "waived until 2026-12-31: Partner uploads until the migration"
    assert "owner web-team" in (skipped.text or "")


def test_pass_is_an_empty_case(report: Report) -> None:
    assert list(_case(report, PROD, "versioning")) == []


def test_timestamp_is_utc_without_a_zone(report: Report) -> None:
    assert {s.get("timestamp") for s in _root(report).iter("testsuite")} == {"2026-11-24T23:00:00"}
    assert junit.junit_timestamp("2026-11-25T01:00:00+02:00") == "2026-11-24T23:00:00"


def test_suite_properties_name_account_region_and_run(report: Report) -> None:
    props = {p.get("name"): p.get("value") for p in _suites(report)[PROD].iter("property")}
    assert props == {"account": ACCOUNT, "region": "eu-central-1",
                     "generated_at": "2026-11-24T23:00:00Z", "tool_version": "0.1.0",
                     "run_duration_seconds": "2.457"}


def test_hostile_message_survives_a_round_trip(report: Report, schema: xmlschema.XMLSchema) -> None:
    hostile = replace(report, results=tuple(replace(r, message=HOSTILE) for r in report.results))
    text = junit.render(hostile)
    schema.validate(text)
    failure = _case(hostile, PROD, "tls_only").find("failure")
    assert failure is not None
    assert failure.get("message") == HOSTILE
    assert f"Message: {HOSTILE}\n" in (failure.text or "")
    error = _case(hostile, WEB, "public_access").find("error")
    assert error is not None and error.get("message") == HOSTILE


def test_characters_xml_cannot_carry_are_spelled_out(
    report: Report, schema: xmlschema.XMLSchema,
) -> None:
    bad = replace(report, results=tuple(replace(r, message="bell\x07 nul\x00") for r in report.results))
    text = junit.render(bad)
    schema.validate(text)
    failure = _case(bad, PROD, "tls_only").find("failure")
    assert failure is not None
    assert failure.get("message") == "bell\\x07 nul\\x00"


def test_output_is_deterministic(report: Report) -> None:
    text = junit.render(report)
    assert text == junit.render(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>')


def test_registered_as_junit() -> None:
    assert RENDERERS["junit"] is junit.render
