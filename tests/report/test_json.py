"""The JSON report: contract shape and key order, schema validity, values shaped like specs."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from auditor.jsonable import to_jsonable
from auditor.model import (
    Change,
    Encryption,
    Facet,
    KmsKey,
    KmsKeys,
    LifecycleRule,
    Report,
    Result,
    Severity,
    Status,
    Unreadable,
)
from auditor.report import RENDERERS, json_report
from auditor.report.json_report import ReportInvalid, load_schema, validate_report

SNAPSHOT = Path(__file__).parent / "snapshots" / "drift-report.json"
CONTRACT_RESULT_KEYS = [
    "bucket", "control", "status", "severity", "expected", "actual", "message", "remediation",
]


def _doc(report: Report) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json_report.render(report))
    return doc


def _result(doc: dict[str, Any], bucket: str, control: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        r for r in doc["results"] if (r["bucket"], r["control"]) == (bucket, control)
    ]
    assert len(found) == 1
    return found[0]


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_sample_report_validates_against_the_schema(sample_report: Report) -> None:
    text = json_report.render(sample_report)
    validate_report(text)
    jsonschema.Draft202012Validator(load_schema()).validate(json.loads(text))


def test_renderer_is_registered_under_json(sample_report: Report) -> None:
    assert RENDERERS["json"](sample_report) == json_report.render(sample_report)


def test_top_level_keys_are_in_contract_order(sample_report: Report) -> None:
    keys = list(_doc(sample_report))
    assert keys == ["schema_version", "generated_at", "tool", "summary", "results", "run"]


def test_result_keys_start_with_the_contract_keys_in_order(sample_report: Report) -> None:
    lifecycle = _result(_doc(sample_report), "amply-storage-prod", "lifecycle")
    assert list(lifecycle) == CONTRACT_RESULT_KEYS + [
        "rule_id", "scope", "account", "region", "differences", "source",
    ]


def test_header_and_summary(sample_report: Report) -> None:
    doc = _doc(sample_report)
    assert doc["schema_version"] == 1
    assert doc["generated_at"] == "2026-11-24T23:00:00Z"
    assert doc["tool"] == {"name": "s3audit", "version": "0.1.0"}
    assert list(doc["summary"].items()) == [
        ("buckets", 4), ("pass", 6), ("drift", 6), ("error", 1), ("waived", 0), ("compliant", False),
    ]


def test_summary_is_compliant_when_everything_passes(make_result: Callable[..., Result],
                                                     make_report: Callable[..., Report]) -> None:
    doc = _doc(make_report(results=(make_result(),)))
    assert doc["summary"] == {"buckets": 1, "pass": 1, "drift": 0, "error": 0, "waived": 0, "compliant": True}


def test_run_metadata_is_written_when_known(make_report: Callable[..., Report]) -> None:
    doc = _doc(make_report(endpoint_url="http://127.0.0.1:5000", extra=(("ci_job", "42"),)))
    assert doc["run"] == {
        "accounts": ["111122223333"],
        "spec_files": ["specs/amply.yaml"],
        "endpoint_url": "http://127.0.0.1:5000",
        "duration_seconds": 2.457,
        "ci_job": "42",
    }
    bare = _doc(make_report(accounts=(), spec_files=(), duration_seconds=None))
    assert "run" not in bare
    validate_report(bare)


def test_lifecycle_values_read_like_the_spec_yaml(sample_report: Report) -> None:
    lifecycle = _result(_doc(sample_report), "amply-storage-prod", "lifecycle")
    assert lifecycle["expected"] == [
        {
            "id": "archive-exports",
            "status": "Enabled",
            "prefix": "exports/",
            "transitions": [
                {"storage_class": "STANDARD_IA", "days": 90},
                {"storage_class": "GLACIER", "days": 365},
            ],
        },
        {"id": "cleanup-temp", "status": "Enabled", "prefix": "temp/", "expiration_days": 7},
    ]
    assert lifecycle["actual"][1]["tags"] == {"class": "scratch"}
    assert lifecycle["differences"][0] == {
        "path": "cleanup-temp.expiration_days",
        "expected": 7,
        "actual": 30,
        "message": "Rule cleanup-temp expires objects after 30 days; the spec requires 7",
    }
    assert lifecycle["source"] == {"file": "specs/amply.yaml", "line": 20, "column": 5}


def test_cors_values_read_like_the_spec_yaml(sample_report: Report) -> None:
    cors = _result(_doc(sample_report), "amply-web-assets", "cors")
    assert cors["expected"] == [{
        "allowed_origins": ["https://amply-impact.org"],
        "allowed_methods": ["GET", "HEAD"],
        "allowed_headers": ["*"],
        "max_age_seconds": 3600,
    }]
    assert [d["path"] for d in cors["differences"]] == [
        "cors[0].allowed_origins", "cors[0].allowed_methods",
    ]


def test_optional_result_keys_are_left_out_or_null(sample_report: Report) -> None:
    doc = _doc(sample_report)
    encryption = _result(doc, "amply-storage-prod", "encryption")
    assert encryption["remediation"] is None
    assert "differences" not in encryption and "source" not in encryption
    missing = _result(doc, "amply-backups", "exists")
    assert "account" not in missing and "region" not in missing
    website = _result(doc, "amply-storage-prod", "website")
    assert website["expected"] is False and website["actual"] is None


def test_render_is_indented_unicode_and_ends_with_a_newline(
    make_result: Callable[..., Result], make_report: Callable[..., Report]
) -> None:
    text = json_report.render(make_report(results=(make_result(message="Größe: ✓"),)))
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert '\n  "schema_version": 1,' in text
    assert "Größe: ✓" in text


def test_render_is_deterministic(sample_report: Report) -> None:
    assert json_report.render(sample_report) == json_report.render(sample_report)


def test_snapshot(sample_report: Report) -> None:
    text = json_report.render(sample_report)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.exists(), "run with UPDATE_SNAPSHOTS=1 to create the snapshot"
    assert text == SNAPSHOT.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["results"][0].update(status="ok"), "$.results[0].status"),
        (lambda d: d["results"][0].update(severity="urgent"), "$.results[0].severity"),
        (lambda d: d["results"][0].pop("remediation"), "$.results[0]"),
        (lambda d: d.update(schema_version=2), "$.schema_version"),
        (lambda d: d.update(generated_at="yesterday"), "$.generated_at"),
        (lambda d: d["summary"].pop("compliant"), "$.summary"),
        (lambda d: d["summary"].update(drift=-1), "$.summary.drift"),
        (lambda d: d["tool"].update(name="other"), "$.tool.name"),
        (lambda d: d["results"][0].update(change="gone"), "$.results[0].change"),
        (lambda d: d["results"][0].update(status="waived"), "$.results[0]"),
    ],
)
def test_invalid_reports_are_rejected(
    sample_report: Report, mutate: Callable[[dict[str, Any]], object], where: str
) -> None:
    doc = _doc(sample_report)
    mutate(doc)
    with pytest.raises(ReportInvalid, match=rf"at {re.escape(where)}:"):
        validate_report(doc)


def test_invalid_json_text_is_rejected() -> None:
    with pytest.raises(ReportInvalid, match="not valid JSON"):
        validate_report('{"schema_version": 1,')


def test_text_bytes_and_objects_are_accepted(sample_report: Report) -> None:
    text = json_report.render(sample_report)
    validate_report(text)
    validate_report(text.encode("utf-8"))
    validate_report(json.loads(text))


def test_later_additions_validate(sample_report: Report) -> None:
    """Baselines and waivers (contract, "Over time") add keys the schema already knows."""
    doc = _doc(sample_report)
    doc["summary"]["waived"] = 1
    doc["results"][1].update(change="new", first_seen="2026-11-20T08:00:00Z")
    doc["results"][4].update(
        status="waived",
        waiver={"bucket": "amply-*", "control": "tls_only", "reason": "migration",
                "expires": "2027-01-31", "owner": "platform"},
    )
    validate_report(doc)


def test_change_and_first_seen_are_rendered(
    make_result: Callable[..., Result], make_report: Callable[..., Report]
) -> None:
    later = replace(make_result(status=Status.DRIFT), change=Change.PERSISTING,
                    first_seen="2026-11-01T00:00:00Z")
    doc = _doc(make_report(results=(later,)))
    assert doc["results"][0]["change"] == "persisting"
    assert doc["results"][0]["first_seen"] == "2026-11-01T00:00:00Z"
    validate_report(doc)


# --------------------------------------------------------------------------- to_jsonable


def test_enums_become_their_values() -> None:
    assert to_jsonable((Status.DRIFT, Severity.HIGH, Facet.CORS)) == ["drift", "high", "cors"]
    assert type(to_jsonable(Status.PASS)) is str


def test_unset_defaults_are_left_out_but_stated_values_are_kept() -> None:
    assert to_jsonable(LifecycleRule(id="all")) == {"id": "all", "status": "Enabled"}
    assert to_jsonable(Encryption("AES256")) == {"algorithm": "AES256", "bucket_key": False}


def test_none_is_kept_for_fields_without_a_default() -> None:
    keys = KmsKeys((KmsKey("alias/gone", None),))
    assert to_jsonable(keys) == {"keys": [{"ref": "alias/gone", "arn": None}]}
    unreadable = Unreadable(Facet.POLICY, "GetBucketPolicy", "AccessDenied", "denied")
    assert to_jsonable(unreadable) == {
        "facet": "policy", "api": "GetBucketPolicy", "code": "AccessDenied", "message": "denied",
    }


def test_false_stays_false_and_none_is_null() -> None:
    assert to_jsonable(False) is False
    assert to_jsonable(None) is None
    assert to_jsonable(0) == 0


def test_collections() -> None:
    assert to_jsonable({"b": (1, 2), "a": {3}}) == {"b": [1, 2], "a": [3]}
    assert to_jsonable(frozenset({"b", "c", "a"})) == ["a", "b", "c"]
    assert to_jsonable({Severity.LOW: 1}) == {"low": 1}


def test_values_json_cannot_spell_become_strings() -> None:
    assert to_jsonable(math.nan) == "nan"
    assert to_jsonable(math.inf) == "inf"
    assert to_jsonable(b"x") == "b'x'"  # anything renders rather than failing the report


def test_account_principal_and_framework_fields_validate_and_load_back(
    make_result: Callable[..., Result], make_report: Callable[..., Report],
) -> None:
    from auditor.model import AwsFailure, Scope
    from auditor.report.load import result_from_dict

    account = make_result(bucket=None, scope=Scope.ACCOUNT, control="public_access_block",
                          rule_id="S3-PAB-001", status=Status.ERROR, region=None,
                          error=AwsFailure("GetPublicAccessBlock", "AccessDenied", "denied"),
                          frameworks=(("aws-fsbp", ("S3.1",)), ("cis-aws", ("2.1.4",))))
    role = make_result(bucket=None, scope=Scope.PRINCIPAL, control="principals",
                       principal="arn:aws:iam::111122223333:role/app", rule_id="S3-IAM-001")
    doc = _doc(make_report(results=(account, role)))
    validate_report(doc)
    first, second = doc["results"]
    assert (first["bucket"], first["scope"], first["account"]) == (None, "account", "111122223333")
    assert first["frameworks"] == {"aws-fsbp": ["S3.1"], "cis-aws": ["2.1.4"]}
    assert first["error"] == {"api": "GetPublicAccessBlock", "code": "AccessDenied", "message": "denied"}
    assert (second["scope"], second["principal"]) == ("principal", "arn:aws:iam::111122223333:role/app")
    assert [result_from_dict(r) for r in doc["results"]] == [account, role]


def test_schema_refuses_a_null_bucket_on_a_bucket_result(sample_report: Report) -> None:
    doc = _doc(sample_report)
    doc["results"][0]["bucket"] = None
    with pytest.raises(ReportInvalid, match="bucket"):
        validate_report(doc)
    del doc["results"][0]["scope"]
    with pytest.raises(ReportInvalid):
        validate_report(doc)  # a null bucket needs a scope that says why
