"""The OCSF export: Compliance Finding events valid against the published OCSF 1.5.0 schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from auditor.model import AwsFailure, Change, Report, Result, Scope, Status
from auditor.report import RENDERERS, ocsf
from tests.report.synthetic import big_report

SCHEMAS = Path(__file__).parent / "schemas"
# Generated from the published OCSF 1.5.0 schema; see schemas/README.md.
SCHEMA = SCHEMAS / "ocsf-1.5.0-compliance_finding-cloud.schema.json"
ENUMS = json.loads((SCHEMAS / "ocsf-1.5.0-compliance_finding-enums.json").read_text())
HOSTILE = '<script>alert("x")</script>\n"quoted" & more'


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _events(report: Report) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(ocsf.render(report))
    return events


def _problems(validator: jsonschema.protocols.Validator, event: dict[str, Any]) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(event)]


def test_every_event_is_valid_against_the_published_schema(
    sample_report: Report, validator: jsonschema.protocols.Validator,
) -> None:
    for report in (sample_report, big_report(30, 0)):
        events = _events(report)
        assert events
        for event in events:
            assert _problems(validator, event) == []


def test_the_schema_is_live(sample_report: Report, validator: jsonschema.protocols.Validator) -> None:
    event = _events(sample_report)[0]
    assert validator.is_valid(event)
    for broken in ({**event, "class_uid": 2004}, {**event, "severity_id": 7},
                   {k: v for k, v in event.items() if k != "compliance"},
                   {**event, "finding_info": {"title": "no uid"}}, {**event, "surprise": 1}):
        assert not validator.is_valid(broken)


def test_one_event_per_drift_error_and_waived_result(sample_report: Report) -> None:
    report = big_report(30, 0)
    expected = [r for r in report.results if r.status is not Status.PASS]
    events = _events(report)
    assert [e["finding_info"]["uid"] for e in events] == [f"s3audit/{r.key}" for r in expected]
    statuses = {r.status for r in expected}
    assert statuses == {Status.DRIFT, Status.ERROR, Status.WAIVED}


def test_codes_agree_with_their_captions_in_the_published_schema(sample_report: Report) -> None:
    for event in _events(big_report(30, 0)):
        for attribute, caption in (("activity_id", "activity_name"), ("severity_id", "severity"),
                                   ("status_id", "status")):
            assert ENUMS["class"][attribute][str(event[attribute])] == event[caption]
        assert ENUMS["class"]["type_uid"][str(event["type_uid"])] == event["type_name"]
        assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
        compliance = event["compliance"]
        assert ENUMS["compliance"]["status_id"][str(compliance["status_id"])] == compliance["status"]
        assert ENUMS["account"]["type_id"][str(event["cloud"]["account"]["type_id"])] == "AWS Account"
        assert event["class_name"] == ENUMS["class_caption"]


def test_drift_error_and_waiver_map_to_fail_unknown_and_suppressed(
    sample_report: Report, make_result: Callable[..., Result],
) -> None:
    drift = make_result(status=Status.DRIFT, change=Change.PERSISTING, first_seen="2026-11-01T00:00:00Z")
    error = make_result(control="tls_only", status=Status.ERROR, message="Could not evaluate tls_only",
                        error=AwsFailure("GetBucketPolicy", "AccessDenied", "Access Denied"))
    waived = make_result(control="cors", status=Status.WAIVED)
    d, e, w = _events(replace(sample_report, results=(drift, error, waived)))
    assert (d["compliance"]["status"], d["status"], d["activity_name"]) == ("Fail", "New", "Update")
    assert d["finding_info"]["first_seen_time"] == 1793491200000
    assert (e["compliance"]["status"], e["status"]) == ("Unknown", "New")
    assert "GetBucketPolicy failed (AccessDenied): Access Denied" in e["compliance"]["status_details"]
    assert (w["compliance"]["status"], w["status"]) == ("Fail", "Suppressed")


def test_resources_cloud_and_frameworks(sample_report: Report, make_result: Callable[..., Result]) -> None:
    bucket = make_result(status=Status.DRIFT, frameworks=(("aws-fsbp", ("S3.14",)),))
    account = make_result(bucket=None, scope=Scope.ACCOUNT, control="public_access_block", status=Status.DRIFT)
    b, a = _events(replace(sample_report, results=(bucket, account)))
    assert b["resources"][0] | {} == {**b["resources"][0], "uid": "arn:aws:s3:::amply-storage-prod",
                                      "name": "amply-storage-prod", "type": "AWS::S3::Bucket",
                                      "region": "eu-central-1"}
    assert b["resources"][0]["data"] == {"expected": "Enabled", "actual": "Enabled"}
    assert b["cloud"] == {"provider": "AWS", "cloud_partition": "aws", "region": "eu-central-1",
                          "account": {"uid": "111122223333", "type_id": 10, "type": "AWS Account"}}
    assert (b["compliance"]["standards"], b["compliance"]["requirements"]) == (["aws-fsbp"], ["aws-fsbp S3.14"])
    assert a["resources"][0]["type"] == "AWS::::Account"
    assert b["unmapped"]["s3audit"]["bucket"] == "amply-storage-prod"


def test_hostile_values_survive_as_data(sample_report: Report, validator: jsonschema.protocols.Validator,
                                        make_result: Callable[..., Result]) -> None:
    hostile = make_result(bucket=HOSTILE, status=Status.DRIFT, message=HOSTILE, actual=[HOSTILE])
    (event,) = _events(replace(sample_report, results=(hostile,)))
    assert _problems(validator, event) == []
    assert event["message"] == HOSTILE and event["resources"][0]["data"]["actual"] == [HOSTILE]


def test_registered_as_ocsf() -> None:
    assert RENDERERS["ocsf"] is ocsf.render
