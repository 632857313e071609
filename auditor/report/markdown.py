"""The report for people: run metadata, summary, bucket × control matrix, drifts, errors
and the passing checks as evidence.

Every value that came from AWS or a spec reaches the page through one of three doors:
`escape()` for prose, headings and table cells; `code()` for a value shown inline as
JSON; `fence()` for multi-line JSON and remediation commands. A hostile bucket name, tag,
origin or message therefore cannot break a table row, close a code block or inject HTML,
links, images or mentions. Only the renderer's own fixed text is written unescaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable

from auditor.controls import keys
from auditor.jsonable import JsonValue, to_jsonable
from auditor.model import Change, Report, Result, Status

CONTROLS = keys()

TITLE = "S3 drift report"

CELL = {"pass": "✅", "drift": "❌", "error": "⚠️", "waived": "🔕"}
NOT_CHECKED = "—"
# If a bucket ever has two results for one control, its cell shows the worst one.
_CELL_RANK = {"pass": 0, "waived": 1, "drift": 2, "error": 3}
# Compact JSON longer than this is shown as an indented block rather than inline code.
_INLINE_MAX = 80
# Values in the passing-checks table are cut to this many characters to keep it readable.
_CELL_MAX = 100

# --------------------------------------------------------------------------- escaping

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
# ASCII punctuation that opens inline syntax anywhere in a line: code spans, emphasis,
# links and images, tables, GFM strikethrough, GitHub math, headings. CommonMark lets any
# ASCII punctuation be backslash-escaped; the HTML characters get entities instead, since
# a backslash before `&` would stop the entity from being decoded.
_MARKDOWN = "\\`*_[]()#!|~$"
# Characters that reorder or hide text (bidi controls, "Trojan Source") or end a line in
# some viewers; shown as U+FFFD so the reader sees that something was there.
_INVISIBLE = "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _text_table() -> dict[int, str]:
    table = {ord(c): v for c, v in _HTML.items()}
    table.update({ord(c): "\\" + c for c in _MARKDOWN})
    # C0 controls (newline included) become their visible Control Pictures, so a table
    # cell or heading stays on one line and the reader still sees where the break was.
    table.update({c: chr(0x2400 + c) for c in range(0x20)})
    table[0x7F] = "\u2421"
    table.update({c: "\ufffd" for c in range(0x80, 0xA0)})
    table.update({ord(c): "\ufffd" for c in _INVISIBLE})
    # A zero-width space after "@" stops GitHub @mentions (found in the rendered text).
    table[ord("@")] = "@\u200b"
    return table


_TEXT_TABLE = _text_table()
_ORDERED_LIST = re.compile(r"^(\d{1,9})\.")
# Autolinks: GFM links "scheme://" and "www." text, linkify-it (VS Code's preview and other
# markdown-it viewers) also bare domains and e-mail addresses. A zero-width space splits
# "://", and an escaped dot inside a word ("evil\.com") splits every domain name.
_URL_SCHEME = re.compile(r"(?<=:)(?=//)")
_DOMAIN_DOT = re.compile(r"(?<=\w)\.(?=\w)")


def escape(text: str) -> str:
    """Make an untrusted string safe as single-line Markdown text (prose, heading, table cell)."""
    out = text.translate(_TEXT_TABLE)
    # List, heading-underline and ordered-list markers only act at the start of a line,
    # and a value may be placed there.
    if out[:1] in ("-", "+", "="):
        out = "\\" + out
    out = _ORDERED_LIST.sub(r"\1\\.", out)
    out = _URL_SCHEME.sub("\u200b", out)
    return _DOMAIN_DOT.sub(r"\\.", out)


def json_text(value: object, multiline: bool = False) -> str:
    """JSON for a value, with every character that Markdown or HTML could act on \\u-escaped."""
    data = to_jsonable(value)
    text = _pretty(data, "") if multiline else _compact(data)
    # These characters can only occur inside JSON strings, where \uXXXX is the same value.
    return "".join(f"\\u{ord(c):04x}" if _json_unsafe(c) else c for c in text)


def _compact(data: JsonValue) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))


def _pretty(data: JsonValue, indent: str) -> str:
    # Like indent=2, but a list or object that fits on a line stays on it, so a lifecycle
    # transition reads as one line, as it would in the spec YAML.
    flat = _compact(data)
    if len(indent) + len(flat) <= _INLINE_MAX or not isinstance(data, (list, dict)) or not data:
        return flat
    inner = indent + "  "
    if isinstance(data, list):
        items = [inner + _pretty(item, inner) for item in data]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    pairs = [f"{inner}{_compact(key)}: {_pretty(item, inner)}" for key, item in data.items()]
    return "{\n" + ",\n".join(pairs) + "\n" + indent + "}"


def _json_unsafe(c: str) -> bool:
    # HTML, table pipes and parentheses (no "](" link tail even for viewers that linkify
    # inside code), invisible and C1 control characters.
    return c in "<>&|()" or "\x7f" <= c <= "\x9f" or c in _INVISIBLE


def code(value: object, max_len: int | None = None) -> str:
    """A value as an inline JSON code span, delimited so no backtick inside can close it."""
    text = json_text(value)
    if max_len is not None and len(text) > max_len:
        text = text[: max_len - 1] + "…"
    ticks = "`" * (_longest_backtick_run(text) + 1)
    return f"{ticks}{text}{ticks}"  # JSON never starts or ends with a backtick


def fence(text: str, info: str = "") -> str:
    """A fenced code block longer than any backtick run inside, with controls made visible."""
    body = re.sub(r"\r\n?", "\n", text)
    body = "".join(_visible_control(c) for c in body)
    ticks = "`" * max(3, _longest_backtick_run(body) + 1)
    return f"{ticks}{info}\n{body}\n{ticks}"


def _visible_control(c: str) -> str:
    if c in "\n\t":
        return c
    if c < "\x20":
        return chr(0x2400 + ord(c))  # e.g. ESC: a raw report must not drive a terminal
    if c == "\x7f" or "\x80" <= c <= "\x9f" or c in _INVISIBLE:
        return "\ufffd"
    return c


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


# --------------------------------------------------------------------------- rendering


def render(report: Report) -> str:
    """Render the report as GitHub-flavoured Markdown for people."""
    blocks = [f"# {TITLE}"]
    for section in SECTIONS:
        blocks.extend(section(report))
    return "\n\n".join(blocks) + "\n"


def _run(report: Report) -> list[str]:
    items = [
        ("Generated at", escape(report.generated_at)),
        ("Tool", f"s3audit {escape(report.tool_version)}"),
        ("Accounts", ", ".join(escape(a) for a in report.accounts)),
        ("Spec files", ", ".join(escape(f) for f in report.spec_files)),
        ("Endpoint", escape(report.endpoint_url or "")),
        ("Duration", "" if report.duration_seconds is None else f"{report.duration_seconds:.1f} s"),
    ]
    items.extend((escape(key), escape(value)) for key, value in report.extra)
    return ["\n".join(f"- **{key}:** {value}" for key, value in items if value)]


def _summary(report: Report) -> list[str]:
    summary = report.summary
    counts = [("Buckets", summary.buckets), ("Pass", summary.passed),
              ("Drift", summary.drift), ("Error", summary.error)]
    counts.append(("Waived", summary.waived))
    verdict = "✅ compliant" if summary.compliant else "❌ not compliant"
    head = [name for name, _ in counts] + ["Verdict"]
    row = [str(n) for _, n in counts] + [verdict]
    return ["## Summary", _table(head, [row], align=["---:"] * len(counts) + [":--"])]


def _matrix(report: Report) -> list[str]:
    if not report.results:
        return ["## Bucket × control", "No controls were checked."]
    controls = _ordered_controls({r.control for r in report.results})
    cells: dict[tuple[str, str], str] = {}
    for r in report.results:
        key = (r.subject, r.control)
        if key not in cells or _CELL_RANK.get(r.status, 9) > _CELL_RANK.get(cells[key], 9):
            cells[key] = str(r.status.value)
    rows = [
        [escape(bucket)] + [_cell(cells.get((bucket, c))) for c in controls]
        for bucket in sorted({r.subject for r in report.results})
    ]
    head = ["Bucket"] + [escape(c) for c in controls]
    table = _table(head, rows, align=[":--"] + [":-:"] * len(controls))
    return ["## Bucket × control", table, _legend(set(cells.values()))]


def _legend(present: set[str]) -> str:
    shown = [s for s in CELL if s in ("pass", "drift", "error") or s in present]
    return " · ".join([f"{CELL[s]} {s}" for s in shown] + [f"{NOT_CHECKED} not checked"])


def _cell(status: str | None) -> str:
    if status is None:
        return NOT_CHECKED
    return CELL.get(status, escape(status))


def _drift(report: Report) -> list[str]:
    drifts = [r for r in report.results if r.status is Status.DRIFT]
    blocks = ["## Drift"]
    if not drifts:
        return blocks + ["No drift."]
    for bucket, results in _by_bucket(drifts):
        blocks.append(f"### {escape(bucket)}")
        for r in sorted(results, key=_drift_order):
            blocks.extend(_drift_item(r))
    return blocks


def _drift_item(r: Result) -> list[str]:
    heading = f"#### {escape(r.rule_id)} · {escape(r.control)} · {r.severity.value}"
    if r.change is not None:
        since = f" since {escape(r.first_seen)}" if r.first_seen and r.change is Change.PERSISTING else ""
        heading += f" · {r.change.value}{since}"
    blocks = [text for text in (heading, escape(r.message), _where(r)) if text]
    blocks.extend(_value("Expected", r.expected))
    blocks.extend(_value("Actual", r.actual))
    differences = _differences(r)
    if differences:
        blocks.extend(["**Differences**", differences])
    commands = _remediations(r)
    if commands:
        blocks.append("**Remediation**")
        blocks.extend(fence(command, "sh") for command in commands)
    return blocks


def _where(r: Result) -> str:
    parts = [f"{label} {escape(value)}" for label, value in
             (("account", r.account), ("region", r.region)) if value]
    if r.source is not None:
        parts.append(f"spec {escape(r.source.file)}:{r.source.line}")
    return " · ".join(parts)


def _value(label: str, value: object) -> list[str]:
    inline = json_text(value)
    if len(inline) <= _INLINE_MAX:
        return [f"**{label}:** {code(value)}"]
    return [f"**{label}:**", fence(json_text(value, multiline=True), "json")]


def _differences(r: Result) -> str:
    # A single whole-value difference only restates the result's expected and actual.
    if len(r.differences) == 1 and not r.differences[0].path:
        return ""
    lines = []
    for d in r.differences:
        path = f"<code>{escape(d.path)}</code>" if d.path else "(whole value)"
        lines.append(f"- {path}: {escape(d.message)} (expected {code(d.expected)}, "
                     f"actual {code(d.actual)})")
    return "\n".join(lines)


def _remediations(r: Result) -> list[str]:
    commands = [r.remediation] + [d.remediation for d in r.differences]
    return list(dict.fromkeys(c for c in commands if c))  # in order, without repeats


def _errors(report: Report) -> list[str]:
    errors = [r for r in report.results if r.status is Status.ERROR]
    blocks = ["## Errors"]
    if not errors:
        return blocks + ["Every checked control could be evaluated."]
    rows = [[escape(r.subject), escape(r.control), escape(r.rule_id), escape(r.message)]
            for _, results in _by_bucket(errors) for r in sorted(results, key=_control_order)]
    return blocks + ["These controls could not be evaluated, so their state is unknown:",
                     _table(["Bucket", "Control", "Rule", "Why"], rows)]


def _passing(report: Report) -> list[str]:
    passed = [r for r in report.results if r.status is Status.PASS]
    if not passed:
        return []
    rows = [[escape(r.subject), escape(r.control), escape(r.rule_id), code(r.actual, _CELL_MAX)]
            for _, results in _by_bucket(passed) for r in sorted(results, key=_control_order)]
    blocks = [f"<details>\n<summary>Passing checks ({len(passed)})</summary>",
              _table(["Bucket", "Control", "Rule", "Actual"], rows)]
    if any(len(json_text(r.actual)) > _CELL_MAX for r in passed):
        blocks.append("Long values are shortened here; the JSON report has them in full.")
    return blocks + ["</details>"]


def _changes(report: Report) -> list[str]:
    """What changed since the baseline run: the first thing a nightly reader wants."""
    if report.baseline is None:
        return []
    groups = [
        ("New", [r for r in report.results if r.change is Change.NEW]),
        ("Resolved", [r for r in report.results if r.change is Change.RESOLVED]),
        ("Persisting", [r for r in report.results if r.change is Change.PERSISTING]),
    ]
    counts = ", ".join(f"{len(items)} {name.lower()}" for name, items in groups)
    blocks = ["## Changes since the baseline", f"Baseline: {escape(report.baseline)} · {counts}"]
    for name, items in groups:
        if not items:
            continue
        rows = [[escape(r.subject), escape(r.control), escape(r.status.value), r.severity.value,
                 escape(r.first_seen or ""), escape(r.message)]
                for r in sorted(items, key=lambda r: (r.bucket, _control_order(r)))]
        blocks += [f"### {name}", _table(["Bucket", "Control", "Status", "Severity", "First seen", "Message"], rows)]
    return blocks


def _waived(report: Report) -> list[str]:
    waived = [r for r in report.results if r.status is Status.WAIVED]
    blocks: list[str] = []
    if waived:
        rows = [[escape(r.subject), escape(r.control), escape(w.reason), escape(w.owner),
                 escape(w.expires), escape(w.ticket or ""), escape(r.message)]
                for r in sorted(waived, key=lambda r: (r.bucket, _control_order(r)))
                if (w := r.waiver) is not None]
        blocks += ["## Waived", "Drift accepted by an unexpired waiver; it does not fail the run.",
                   _table(["Bucket", "Control", "Reason", "Owner", "Expires", "Ticket", "Drift"], rows)]
    if report.unused_waivers:
        rows = [[escape(w.bucket), escape(w.control), escape(w.expires), escape(w.owner),
                 escape(f"{w.source.file}:{w.source.line}" if w.source else "")]
                for w in report.unused_waivers]
        blocks += ["## Unused waivers", "These waivers matched no drift: remove them or fix their bucket/control.",
                   _table(["Bucket", "Control", "Expires", "Owner", "Spec"], rows)]
    return blocks


# The page, in order: changes first, as a nightly reader wants them.
SECTIONS: tuple[Callable[[Report], list[str]], ...] = (
    _run, _changes, _summary, _matrix, _drift, _errors, _waived, _passing,
)


# --------------------------------------------------------------------------- helpers


def _table(head: list[str], rows: Iterable[list[str]], align: list[str] | None = None) -> str:
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join(align or ["---"] * len(head)) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _ordered_controls(controls: set[str]) -> list[str]:
    known = [c for c in CONTROLS if c in controls]
    return known + sorted(controls - set(CONTROLS))


def _control_order(r: Result) -> tuple[int, str, str]:
    index = CONTROLS.index(r.control) if r.control in CONTROLS else len(CONTROLS)
    return (index, r.control, r.rule_id)


def _drift_order(r: Result) -> tuple[int, tuple[int, str, str]]:
    return (-r.severity.rank, _control_order(r))


def _by_bucket(results: list[Result]) -> list[tuple[str, list[Result]]]:
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.subject, []).append(r)
    return sorted(groups.items())
