"""JUnit XML: `Report -> str`, one test case per bucket x control, one test suite per bucket.

One suite per bucket rather than one for the run: CI dashboards (Jenkins, GitLab, Azure
DevOps) list, count and collapse by suite, so a drifting bucket reads as one failing suite
with its failing controls inside, the way a failing test class does.

drift -> <failure type="drift">, error -> <error type="AccessDenied" ...> (the AWS error
code when the message names one), waived -> <skipped>, pass -> an empty test case.

The output validates against the two schemas CI tools read JUnit by: Ant's JUnit.xsd (as
published by Windy Road) and the Jenkins xunit plugin's junit-10.xsd. Ant's is the strict
one: every suite needs properties, system-out, system-err, a hostname and a timestamp
without a zone, every case a time, and <testsuites> takes no attributes, so the totals
live on the suites (every reader adds them up).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from auditor.jsonable import to_jsonable
from auditor.model import Report, Result, Status

PACKAGE = "s3audit"
# Ant's schema requires a hostname and says to use 'localhost' when it is not known; the
# report does not record where the audit ran.
HOSTNAME = "localhost"
# The report does not time single buckets or controls; the run's duration is a property.
NO_TIME = "0"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Characters XML 1.0 cannot carry at all, not even escaped (C0 controls but tab, CR and LF;
# lone surrogates; U+FFFE/U+FFFF). ElementTree would write them and break every reader.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render(report: Report) -> str:
    """Render the report as JUnit XML (UTF-8 declaration, two-space indent)."""
    root = ET.Element("testsuites")
    for suite_id, (bucket, results) in enumerate(_by_bucket(report.results)):
        root.append(_suite(report, suite_id, bucket, results))
    _make_xml_safe(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _by_bucket(results: Iterable[Result]) -> list[tuple[str, list[Result]]]:
    """Results grouped by bucket, buckets and results in report order."""
    groups: dict[str, list[Result]] = {}
    for result in results:
        groups.setdefault(result.subject, []).append(result)
    return list(groups.items())


def _suite(report: Report, suite_id: int, bucket: str, results: list[Result]) -> ET.Element:
    counts = Counter(result.status for result in results)
    suite = ET.Element("testsuite", {
        "name": bucket,
        "package": PACKAGE,
        "id": str(suite_id),
        "tests": str(len(results)),
        "failures": str(counts[Status.DRIFT]),
        "errors": str(counts[Status.ERROR]),
        "skipped": str(counts[Status.WAIVED]),
        "time": NO_TIME,
        "timestamp": junit_timestamp(report.generated_at),
        "hostname": HOSTNAME,
    })
    suite.append(_properties(report, results))
    suite.extend(_case(result) for result in results)
    ET.SubElement(suite, "system-out")
    ET.SubElement(suite, "system-err")
    return suite


def _properties(report: Report, results: list[Result]) -> ET.Element:
    values: dict[str, str | None] = {
        "account": next((r.account for r in results if r.account), None),
        "region": next((r.region for r in results if r.region), None),
        "generated_at": report.generated_at,
        "tool_version": report.tool_version,
        "baseline": report.baseline,
    }
    if report.duration_seconds is not None:
        values["run_duration_seconds"] = f"{report.duration_seconds:.3f}"
    props = ET.Element("properties")
    for name, value in values.items():
        if value is not None:
            ET.SubElement(props, "property", {"name": name, "value": value})
    return props


def _case(result: Result) -> ET.Element:
    case = ET.Element("testcase", {
        "classname": f"{PACKAGE}.{result.bucket}",
        "name": result.control,
        "time": NO_TIME,
    })
    if result.status is Status.DRIFT:
        failure = ET.SubElement(case, "failure", {"type": "drift", "message": result.message})
        failure.text = details(result)
    elif result.status is Status.ERROR:
        error = ET.SubElement(case, "error", {"type": error_type(result), "message": result.message})
        error.text = details(result)
    elif result.status is Status.WAIVED:
        skipped = ET.SubElement(case, "skipped", {"message": waived_message(result)})
        skipped.text = details(result)
    return case


def error_type(result: Result) -> str:
    """The AWS error code of the failed read (AccessDenied, Throttling ...), else "error"."""
    return result.error.code if result.error is not None else "error"


def waived_message(result: Result) -> str:
    waiver = result.waiver
    if waiver is None:
        return "waived"
    return f"waived until {waiver.expires}: {waiver.reason}"


def details(result: Result) -> str:
    """The body of a failure, error or skip: what differs, how to fix it, where it is stated."""
    lines = [
        f"Bucket: {result.bucket}" + (f" (account {result.account})" if result.account else ""),
        f"Control: {result.control} ({result.rule_id}, severity {result.severity.value})",
        f"Message: {result.message}",
        f"Expected: {_json(result.expected)}",
        f"Actual: {_json(result.actual)}",
    ]
    lines += [f"Differs: {d.path or '(value)'}: {d.message}" for d in result.differences]
    if result.remediation:
        lines.append(f"Remediation: {result.remediation}")
    if result.source is not None:
        lines.append(f"Spec: {result.source.file}:{result.source.line}")
    if result.change is not None:
        seen = f", first seen {result.first_seen}" if result.first_seen else ""
        lines.append(f"Change: {result.change.value}{seen}")
    if result.waiver is not None:
        w = result.waiver
        ticket = f", ticket {w.ticket}" if w.ticket else ""
        lines.append(f"Waiver: {w.reason} (owner {w.owner}, expires {w.expires}{ticket})")
    return "\n".join(lines)


def _json(value: object) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(", ", ": "))


def junit_timestamp(generated_at: str) -> str:
    """generated_at in UTC without a zone, as Ant's schema requires (2026-11-24T23:00:00)."""
    try:
        moment = datetime.fromisoformat(generated_at)
    except ValueError:
        return generated_at
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(TIMESTAMP_FORMAT)


def _make_xml_safe(root: ET.Element) -> None:
    """Spell characters XML cannot carry as visible escapes (\\x01), in text and attributes."""
    for element in root.iter():
        element.attrib = {key: _xml_safe(value) for key, value in element.attrib.items()}
        if element.text is not None:
            element.text = _xml_safe(element.text)


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
