"""SARIF 2.1.0 for code scanning: `Report -> str`, one SARIF result per drift, error or waiver.

A SARIF viewer (GitHub code scanning, VS Code's SARIF viewer) shows a finding at a file and
line, so each result points at the spec line that states the requirement, and names the
bucket (account, role) as a logical location. GitHub rejects a whole upload when any result
lacks a physical location, so a result without a spec line (a bucket no spec names, a
run-level error) points at the first spec file, line 1. URIs are relative to a root
(`--sarif-root`, by default the directory s3audit ran in), which is what GitHub resolves them
against: the repository checkout. `partialFingerprints` carries the result's stable key
(account/bucket/control), so code scanning tracks one finding across runs however its
message changes. Passing results are not written: SARIF lists findings, not evidence.

GitHub's upload limits (docs.github.com, "SARIF results exceed limits") are kept: at most
25,000 results per run (the most severe are kept, and a tool notification says how many were
left out) and at most 20 tags per rule.
"""

from __future__ import annotations

import functools
import inspect
import json
import os.path
from dataclasses import dataclass
from importlib import metadata
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from urllib.parse import quote

from auditor.controls import CONTROLS, Control, example_remediation
from auditor.jsonable import JsonValue, to_jsonable
from auditor.model import Change, Report, Result, Scope, Severity, SourceRef, Status, Waiver
from auditor.report.json_report import run_to_dict, summary_to_dict
from auditor.report.view import scope_of, subject_of

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
# GitHub code scanning's hard limits per run and per rule.
MAX_RESULTS = 25_000
MAX_TAGS = 20
BASE_TAGS: tuple[str, ...] = ("security", "aws-s3")
# Where a result points when the report names no spec file at all (a run on --pack only).
NO_SPEC_URI = "specs"


@dataclass(frozen=True, slots=True)
class Paths:
    """How spec paths become URIs: relative to `root`, with relative paths read from `cwd`.

    Both absolute. Without them a relative path is written as it is (it is already relative
    to the directory s3audit ran in, the default root) and an absolute one as a file URI.
    """

    root: PurePath | None = None
    cwd: PurePath | None = None


def render(report: Report, paths: Paths | None = None) -> str:
    """Render the report as a SARIF 2.1.0 log (indent 2, UTF-8 characters kept)."""
    return json.dumps(to_dict(report, paths), indent=2, ensure_ascii=False) + "\n"


def to_dict(report: Report, paths: Paths | None = None) -> dict[str, JsonValue]:
    """The SARIF log as an ordered JSON object: one run, rules from the registry."""
    rules = sorted(CONTROLS, key=lambda rule: rule.id)
    index = {rule.id: i for i, rule in enumerate(rules)}
    findings = [r for r in report.results if r.status in REPORTED]
    kept = _within_limit(findings)
    where = _Locator(report, paths or Paths())
    run: dict[str, JsonValue] = {
        "tool": {"driver": _driver(report, rules)},
        # Spec columns count characters (PyYAML marks), not UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "results": [_result(result, index.get(result.rule_id), where) for result in kept],
    }
    if len(kept) < len(findings):
        run["invocations"] = [_truncation_notice(len(findings) - len(kept))]
    run["properties"] = _run_properties(report)
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _within_limit(findings: list[Result]) -> list[Result]:
    """At most MAX_RESULTS findings: failing before waived, most severe first, report order kept."""
    if len(findings) <= MAX_RESULTS:
        return findings
    ranked = sorted(range(len(findings)), key=lambda i: (
        findings[i].status is Status.WAIVED, -findings[i].severity.rank, i))
    keep = set(ranked[:MAX_RESULTS])
    return [r for i, r in enumerate(findings) if i in keep]


def _truncation_notice(left_out: int) -> dict[str, JsonValue]:
    text = (f"{left_out} results were left out: GitHub code scanning accepts at most "
            f"{MAX_RESULTS} per run. The least severe went first; the JSON report has them all.")
    return {"executionSuccessful": True,
            "toolExecutionNotifications": [{"level": "warning", "message": {"text": text}}]}


def _driver(report: Report, rules: list[Control]) -> dict[str, JsonValue]:
    driver: dict[str, JsonValue] = {"name": TOOL_NAME, "version": report.tool_version}
    uri = information_uri()
    if uri is not None:
        driver["informationUri"] = uri
    tags = _framework_tags(report)
    driver["rules"] = [_rule(rule, tags.get(rule.id, ())) for rule in rules]
    return driver


def _framework_tags(report: Report) -> dict[str, tuple[str, ...]]:
    """Per rule, the framework requirements its results evidence in this report ("aws-fsbp/S3.8")."""
    seen: dict[str, dict[str, None]] = {}
    for result in report.results:
        for name, ids in result.frameworks:
            for requirement in ids:
                seen.setdefault(result.rule_id, {})[f"{name}/{requirement}"] = None
    return {rule_id: tuple(sorted(tags)) for rule_id, tags in seen.items()}


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


def _rule(rule: Control, framework_tags: tuple[str, ...]) -> dict[str, JsonValue]:
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
        "tags": list[JsonValue]([*BASE_TAGS, *framework_tags][:MAX_TAGS]),
    }
    return out


def _help(rule: Control, doc: str) -> str:
    parts = [doc, f"Remediation (example): {example_remediation(rule)}"]
    if rule.references:
        parts.append("References:\n" + "\n".join(f"- {ref}" for ref in rule.references))
    return "\n\n".join(parts)


