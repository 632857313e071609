"""OCSF: `Report -> str`, a JSON array of Compliance Finding events (class 2003), one per
drift, error and waived result, for security data lakes (Amazon Security Lake, Splunk, any
OCSF consumer).

Written to OCSF 1.5.0 with the `cloud` profile (the version Prowler's OCSF output uses).
The mapping:

- finding_info.uid is the result's stable key, so successive runs describe one finding;
  activity is Create for a new (or baseline-less) finding, Update for a persisting one.
- compliance.status: Fail for drift and waived drift, Unknown (with the reason in
  status_details) for a control that could not be evaluated; the finding's own status is
  New, or Suppressed for a waived one. compliance.standards / requirements carry the
  frameworks the result evidences ("aws-fsbp", "aws-fsbp S3.5").
- resources[0] is the bucket (or account, role) with the expected and actual values in
  its `data`; the full s3audit result sits in `unmapped.s3audit`, so nothing is lost.
"""

from __future__ import annotations

import json

from auditor.jsonable import JsonValue, to_jsonable
from auditor.model import Change, Report, Result, Severity, Status
from auditor.report import cloud
from auditor.report.json_report import TOOL_NAME, result_to_dict
from auditor.report.view import frameworks_text, subject_of

OCSF_VERSION = "1.5.0"
PROFILES = ("cloud",)
CATEGORY = (2, "Findings")
CLASS = (2003, "Compliance Finding")
REPORTED: tuple[Status, ...] = (Status.DRIFT, Status.ERROR, Status.WAIVED)
ACTIVITY_CREATE = (1, "Create")
ACTIVITY_UPDATE = (2, "Update")
SEVERITY: dict[Severity, tuple[int, str]] = {
    Severity.LOW: (2, "Low"), Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"), Severity.CRITICAL: (5, "Critical"),
}
FINDING_NEW = (1, "New")
FINDING_SUPPRESSED = (3, "Suppressed")
COMPLIANCE_FAIL = (3, "Fail")
COMPLIANCE_UNKNOWN = (0, "Unknown")
ACCOUNT_TYPE = (10, "AWS Account")
ANALYTIC_RULE = (1, "Rule")


def render(report: Report) -> str:
    """Render the findings as a JSON array of OCSF Compliance Finding events."""
    return json.dumps(events(report), indent=2, ensure_ascii=False) + "\n"


def events(report: Report) -> list[JsonValue]:
    """One event per drift, error and waived result, in report order."""
    default_account = report.accounts[0] if report.accounts else None
    return [event(report, r, default_account) for r in report.results if r.status in REPORTED]


def event(report: Report, r: Result, default_account: str | None) -> dict[str, JsonValue]:
    activity = ACTIVITY_UPDATE if r.change is Change.PERSISTING else ACTIVITY_CREATE
    status = FINDING_SUPPRESSED if r.status is Status.WAIVED else FINDING_NEW
    severity_id, severity = SEVERITY[r.severity]
    account = r.account or default_account
    out: dict[str, JsonValue] = {
        "activity_id": activity[0], "activity_name": activity[1],
        "category_uid": CATEGORY[0], "category_name": CATEGORY[1],
        "class_uid": CLASS[0], "class_name": CLASS[1],
        "type_uid": CLASS[0] * 100 + activity[0], "type_name": f"{CLASS[1]}: {activity[1]}",
        "severity_id": severity_id, "severity": severity,
        "status_id": status[0], "status": status[1],
        "time": cloud.epoch_ms(report.generated_at),
        "message": r.message,
        "metadata": _metadata(report, r),
        "cloud": _cloud(r, account),
        "finding_info": _finding_info(report, r),
        "compliance": _compliance(r),
        "resources": [_resource(r, account)],
    }
    remediation = _remediation(r)
    if remediation is not None:
        out["remediation"] = remediation
    out["unmapped"] = {TOOL_NAME: result_to_dict(r)}
    return out


def _metadata(report: Report, r: Result) -> dict[str, JsonValue]:
    return {
        "version": OCSF_VERSION,
        "profiles": list(PROFILES),
        "product": {"name": TOOL_NAME, "vendor_name": TOOL_NAME, "version": report.tool_version},
        # Unique per event (this finding in this run); finding_info.uid is the stable one.
        "uid": f"{cloud.finding_id(r)}@{report.generated_at}",
        "log_name": "s3audit drift report",
    }


def _cloud(r: Result, account: str | None) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"provider": "AWS", "cloud_partition": cloud.partition(r.region)}
    if r.region:
        out["region"] = r.region
    if account:
        out["account"] = {"uid": account, "type_id": ACCOUNT_TYPE[0], "type": ACCOUNT_TYPE[1]}
    return out


def _finding_info(report: Report, r: Result) -> dict[str, JsonValue]:
    kind = "S3 control not evaluated" if r.status is Status.ERROR else "S3 configuration drift"
    out: dict[str, JsonValue] = {
        "uid": cloud.finding_id(r),
        "title": f"{subject_of(r)}: {cloud.rule_title(r)}",
        "desc": r.message,
        "types": [kind],
        "analytic": {"uid": r.rule_id, "name": r.control, "type_id": ANALYTIC_RULE[0],
                     "type": ANALYTIC_RULE[1]},
        "last_seen_time": cloud.epoch_ms(report.generated_at),
    }
    if r.first_seen:
        out["first_seen_time"] = cloud.epoch_ms(r.first_seen)
    return out


def _compliance(r: Result) -> dict[str, JsonValue]:
    status = COMPLIANCE_UNKNOWN if r.status is Status.ERROR else COMPLIANCE_FAIL
    details = [r.message] + ([r.error.describe()] if r.error is not None else [])
    out: dict[str, JsonValue] = {
        "control": r.rule_id,
        "desc": cloud.rule_title(r),
        "status_id": status[0], "status": status[1],
        "status_details": list(dict.fromkeys(details)),
        "control_parameters": [{"name": "expected", "value": _json(r.expected)}],
    }
    if r.frameworks:
        out["standards"] = [name for name, _ in r.frameworks]
        out["requirements"] = [f"{name} {i}" for name, ids in r.frameworks for i in ids]
    return out


def _resource(r: Result, account: str | None) -> dict[str, JsonValue]:
    res = cloud.resource(r, account or "")
    data: dict[str, JsonValue] = {"expected": to_jsonable(r.expected), "actual": to_jsonable(r.actual)}
    if r.differences:
        data["differences"] = [{"path": d.path, "message": d.message} for d in r.differences]
    out: dict[str, JsonValue] = {"uid": res.arn, "name": res.name, "type": res.ocsf_type,
                                 "cloud_partition": cloud.partition(r.region), "data": data}
    if r.region:
        out["region"] = r.region
    if r.frameworks:
        out["labels"] = [frameworks_text(r)]
    return out


def _remediation(r: Result) -> dict[str, JsonValue] | None:
    commands = [c for c in (r.remediation, *(d.remediation for d in r.differences)) if c]
    if not commands and r.status is Status.ERROR:
        return None
    out: dict[str, JsonValue] = {"desc": "\n".join(dict.fromkeys(commands)) or cloud.rule_title(r)}
    references = cloud.rule_references(r)
    if references:
        out["references"] = list(references)
    return out


def _json(value: object) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))
