"""SARIF 2.1.0 for code scanning: `Report -> str`, one SARIF result per drift, error or waiver.

A SARIF viewer (GitHub code scanning, VS Code's SARIF viewer) shows a finding at a file and
line, so each result points at the spec line that states the requirement, and names the
bucket as a logical location. `partialFingerprints` carries the result's stable key
(account/bucket/control), so code scanning tracks one finding across runs however its
message changes. Passing results are not written: SARIF lists findings, not evidence.
"""

from __future__ import annotations

import functools
import inspect
import json
from importlib import metadata
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from auditor.controls import CONTROLS, Control, example_remediation
from auditor.jsonable import JsonValue, to_jsonable
from auditor.model import Change, Report, Result, Severity, SourceRef, Status, Waiver
from auditor.report.json_report import run_to_dict, summary_to_dict

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "s3audit"
FINGERPRINT = "s3audit/v1"
REPORTED: tuple[Status, ...] = (Status.DRIFT, Status.ERROR, Status.WAIVED)
# Expected/actual values are quoted in the message up to this length; the full values are
# in the result's properties.
MAX_VALUE_CHARS = 300

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
}
# GitHub code scanning ranks alerts of rules tagged "security" by `security-severity`, a
# number 0.0-10.0 written as a string: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium,
# below 4.0 low.
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}
# "resolved" results pass and are not written, so they need no SARIF state.
BASELINE_STATES: dict[Change, str] = {Change.NEW: "new", Change.PERSISTING: "unchanged"}


def render(report: Report) -> str:
    """Render the report as a SARIF 2.1.0 log (indent 2, UTF-8 characters kept)."""
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


def to_dict(report: Report) -> dict[str, JsonValue]:
    """The SARIF log as an ordered JSON object: one run, rules from the registry."""
    rules = sorted(CONTROLS, key=lambda rule: rule.id)
    index = {rule.id: i for i, rule in enumerate(rules)}
    run: dict[str, JsonValue] = {
        "tool": {"driver": _driver(report, rules)},
        # Spec columns count characters (PyYAML marks), not UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "results": [
            _result(result, index.get(result.rule_id))
            for result in report.results
            if result.status in REPORTED
        ],
        "properties": _run_properties(report),
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _driver(report: Report, rules: list[Control]) -> dict[str, JsonValue]:
    driver: dict[str, JsonValue] = {"name": TOOL_NAME, "version": report.tool_version}
    uri = information_uri()
    if uri is not None:
        driver["informationUri"] = uri
    driver["rules"] = [_rule(rule) for rule in rules]
    return driver


@functools.cache
def information_uri() -> str | None:
    """The project's home page from the installed package metadata, if it names one."""
    try:
        meta = metadata.metadata(TOOL_NAME)
    except metadata.PackageNotFoundError:
        return None
    for url in meta.get_all("Home-page") or []:
        if url.startswith(("https://", "http://")):
            return str(url)
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = str(entry).partition(",")
        if label.strip().lower() in ("homepage", "home", "documentation", "source"):
            return url.strip()
    return None


def _rule(rule: Control) -> dict[str, JsonValue]:
    doc = inspect.cleandoc(rule.doc) or rule.title
    out: dict[str, JsonValue] = {
        "id": rule.id,
        "name": rule.key,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": doc},
    }
    if rule.references:
        out["helpUri"] = rule.references[0]
    out["help"] = {"text": _help(rule, doc)}
    out["defaultConfiguration"] = {"level": LEVELS[rule.severity]}
    out["properties"] = {
        "control": rule.key,
        "scope": str(rule.scope.value),
        "severity": str(rule.severity.value),
        "security-severity": SECURITY_SEVERITY[rule.severity],
        "tags": ["security", "aws-s3"],
    }
    return out


def _help(rule: Control, doc: str) -> str:
    parts = [doc, f"Remediation (example): {example_remediation(rule)}"]
    if rule.references:
        parts.append("References:\n" + "\n".join(f"- {ref}" for ref in rule.references))
    return "\n\n".join(parts)


