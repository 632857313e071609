"""JUnit XML: `Report -> str`, one test case per bucket x control, one test suite per bucket.

One suite per bucket rather than one for the run: CI dashboards (Jenkins, GitLab, Azure
DevOps) list, count and collapse by suite, so a drifting bucket reads as one failing suite
with its failing controls inside, the way a failing test class does.

drift -> <failure type="drift">, error -> <error type="AccessDenied" ...> (the AWS error
code of the failed read), waived -> <skipped>, pass -> an empty test case.

What each reader shows decides the names. GitLab's test report lists a case by its `name`
alone (plus `classname` as "suite" and `file` as "filename"), so the name is
"<bucket> <control>": "amply-storage-prod tls_only", not "tls_only" three times. Jenkins
reads `classname` as package.class split at the last dot, so the dots of a bucket name
become underscores there ("s3audit.www_example_com"; S3 names never contain "_", so
nothing is confused); the name keeps the bucket as it is.

Schemas. The cases and suites validate against the two schemas CI tools read JUnit by:
Ant's JUnit.xsd (as published by Windy Road) and the Jenkins xunit plugin's junit-10.xsd.
Ant's is the strict one: every suite needs properties, system-out, system-err, a hostname
and a timestamp without a zone, every case a time. Two attributes go beyond them, because
the readers people use want them: the totals on <testsuites> (tests, failures, errors,
time: read by GitLab and Jenkins' junit plugin, allowed by junit-10.xsd, while Ant's
schema, written for Ant's own unaggregated files, allows <testsuites> no attributes) and
`file` on <testcase> (GitLab's filename column; the same extension pytest's xunit1 format
writes; neither schema lists it, so the suite also carries `file`, which junit-10.xsd has).
The tests check that these are the only departures. Frameworks a result evidences are suite
properties ("frameworks.<control>"), since neither schema gives a test case properties.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from auditor.jsonable import to_jsonable
from auditor.model import Report, Result, Scope, Status
from auditor.report.view import frameworks_text, scope_of, subject_of

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
    counts = Counter(result.status for result in report.results)
    root = ET.Element("testsuites", {
        "name": PACKAGE,
        "tests": str(len(report.results)),
        "failures": str(counts[Status.DRIFT]),
        "errors": str(counts[Status.ERROR]),
        "time": _seconds(report.duration_seconds),
    })
    first_spec = report.spec_files[0] if report.spec_files else None
    for suite_id, (subject, results) in enumerate(_by_subject(report.results)):
        root.append(_suite(report, suite_id, subject, results, first_spec))
    _make_xml_safe(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _by_subject(results: Iterable[Result]) -> list[tuple[str, list[Result]]]:
    """Results grouped by subject (bucket, account, role), subjects and results in report order."""
    groups: dict[str, list[Result]] = {}
    for result in results:
        groups.setdefault(subject_of(result), []).append(result)
    return list(groups.items())


def _seconds(value: float | None) -> str:
    return NO_TIME if value is None else f"{value:.3f}"


def _spec_file(result: Result, first_spec: str | None) -> str | None:
    """The spec file a case is about: where its control is stated, else the first spec file."""
    return result.source.file if result.source is not None else first_spec


def _suite(report: Report, suite_id: int, subject: str, results: list[Result],
           first_spec: str | None) -> ET.Element:
    counts = Counter(result.status for result in results)
    files = Counter(f for r in results if (f := _spec_file(r, first_spec)) is not None)
    attrs = {
        "name": subject,
        "package": PACKAGE,
        "id": str(suite_id),
        "tests": str(len(results)),
        "failures": str(counts[Status.DRIFT]),
        "errors": str(counts[Status.ERROR]),
        "skipped": str(counts[Status.WAIVED]),
        "time": NO_TIME,
        "timestamp": junit_timestamp(report.generated_at),
        "hostname": HOSTNAME,
    }
    if files:
        attrs["file"] = files.most_common(1)[0][0]
    suite = ET.Element("testsuite", attrs)
    suite.append(_properties(report, results))
    suite.extend(_case(result, first_spec) for result in results)
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
    for result in results:
        if result.frameworks:
            values[f"frameworks.{result.control}"] = frameworks_text(result)
    props = ET.Element("properties")
    for name, value in values.items():
        if value is not None:
            ET.SubElement(props, "property", {"name": name, "value": value})
    return props


def _case(result: Result, first_spec: str | None) -> ET.Element:
    subject = subject_of(result)
    attrs = {
        "classname": f"{PACKAGE}.{subject.replace('.', '_')}",
        "name": f"{subject} {result.control}",
        "time": NO_TIME,
    }
    spec = _spec_file(result, first_spec)
    if spec is not None:
        attrs["file"] = spec
    case = ET.Element("testcase", attrs)
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
    """The AWS error code of the read that failed (AccessDenied, Throttling ...), else "error"."""
    return result.error.code if result.error is not None and result.error.code else "error"


def waived_message(result: Result) -> str:
    waiver = result.waiver
    if waiver is None:
        return "waived"
    return f"waived until {waiver.expires}: {waiver.reason}"


def details(result: Result) -> str:
    """The body of a failure, error or skip: what differs, how to fix it, where it is stated."""
    lines = [
        _subject_line(result),
        f"Control: {result.control} ({result.rule_id}, severity {result.severity.value})",
        f"Message: {result.message}",
        f"Expected: {_json(result.expected)}",
        f"Actual: {_json(result.actual)}",
    ]
    lines += [f"Differs: {d.path or '(value)'}: {d.message}" for d in result.differences]
    if result.error is not None:
        lines.append(f"Failed read: {result.error.describe()}")
    if result.frameworks:
        lines.append(f"Frameworks: {frameworks_text(result)}")
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


def _subject_line(result: Result) -> str:
    scope = scope_of(result)
    if scope is Scope.ACCOUNT:
        return f"Account: {result.account or '(unknown)'}"
    account = f" (account {result.account})" if result.account else ""
    if scope is Scope.PRINCIPAL:
        return f"Role: {result.principal}{account}"
    return f"Bucket: {result.bucket}{account}"


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
