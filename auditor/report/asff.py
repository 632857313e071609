"""ASFF: `Report -> str`, a JSON array of AWS Security Finding Format findings, one per drift
and error, ready for Security Hub's BatchImportFindings (s3audit never calls it; the audit
stays read-only). The README shows how to import it: the findings of one account and
region at a time (the caller must be the finding's account), at most 100 per call.

The mapping:

- `Id` is the result's stable key (s3audit/ACCOUNT/BUCKET/CONTROL): importing the next run's
  file updates the same findings instead of adding duplicates.
- `ProductArn` is the account's default product (arn:PARTITION:securityhub:REGION:ACCOUNT:
  product/ACCOUNT/default), which is how a custom integration imports into its own account;
  BatchImportFindings then requires the caller to be the finding's account.
- The region is the bucket's; a result without one (an account or role result, a bucket
  no account has) takes the most common region of the report, else us-east-1.
- Drift is Compliance FAILED, an error NOT_AVAILABLE (the check could not be performed).
  A drift the baseline had and that now passes (`change: resolved`, with --history or
  --baseline) is written once more as PASSED and ARCHIVED, so Security Hub closes it.
- Severity and Types are written top-level and in FindingProviderFields, which is where
  Security Hub takes updates to them from.
- Lengths are cut to the documented limits (Title 256, Description 1024, Recommendation
  text 512, ProductFields values 2048, 32 related requirements).
"""

from __future__ import annotations

import json
from collections import Counter

from auditor.jsonable import JsonValue, to_jsonable
from auditor.model import Change, Report, Result, Severity, Status
from auditor.report import cloud
from auditor.report.json_report import TOOL_NAME
from auditor.report.view import subject_of

SCHEMA_VERSION = "2018-10-08"
DEFAULT_REGION = "us-east-1"
UNKNOWN_ACCOUNT = "000000000000"
TYPE_BEST_PRACTICES = "Software and Configuration Checks/AWS Security Best Practices"
TYPE_CIS = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
LABELS: dict[Severity, str] = {
    Severity.LOW: "LOW", Severity.MEDIUM: "MEDIUM", Severity.HIGH: "HIGH", Severity.CRITICAL: "CRITICAL",
}
MAX_TITLE, MAX_DESCRIPTION, MAX_RECOMMENDATION = 256, 1024, 512
MAX_FIELD_VALUE, MAX_REQUIREMENTS = 2048, 32


def render(report: Report) -> str:
    """Render the findings as a JSON array of ASFF findings."""
    return json.dumps(findings(report), indent=2, ensure_ascii=False) + "\n"


def findings(report: Report) -> list[JsonValue]:
    """One finding per drift and error, and one archiving each resolved drift."""
    context = _Context(report)
    return [finding(context, r) for r in report.results if _reported(r)]


def _reported(r: Result) -> bool:
    return r.status in (Status.DRIFT, Status.ERROR) or (
        r.status is Status.PASS and r.change is Change.RESOLVED)


class _Context:
    """Run-wide facts a finding may need: when, and the fallbacks for account and region."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.updated = cloud.iso_utc(report.generated_at)
        regions = Counter(r.region for r in report.results if r.region)
        self.region = regions.most_common(1)[0][0] if regions else DEFAULT_REGION
        self.account = report.accounts[0] if report.accounts else UNKNOWN_ACCOUNT


def finding(context: _Context, r: Result) -> dict[str, JsonValue]:
    account = r.account or context.account
    region = r.region or context.region
    part = cloud.partition(region)
    res = cloud.resource(r, account)
    first = cloud.iso_utc(r.first_seen) if r.first_seen else context.updated
    resolved = r.status is Status.PASS
    severity: dict[str, JsonValue] = {"Label": "INFORMATIONAL" if resolved else LABELS[r.severity],
                                      "Original": r.severity.value}
    types = _types(r)
    out: dict[str, JsonValue] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": cloud.finding_id(r),
        "ProductArn": f"arn:{part}:securityhub:{region}:{account}:product/{account}/default",
        "ProductName": TOOL_NAME,
        "CompanyName": TOOL_NAME,
        "Region": region,
        "GeneratorId": f"{TOOL_NAME}/{r.rule_id}",
        "AwsAccountId": account,
        "Types": list[JsonValue](types),
        "FirstObservedAt": first,
        "LastObservedAt": context.updated,
        "CreatedAt": first,
        "UpdatedAt": context.updated,
        "Severity": severity,
        "Title": _cut(f"{subject_of(r)} {r.control}: {cloud.rule_title(r)}", MAX_TITLE),
        "Description": _cut(r.message, MAX_DESCRIPTION),
        "ProductFields": _product_fields(r),
        "Resources": [{"Type": res.asff_type, "Id": res.arn, "Partition": part, "Region": region}],
        "Compliance": _compliance(r),
        "RecordState": "ARCHIVED" if resolved else "ACTIVE",
        "FindingProviderFields": {"Severity": dict(severity), "Types": list[JsonValue](types)},
    }
    remediation = _remediation(r)
    if remediation is not None:
        out["Remediation"] = remediation
    return out


def _types(r: Result) -> list[str]:
    names = {name for name, _ in r.frameworks}
    return [TYPE_BEST_PRACTICES] + ([TYPE_CIS] if "cis-aws" in names else [])


def _compliance(r: Result) -> dict[str, JsonValue]:
    status = {Status.DRIFT: "FAILED", Status.ERROR: "NOT_AVAILABLE"}.get(r.status, "PASSED")
    out: dict[str, JsonValue] = {"Status": status}
    requirements = [f"{name} {i}" for name, ids in r.frameworks for i in ids]
    if requirements:
        out["RelatedRequirements"] = list[JsonValue](requirements[:MAX_REQUIREMENTS])
    return out


def _product_fields(r: Result) -> dict[str, JsonValue]:
    fields: dict[str, str | None] = {
        "s3audit/control": r.control,
        "s3audit/rule_id": r.rule_id,
        "s3audit/status": r.status.value,
        "s3audit/scope": r.scope.value,
        "s3audit/expected": _json(r.expected),
        "s3audit/actual": _json(r.actual),
        "s3audit/change": r.change.value if r.change else None,
        "s3audit/spec": f"{r.source.file}:{r.source.line}" if r.source else None,
        "s3audit/error": r.error.describe() if r.error else None,
    }
    return {key: _cut(value, MAX_FIELD_VALUE) for key, value in fields.items() if value}


def _remediation(r: Result) -> dict[str, JsonValue] | None:
    commands = [c for c in (r.remediation, *(d.remediation for d in r.differences)) if c]
    references = cloud.rule_references(r)
    if not commands and not references:
        return None
    text = "\n".join(dict.fromkeys(commands)) or cloud.rule_title(r)
    recommendation: dict[str, JsonValue] = {"Text": _cut(text, MAX_RECOMMENDATION)}
    if references:
        recommendation["Url"] = references[0]
    return {"Recommendation": recommendation}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json(value: object) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))
