"""The machine-readable report: `Report -> str` in the contract's shape and key order.

Key order is part of the output's readability (and of diffs between two runs), so every
object is built explicitly here rather than from `dataclasses.asdict`. The contract's keys
come first in its order; additive keys follow and are written only when known.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from auditor.errors import AuditorError
from auditor.jsonable import JsonValue, to_jsonable
from auditor.model import Difference, Report, Result

SCHEMA_VERSION = 1
TOOL_NAME = "s3audit"

# Run-to-run and waiver attributes of a result, written only when set.
_OPTIONAL_RESULT_KEYS: tuple[str, ...] = ("change", "first_seen", "waiver")


class ReportInvalid(AuditorError, ValueError):
    """A report document is not valid JSON or does not match report.schema.json."""


def render(report: Report) -> str:
    """Render the report as JSON text (indent 2, UTF-8 characters kept, trailing newline)."""
    return "".join(chunks(report))


_HOLE = "\x00s3audit-results\x00"


def chunks(report: Report) -> Iterator[str]:
    """`render`'s text in pieces, one result at a time: the same bytes, without ever holding
    the whole document (or every result's dict) in memory at once."""
    shell = to_dict(report, results=False)
    shell["results"] = _HOLE
    head, _, tail = json.dumps(shell, indent=2, ensure_ascii=False).partition(json.dumps(_HOLE))
    if not report.results:
        yield head + "[]" + tail + "\n"
        return
    yield head + "[\n"
    for i, result in enumerate(report.results):
        text = json.dumps(result_to_dict(result), indent=2, ensure_ascii=False)
        yield ("" if i == 0 else ",\n") + "    " + text.replace("\n", "\n    ")
    yield "\n  ]" + tail + "\n"


def to_dict(report: Report, results: bool = True) -> dict[str, JsonValue]:
    """The report as an ordered JSON object; shared with formats built on the JSON shape."""
    out: dict[str, JsonValue] = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": report.generated_at,
        "tool": {"name": TOOL_NAME, "version": report.tool_version},
        "summary": summary_to_dict(report),
        "results": [result_to_dict(result) for result in report.results] if results else [],
    }
    if report.unused_waivers:
        out["unused_waivers"] = [to_jsonable(w) for w in report.unused_waivers]
    run = run_to_dict(report)
    if run:
        out["run"] = run
    return out


def result_to_dict(result: Result) -> dict[str, JsonValue]:
    """One result as an ordered JSON object: contract keys first, then what is known."""
    out: dict[str, JsonValue] = {
        "bucket": result.bucket,
        "control": result.control,
        "status": str(result.status.value),
        "severity": str(result.severity.value),
        "expected": to_jsonable(result.expected),
        "actual": to_jsonable(result.actual),
        "message": result.message,
        "remediation": result.remediation,
        "rule_id": result.rule_id,
        "scope": str(result.scope.value),
    }
    if result.principal is not None:
        out["principal"] = result.principal
    if result.account is not None:
        out["account"] = result.account
    if result.region is not None:
        out["region"] = result.region
    if result.differences:
        out["differences"] = [_difference(d) for d in result.differences]
    if result.source is not None:
        out["source"] = to_jsonable(result.source)
    for key in _OPTIONAL_RESULT_KEYS:
        value = getattr(result, key)
        if value is not None:
            out[key] = to_jsonable(value)
    if result.error is not None:
        out["error"] = to_jsonable(result.error)
    if result.frameworks:
        out["frameworks"] = {name: list(ids) for name, ids in result.frameworks}
    return out


def _difference(diff: Difference) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {
        "path": diff.path,
        "expected": to_jsonable(diff.expected),
        "actual": to_jsonable(diff.actual),
        "message": diff.message,
    }
    if diff.remediation is not None:
        out["remediation"] = diff.remediation
    return out


def summary_to_dict(report: Report) -> dict[str, JsonValue]:
    """The contract's `summary` object (also used by the SARIF run properties)."""
    summary = report.summary
    out: dict[str, JsonValue] = {
        "buckets": summary.buckets,
        "pass": summary.passed,
        "drift": summary.drift,
        "error": summary.error,
        "waived": summary.waived,
        "compliant": summary.compliant,
    }
    return out


def run_to_dict(report: Report) -> dict[str, JsonValue]:
    """Run metadata: accounts, spec files, endpoint, duration, baseline, free-form extras."""
    out: dict[str, JsonValue] = {}
    if report.accounts:
        out["accounts"] = list(report.accounts)
    if report.spec_files:
        out["spec_files"] = list(report.spec_files)
    if report.endpoint_url is not None:
        out["endpoint_url"] = report.endpoint_url
    if report.baseline is not None:
        out["baseline"] = report.baseline
    if report.duration_seconds is not None:
        # Millisecond precision is plenty and keeps float noise out of the file.
        out["duration_seconds"] = round(report.duration_seconds, 3)
    for key, value in report.extra:
        out.setdefault(key, value)  # free-form run metadata never overrides the above
    return out


def load_schema() -> dict[str, Any]:
    """The report JSON Schema (draft 2020-12), as a fresh copy the caller may change."""
    return copy.deepcopy(_schema())


@functools.cache
def _schema() -> dict[str, Any]:
    text = resources.files("auditor.report").joinpath("report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = _schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_report(text_or_obj: str | bytes | Mapping[str, object]) -> None:
    """Raise ReportInvalid unless the report (JSON text or parsed object) matches the schema."""
    document: Any = text_or_obj
    if isinstance(text_or_obj, (str, bytes)):
        try:
            document = json.loads(text_or_obj)
        except ValueError as exc:
            raise ReportInvalid(f"report is not valid JSON: {exc}") from exc
    error = best_match(_validator().iter_errors(document))
    if error is not None:
        raise ReportInvalid(f"report is invalid at {error.json_path}: {error.message}") from error
