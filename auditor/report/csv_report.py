"""CSV: `Report -> str`, one row per result under a header row, for spreadsheets and BI tools.

RFC 4180: comma-separated, CRLF line ends, a field with a comma, quote or line break quoted
and its quotes doubled (the csv module's minimal quoting does exactly that). Structured values
(expected, actual, differences) are JSON in their cell.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and, per OWASP's CSV
injection guidance, a tab or carriage return) as a formula, so a bucket tag or origin such as
`=HYPERLINK(...)` could act on the reader's machine. Such a cell is prefixed with a single
quote, which spreadsheets display as text and hide; a program reading the file can strip it
(the test's round trip does).
"""

from __future__ import annotations

import csv
import io
import json

from auditor.jsonable import to_jsonable
from auditor.model import Report, Result

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLUMNS: tuple[str, ...] = (
    "scope", "account", "region", "bucket", "principal", "control", "rule_id", "status",
    "severity", "change", "first_seen", "message", "expected", "actual", "differences",
    "remediation", "spec_file", "spec_line", "frameworks", "waiver_reason", "waiver_owner",
    "waiver_expires", "waiver_ticket", "error_api", "error_code",
)


def render(report: Report) -> str:
    """Render every result as a CSV row (header first, CRLF line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows([safe_cell(cell) for cell in row(result)] for result in report.results)
    return out.getvalue()


def row(result: Result) -> list[str]:
    """The cells of one result, in COLUMNS order, before formula neutralising."""
    waiver, error, source = result.waiver, result.error, result.source
    return [
        result.scope.value, result.account or "", result.region or "", result.bucket or "",
        result.principal or "", result.control, result.rule_id, result.status.value,
        result.severity.value, result.change.value if result.change else "",
        result.first_seen or "", result.message, _json(result.expected), _json(result.actual),
        _json(result.differences) if result.differences else "", result.remediation or "",
        source.file if source else "", str(source.line) if source else "",
        "; ".join(f"{name}:{','.join(ids)}" for name, ids in result.frameworks),
        waiver.reason if waiver else "", waiver.owner if waiver else "",
        waiver.expires if waiver else "", (waiver.ticket or "") if waiver else "",
        error.api if error else "", error.code if error else "",
    ]


def safe_cell(value: str) -> str:
    """The cell prefixed with ' when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _json(value: object) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))