def _result(result: Result, rule_index: int | None, where: _Locator) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"ruleId": result.rule_id}
    if rule_index is not None:
        out["ruleIndex"] = rule_index
    out["level"] = "error" if result.status is Status.ERROR else LEVELS[result.severity]
    out["message"] = {"text": message_text(result)}
    out["locations"] = [where.location(result)]
    out["partialFingerprints"] = {FINGERPRINT: result.key}
    if result.change in BASELINE_STATES:
        out["baselineState"] = BASELINE_STATES[result.change]
    if result.status is Status.WAIVED:
        out["suppressions"] = [_suppression(result.waiver, where)]
    out["properties"] = _result_properties(result)
    return out


def message_text(result: Result) -> str:
    """The SARIF message: what is wrong on which bucket, then expected and actual values."""
    subject = _described_subject(result)
    if result.status is Status.ERROR:
        if result.error is not None:
            detail = result.error.describe()
        else:
            detail = result.message.removeprefix(f"Could not evaluate {result.control}: ")
        return (
            f"Could not evaluate {result.control} on {subject}, so it is not "
            f"known to comply: {detail}"
        )
    return (
        f"{subject} {result.control}: {result.message.rstrip('. ')}. "
        f"Expected {_quoted(result.expected)}; actual {_quoted(result.actual)}."
    )


def _described_subject(result: Result) -> str:
    scope = scope_of(result)
    if scope is Scope.BUCKET:
        return f"bucket {result.bucket}" if result.status is Status.ERROR else str(result.bucket)
    if scope is Scope.PRINCIPAL:
        return f"role {result.principal}"
    return subject_of(result)


def _quoted(value: object) -> str:
    text = json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_VALUE_CHARS:
        return text[: MAX_VALUE_CHARS - 1] + "…"
    return text


class _Locator:
    """Physical and logical locations of results, with spec paths made relative to the root."""

    def __init__(self, report: Report, paths: Paths) -> None:
        self.paths = paths
        first = report.spec_files[0] if report.spec_files else None
        self.fallback = SourceRef(first, 1, 1) if first is not None else None

    def location(self, result: Result) -> dict[str, JsonValue]:
        # No spec line (an unmanaged bucket, a run-level error): the first spec file, line 1.
        source = result.source or self.fallback
        physical: dict[str, JsonValue] = (
            self.physical(source) if source is not None
            else {"artifactLocation": {"uri": NO_SPEC_URI}, "region": {"startLine": 1}})
        return {"physicalLocation": physical, "logicalLocations": [_logical(result)]}

    def physical(self, source: SourceRef) -> dict[str, JsonValue]:
        return {
            "artifactLocation": {"uri": artifact_uri(source.file, self.paths)},
            "region": {"startLine": max(source.line, 1), "startColumn": max(source.column, 1)},
        }


def _logical(result: Result) -> dict[str, JsonValue]:
    scope = scope_of(result)
    if scope is Scope.BUCKET:
        name = str(result.bucket)
        qualified = f"{result.account}/{name}" if result.account else name
    elif scope is Scope.PRINCIPAL:
        name = qualified = result.principal or subject_of(result)
    else:
        name = qualified = result.account or subject_of(result)
    return {"name": name, "fullyQualifiedName": qualified, "kind": "resource"}


def artifact_uri(path: str, paths: Paths | None = None) -> str:
    """A spec path as a URI reference relative to the root (GitHub resolves it against the
    checkout); a path outside the root, or any absolute path without a root, becomes a file
    URI. Unsafe characters are escaped."""
    if PureWindowsPath(path).drive:
        return PureWindowsPath(path).as_uri()
    posix = path.replace("\\", "/")
    if paths is not None and paths.root is not None:
        relative = _relative_to_root(posix, paths)
        if relative is not None:
            return quote(relative, safe="/")
        posix = _absolute(posix, paths)
    if posix.startswith("/"):
        return PurePosixPath(posix).as_uri()
    return quote(posix, safe="/")


def _absolute(posix: str, paths: Paths) -> str:
    cwd = str(paths.cwd or paths.root).replace("\\", "/")
    return os.path.normpath(posix if posix.startswith("/") else os.path.join(cwd, posix))


def _relative_to_root(posix: str, paths: Paths) -> str | None:
    root = str(paths.root).replace("\\", "/")
    relative = os.path.relpath(_absolute(posix, paths), os.path.normpath(root))
    if relative == ".." or relative.startswith("../"):
        return None  # outside the root: no relative reference would find it in the checkout
    return PurePosixPath(relative).as_posix()


def _suppression(waiver: Waiver | None, where: _Locator) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"kind": "external", "status": "accepted"}
    if waiver is None:
        return out
    out["justification"] = waiver.reason
    if waiver.source is not None:
        out["location"] = {"physicalLocation": where.physical(waiver.source)}
    props: dict[str, JsonValue] = {"owner": waiver.owner, "expires": waiver.expires}
    if waiver.ticket is not None:
        props["ticket"] = waiver.ticket
    out["properties"] = props
    return out


def _result_properties(result: Result) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"bucket": result.bucket}
    known: tuple[tuple[str, str | None], ...] = (
        ("scope", None if result.scope is Scope.BUCKET else str(result.scope.value)),
        ("principal", result.principal),
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
    if result.frameworks:
        out["frameworks"] = {name: list(ids) for name, ids in result.frameworks}
        out["tags"] = [f"{name}/{i}" for name, ids in result.frameworks for i in ids]
    if result.error is not None:
        out["error"] = to_jsonable(result.error)
    return out


def _run_properties(report: Report) -> dict[str, JsonValue]:
    # The same summary and run metadata as the JSON report, so the two read alike.
    return {"generated_at": report.generated_at, "summary": summary_to_dict(report), **run_to_dict(report)}