def _result(result: Result, rule_index: int | None) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"ruleId": result.rule_id}
    if rule_index is not None:
        out["ruleIndex"] = rule_index
    out["level"] = "error" if result.status is Status.ERROR else LEVELS[result.severity]
    out["message"] = {"text": message_text(result)}
    out["locations"] = [_location(result)]
    out["partialFingerprints"] = {FINGERPRINT: result.key}
    if result.change in BASELINE_STATES:
        out["baselineState"] = BASELINE_STATES[result.change]
    if result.status is Status.WAIVED:
        out["suppressions"] = [_suppression(result.waiver)]
    out["properties"] = _result_properties(result)
    return out


def message_text(result: Result) -> str:
    """The SARIF message: what is wrong on which bucket, then expected and actual values."""
    if result.status is Status.ERROR:
        detail = (result.error.describe() if result.error is not None
                  else result.message.removeprefix(f"Could not evaluate {result.control}: "))
        return (
            f"Could not evaluate {result.control} on bucket {result.bucket}, so it is not "
            f"known to comply: {detail}"
        )
    return (
        f"{result.bucket} {result.control}: {result.message.rstrip('. ')}. "
        f"Expected {_quoted(result.expected)}; actual {_quoted(result.actual)}."
    )


def _quoted(value: object) -> str:
    text = json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_VALUE_CHARS:
        return text[: MAX_VALUE_CHARS - 1] + "…"
    return text


def _location(result: Result) -> dict[str, JsonValue]:
    account = result.account
    logical: dict[str, JsonValue] = {
        "name": result.bucket,
        "fullyQualifiedName": f"{account}/{result.bucket}" if account else result.bucket,
        "kind": "resource",
    }
    out: dict[str, JsonValue] = {}
    if result.source is not None:
        out["physicalLocation"] = _physical(result.source)
    # Without a spec line (an unmanaged bucket) the bucket alone is the location.
    out["logicalLocations"] = [logical]
    return out


def _physical(source: SourceRef) -> dict[str, JsonValue]:
    return {
        "artifactLocation": {"uri": artifact_uri(source.file)},
        "region": {"startLine": max(source.line, 1), "startColumn": max(source.column, 1)},
    }


def artifact_uri(path: str) -> str:
    """A spec path as a URI reference: relative paths stay relative (viewers resolve them
    against the checkout), absolute ones become file URIs; unsafe characters are escaped."""
    if PureWindowsPath(path).drive:
        return PureWindowsPath(path).as_uri()
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return PurePosixPath(posix).as_uri()
    return quote(posix, safe="/")


def _suppression(waiver: Waiver | None) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"kind": "external", "status": "accepted"}
    if waiver is None:
        return out
    out["justification"] = waiver.reason
    if waiver.source is not None:
        out["location"] = {"physicalLocation": _physical(waiver.source)}
    props: dict[str, JsonValue] = {"owner": waiver.owner, "expires": waiver.expires}
    if waiver.ticket is not None:
        props["ticket"] = waiver.ticket
    out["properties"] = props
    return out


def _result_properties(result: Result) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"bucket": result.bucket}
    known: tuple[tuple[str, str | None], ...] = (
        ("account", result.account),
        ("region", result.region),
        ("control", result.control),
        ("severity", str(result.severity.value)),
        ("status", str(result.status.value)),
        ("change", None if result.change is None else str(result.change.value)),
        ("first_seen", result.first_seen),
        ("remediation", result.remediation),
    )
    out.update((key, value) for key, value in known if value is not None)
    out["expected"] = to_jsonable(result.expected)
    out["actual"] = to_jsonable(result.actual)
    return out


def _run_properties(report: Report) -> dict[str, JsonValue]:
    # The same summary and run metadata as the JSON report, so the two read alike.
    return {"generated_at": report.generated_at, "summary": summary_to_dict(report), **run_to_dict(report)}
