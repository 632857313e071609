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


# Attributes s3audit writes beyond each schema, for the readers that want them (see the
# module docstring of auditor.report.junit): (element, attribute) pairs.
EXTENSIONS = {
    "JUnit.xsd": {("testsuites", "name"), ("testsuites", "tests"), ("testsuites", "failures"),
                  ("testsuites", "errors"), ("testsuites", "time"), ("testsuite", "file"),
                  ("testcase", "file")},
    "junit-10.xsd": {("testcase", "file")},
}


@pytest.fixture(scope="module", params=SCHEMA_FILES)
def schema(request: pytest.FixtureRequest) -> xmlschema.XMLSchema:
    schema = xmlschema.XMLSchema(str(SCHEMAS / request.param))
    schema.extensions = EXTENSIONS[request.param]  # type: ignore[attr-defined]
    return schema


def without_extensions(text: str, schema: xmlschema.XMLSchema) -> str:
    """The document with the attributes this schema does not list removed."""
    root = ET.fromstring(text)
    for element in root.iter():
        for tag, attribute in schema.extensions:  # type: ignore[attr-defined]
            if element.tag == tag:
                element.attrib.pop(attribute, None)
    return ET.tostring(root, encoding="unicode")


def validate(text: str, schema: xmlschema.XMLSchema) -> None:
    schema.validate(without_extensions(text, schema))


@pytest.fixture
def report(make_result: Callable[..., Result]) -> Report:
    return replace(ci_report(make_result), spec_files=("specs/amply.yaml", "specs/waivers.yaml"))


def _root(report: Report) -> ET.Element:
    return ET.fromstring(junit.render(report))


def _suites(report: Report) -> dict[str, ET.Element]:
    return {suite.get("name", ""): suite for suite in _root(report).iter("testsuite")}


def _case(report: Report, bucket: str, control: str) -> ET.Element:
    (case,) = [c for c in _suites(report)[bucket].iter("testcase")
               if c.get("name") == f"{bucket} {control}"]
    return case


def test_output_is_valid_against_the_published_junit_schemas(
    report: Report, schema: xmlschema.XMLSchema,
) -> None:
    validate(junit.render(report), schema)


def test_the_only_departures_from_each_schema_are_the_documented_attributes(
    report: Report, schema: xmlschema.XMLSchema,
) -> None:
    text = junit.render(report)
    errors = list(schema.iter_errors(text))
    assert errors, "the extension attributes are expected to be outside the schema"
    for error in errors:
        assert error.elem is not None
        extra = {(error.elem.tag, a) for a in error.elem.attrib} & schema.extensions  # type: ignore[attr-defined]
        assert extra and "attribute" in str(error.reason), error


def test_root_carries_the_totals(report: Report) -> None:
    root = _root(report)
    assert {k: root.get(k) for k in ("name", "tests", "failures", "errors", "time")} == {
        "name": "s3audit", "tests": "5", "failures": "2", "errors": "1", "time": "2.457"}


def test_cases_name_the_bucket_and_point_at_the_spec_file(report: Report) -> None:
    case = _case(report, PROD, "tls_only")
    assert (case.get("name"), case.get("classname"), case.get("file")) == (
        f"{PROD} tls_only", f"s3audit.{PROD}", "specs/amply.yaml")
    # No spec line (the error result): the first spec file, as SARIF does.
    assert _case(report, WEB, "public_access").get("file") == "specs/amply.yaml"
    assert _suites(report)[PROD].get("file") == "specs/amply.yaml"


def test_dotted_bucket_names_stay_whole_for_jenkins(
    report: Report, make_result: Callable[..., Result],
) -> None:
    dotted = make_result(bucket="www.example.com", status=Status.DRIFT)
    (case,) = _root(replace(report, results=(dotted,))).iter("testcase")
    assert case.get("classname") == "s3audit.www_example_com"
    assert case.get("name") == "www.example.com versioning"


def test_account_and_role_results_are_their_own_suites(
    report: Report, make_result: Callable[..., Result], schema: xmlschema.XMLSchema,
) -> None:
    from auditor.model import Scope

    account = make_result(bucket=None, scope=Scope.ACCOUNT, control="public_access_block",
                          status=Status.DRIFT, message="Account block is off")
    run_level = make_result(bucket="*", control="managed", status=Status.ERROR, message="listing failed")
    role = make_result(bucket=None, scope=Scope.PRINCIPAL, principal="arn:aws:iam::1:role/app.x",
                       control="principals", status=Status.DRIFT)
    text = junit.render(replace(report, results=(account, run_level, role)))
    validate(text, schema)
    root = ET.fromstring(text)
    assert [s.get("name") for s in root.iter("testsuite")] == [
        f"account {ACCOUNT}", "arn:aws:iam::1:role/app.x"]
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == [f"account {ACCOUNT} public_access_block", f"account {ACCOUNT} managed",
                     "arn:aws:iam::1:role/app.x principals"]
    failure = next(root.iter("failure"))
    assert (failure.text or "").startswith(f"Account: {ACCOUNT}\n")


def test_frameworks_are_suite_properties_and_in_the_failure(
    report: Report, make_result: Callable[..., Result],
) -> None:
    mapped = make_result(control="tls_only", status=Status.DRIFT,
                         frameworks=(("aws-fsbp", ("S3.5",)), ("cis-aws", ("2.1.1",))))
    root = _root(replace(report, results=(mapped,)))
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["frameworks.tls_only"] == "aws-fsbp S3.5; cis-aws 2.1.1"
    failure = next(root.iter("failure"))
    assert "Frameworks: aws-fsbp S3.5; cis-aws 2.1.1" in (failure.text or "")


def test_the_schemas_are_live_a_case_without_a_name_is_rejected(
    report: Report, schema: xmlschema.XMLSchema,
) -> None:
    root = _root(report)
    del next(root.iter("testcase")).attrib["name"]
    assert not schema.is_valid(without_extensions(ET.tostring(root, encoding="unicode"), schema))


def test_one_suite_per_bucket_one_case_per_bucket_and_control(report: Report) -> None:
    root = _root(report)
    assert root.tag == "testsuites"
    cases = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert cases == [
        (f"s3audit.{PROD}", f"{PROD} versioning"), (f"s3audit.{PROD}", f"{PROD} tls_only"),
        (f"s3audit.{PROD}", f"{PROD} lifecycle"), (f"s3audit.{WEB}", f"{WEB} public_access"),
        (f"s3audit.{WEB}", f"{WEB} cors"),
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
    assert failing == [f"{PROD} tls_only", f"{PROD} lifecycle"]


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


def test_error_carries_the_aws_error_code_as_its_type(
    report: Report, make_result: Callable[..., Result],
) -> None:
    from auditor.model import AwsFailure

    failed = make_result(status=Status.ERROR, message="Could not evaluate versioning",
                         error=AwsFailure("GetBucketVersioning", "AccessDenied", "Access Denied"))
    error = _case(replace(report, results=(failed,)), PROD, "versioning").find("error")
    assert error is not None
    assert error.get("type") == "AccessDenied"
    assert "Failed read: GetBucketVersioning failed (AccessDenied): Access Denied" in (error.text or "")


def test_error_without_a_structured_failure_is_typed_error_whatever_its_message(
    report: Report, make_result: Callable[..., Result],
) -> None:
    # The type comes from result.error, never from parsing the prose.
    broken = make_result(status=Status.ERROR, message="GetBucketPolicy failed (AccessDenied): no")
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
    validate(text, schema)
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
    validate(text, schema)
    failure = _case(bad, PROD, "tls_only").find("failure")
    assert failure is not None
    assert failure.get("message") == "bell\\x07 nul\\x00"


def test_output_is_deterministic(report: Report) -> None:
    text = junit.render(report)
    assert text == junit.render(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="s3audit"')


def test_registered_as_junit() -> None:
    assert RENDERERS["junit"] is junit.render
