"""The report for people, as GitHub-flavoured Markdown: changes since the baseline, summary
by status and severity, per-rule rollup, account results, the bucket x control matrix, each
distinct drift once (with every bucket it concerns), errors, waivers and passing evidence.

The raw text is read too (the README's cron recipe mails it), so values are not
backslash-escaped: anything that came from AWS or a spec reaches the page through one of
four doors, and Markdown acts on none of them.

- `text()` for prose (messages, reasons): words are written as they are; a word that could
  act as Markdown or HTML (a URL, a domain, `*`, `_`, `[`, `<`, `@`, a backtick ...) is put in
  a code span, where CommonMark and GitHub interpret nothing.
- `literal()` for a name shown as such (bucket, account, spec path): a code span.
- `code()` for a value shown as JSON: a code span.
- `fence()` for multi-line JSON and remediation commands: a fenced block.

A code span's content is shown literally, but a few things still break it: a backtick run
(the span is fenced by a longer run), a line break or a table pipe (shown as JSON escapes,
which is the JSON report's own spelling of the value), `<`/`>`/`&`, bidi and other invisible
characters (JSON escapes too, so a reader sees that something is there). No zero-width
characters are inserted anywhere: copying a value out of the page gives the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

from auditor.jsonable import JsonValue, to_jsonable
from auditor.model import Change, Report, Result, Scope, Status
from auditor.report import view
from auditor.report.view import Finding, group_identical, subject_of

K = TypeVar("K", bound=Hashable)

TITLE = "S3 drift report"

# Matrix cells are words, not emoji: readable in a terminal, a mail client and without an
# emoji font; DRIFT and ERROR stand out in capitals.
CELL = {Status.PASS: "pass", Status.DRIFT: "DRIFT", Status.ERROR: "ERROR", Status.WAIVED: "waived"}
NOT_CHECKED = "—"
# Compact JSON longer than this is shown as an indented block rather than inline code.
_INLINE_MAX = 80
# Values in the passing-checks table are cut to this many characters to keep it readable.
_CELL_MAX = 100
# Subjects listed inline before the rest go into a collapsed list.
_INLINE_SUBJECTS = 12
# With more buckets than this, those whose every check passed get their own collapsed matrix.
_MATRIX_SPLIT = 30

# --------------------------------------------------------------------------- the four doors

# Characters that reorder or hide text (bidi controls, "Trojan Source"), zero-width ones,
# and line/paragraph separators.
_INVISIBLE = frozenset(
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d"
    "\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
# A word made only of these (letters, digits and harmless punctuation) is plain text.
_PLAIN_WORD = re.compile(r"[^\W_]|[-'\"%,;:?!()/+=]")
# Punctuation that may trail a word in a sentence without making it a value: "Denied.".
_TRAILING = ".,;:!?)"
# Block markers that only act at the start of a line: list items, headings, quotes, rules.
_BLOCK_START = re.compile(r"^(?:[-+*>#=~|]|\d{1,9}[.)])")
_WHITESPACE = re.compile(r"\s+")


def text(value: str) -> str:
    """Prose on one line: plain words as they are, anything Markdown could act on in code."""
    words = [w for w in _WHITESPACE.split(value) if w]
    if not words:
        return ""
    out = [_word(w) for w in words]
    if _BLOCK_START.match(words[0]) and not out[0].startswith("`"):
        out[0] = literal(words[0])
    return " ".join(out)


def _word(word: str) -> str:
    core = word.lstrip("(")
    lead = word[: len(word) - len(core)]
    stripped = core.rstrip(_TRAILING)
    # Keep a closing parenthesis that belongs to the word, as in "f(x)".
    while stripped.count("(") > stripped.count(")") and core[len(stripped):].startswith(")"):
        stripped += ")"
    tail = core[len(stripped):]
    if not stripped:
        return word if _is_plain(word) else literal(word)
    if _is_plain(stripped):
        return word  # "(" before and sentence punctuation after a word are harmless
    return lead + literal(stripped) + tail


def _is_plain(word: str) -> bool:
    return "://" not in word and all(_PLAIN_WORD.fullmatch(c) for c in word)


def literal(value: str) -> str:
    """A name or value as an inline code span; unsafe characters as JSON string escapes."""
    if value == "":
        return "(empty)"
    if any(_breaks_a_span(c) for c in value) or "](" in value:
        return _span(_json_spelling(json.dumps(value, ensure_ascii=False)))
    return _span(value)


def code(value: object, max_len: int | None = None) -> str:
    """A value as an inline JSON code span, delimited so no backtick inside can close it."""
    text_ = json_text(value)
    if max_len is not None and len(text_) > max_len:
        text_ = text_[: max_len - 1] + "…"
    return _span(text_)


def json_text(value: object, multiline: bool = False) -> str:
    """JSON for a value, with every character that Markdown or HTML could act on \\u-escaped."""
    data = to_jsonable(value)
    return _json_spelling(_pretty(data, "") if multiline else _compact(data))


def fence(body: str, info: str = "") -> str:
    """A fenced code block longer than any backtick run inside, with controls made visible."""
    body = re.sub(r"\r\n?", "\n", body)
    body = "".join(_visible_control(c) for c in body)
    ticks = "`" * max(3, _longest_backtick_run(body) + 1)
    return f"{ticks}{info}\n{body}\n{ticks}"


def _span(content: str) -> str:
    ticks = "`" * (_longest_backtick_run(content) + 1)
    # CommonMark strips one space from each end when both ends have one; pad to survive that
    # and to keep a backtick at either end from joining the fence.
    pad = " " if content[:1] in ("`", " ") or content[-1:] in ("`", " ") else ""
    return f"{ticks}{pad}{content}{pad}{ticks}"


def _breaks_a_span(c: str) -> bool:
    return c in "<>&|" or c < " " or "\x7f" <= c <= "\x9f" or c in _INVISIBLE


def _json_spelling(text_: str) -> str:
    # These characters can only occur inside JSON strings, where \uXXXX is the same value
    # (json.dumps has already escaped line breaks there; a raw one is indentation).
    out = "".join(f"\\u{ord(c):04x}" if _breaks_a_span(c) and c != "\n" else c for c in text_)
    return out.replace("](", "]\\u0028")


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


def _visible_control(c: str) -> str:
    if c in "\n\t":
        return c
    if c < "\x20":
        return chr(0x2400 + ord(c))  # e.g. ESC: a raw report must not drive a terminal
    if c == "\x7f" or "\x80" <= c <= "\x9f" or c in _INVISIBLE:
        return "\ufffd"
    return c


def _longest_backtick_run(content: str) -> int:
    return max((len(run) for run in re.findall(r"`+", content)), default=0)


# --------------------------------------------------------------------------- rendering


def render(report: Report) -> str:
    """Render the report as GitHub-flavoured Markdown for people."""
    blocks = [f"# {TITLE}"]
    for section in SECTIONS:
        blocks.extend(section(report))
    return "\n\n".join(blocks) + "\n"


def _run(report: Report) -> list[str]:
    items = [
        ("Generated at", text(report.generated_at)),
        ("Tool", f"s3audit {_version(report.tool_version)}"),
        ("Accounts", ", ".join(literal(a) for a in report.accounts)),
        ("Spec files", ", ".join(literal(f) for f in report.spec_files)),
        ("Endpoint", literal(report.endpoint_url) if report.endpoint_url else ""),
        ("Duration", "" if report.duration_seconds is None else f"{report.duration_seconds:.1f} s"),
    ]
    items.extend((text(key), text(value)) for key, value in report.extra)
    return ["\n".join(f"- **{key}:** {value}" for key, value in items if value)]


def _version(version: str) -> str:
    return version if re.fullmatch(r"[0-9A-Za-z+-]+(\.[0-9A-Za-z+-]+)*", version) else literal(version)


def _summary(report: Report) -> list[str]:
    summary = report.summary
    counts = [("Buckets", summary.buckets), ("Pass", summary.passed),
              ("Drift", summary.drift), ("Error", summary.error), ("Waived", summary.waived)]
    verdict = "compliant" if summary.compliant else "**not compliant**"
    head = [name for name, _ in counts] + ["Verdict"]
    row = [str(n) for _, n in counts] + [verdict]
    blocks = ["## Summary", _table(head, [row], align=["---:"] * len(counts) + [":--"])]
    by_severity = [[s.value] + [str(n) for n in statuses.values()]
                   for s, statuses in view.severity_counts(report).items()
                   if any(statuses.values())]
    if by_severity:
        head = ["Severity"] + [status.value.capitalize() for status in view.FINDING_STATUSES]
        blocks += ["Findings by severity:",
                   _table(head, by_severity, align=[":--"] + ["---:"] * len(view.FINDING_STATUSES))]
    return blocks


def _by_rule(report: Report) -> list[str]:
    rows = [[text(row.rule_id), literal(row.control), row.severity.value]
            + [str(row.counts.get(status, 0)) for status in (*view.FINDING_STATUSES, Status.PASS)]
            for row in view.rollup(report)]
    if not rows:
        return []
    head = ["Rule", "Control", "Severity", "Drift", "Error", "Waived", "Pass"]
    return ["## By rule", _table(head, rows, align=[":--"] * 3 + ["---:"] * 4)]


def _accounts(report: Report) -> list[str]:
    blocks: list[str] = []
    for scope, title, column in ((Scope.ACCOUNT, "Accounts", "Account"),
                                 (Scope.PRINCIPAL, "Principals", "Role")):
        results = sorted(view.by_scope(report.results, scope), key=view.result_order)
        if not results:
            continue
        rows = [[literal(_scope_name(r)), literal(r.control), _status_word(r.status),
                 r.severity.value, text(r.message)] for r in results]
        blocks += [f"## {title}",
                   _table([column, "Control", "Status", "Severity", "Message"], rows)]
    return blocks


def _scope_name(r: Result) -> str:
    if view.scope_of(r) is Scope.PRINCIPAL:
        return r.principal or subject_of(r)
    return r.account or "(unknown)"


def _matrix(report: Report) -> list[str]:
    results = view.by_scope(report.results, Scope.BUCKET)
    if not results:
        return ["## Bucket × control", "No bucket controls were checked."]
    controls = view.ordered_controls(r.control for r in results)
    labels = view.short_labels(controls)
    cells: dict[tuple[str, str], list[Status]] = {}
    for r in results:
        cells.setdefault((subject_of(r), r.control), []).append(r.status)
    buckets = sorted({subject_of(r) for r in results})
    rows = {b: [literal(b)] + [_cell(view.worst_status(cells.get((b, c), []))) for c in controls]
            for b in buckets}
    failing = [b for b in buckets if any(s is not Status.PASS for c in controls
                                         for s in cells.get((b, c), []))]
    head = ["Bucket"] + [text(labels[c]) for c in controls]
    align = [":--"] + [":-:"] * len(controls)
    blocks = ["## Bucket × control", _legend(controls, labels)]
    if len(buckets) <= _MATRIX_SPLIT:
        return blocks + [_table(head, [rows[b] for b in buckets], align)]
    clean = [b for b in buckets if b not in failing]
    if failing:
        blocks += [f"Buckets with findings ({len(failing)}):",
                   _table(head, [rows[b] for b in failing], align)]
    if clean:
        blocks += [f"<details>\n<summary>Buckets whose every check passed ({len(clean)})</summary>",
                   _table(head, [rows[b] for b in clean], align), "</details>"]
    return blocks


def _legend(controls: Sequence[str], labels: dict[str, str]) -> str:
    columns = " · ".join(f"**{text(labels[c])}** {literal(c)}" for c in controls)
    return (f"Columns: {columns}\n\nCells: {' · '.join(_CELL_MEANING)} · {NOT_CHECKED} not checked")


_CELL_MEANING = (CELL[Status.PASS], CELL[Status.DRIFT], f"{CELL[Status.ERROR]} (could not be evaluated)",
                 f"{CELL[Status.WAIVED]} (drift accepted by a waiver)")


def _cell(status: Status | None) -> str:
    return NOT_CHECKED if status is None else CELL[status]


def _status_word(status: Status) -> str:
    return CELL[status]


def _drift(report: Report) -> list[str]:
    findings = group_identical(r for r in report.results if r.status is Status.DRIFT)
    blocks = ["## Drift, by rule"]
    if not findings:
        return blocks + ["No drift."]
    intro = (f"{len(findings)} distinct finding(s) over "
             f"{sum(len(f.results) for f in findings)} drifting check(s); "
             "buckets with the same drift share one section.")
    blocks.append(intro)
    for finding in findings:
        blocks.extend(_finding(finding))
    return blocks


def _finding(finding: Finding) -> list[str]:
    r = finding.first
    count = len(finding.results)
    heading = f"### {text(r.rule_id)} · {literal(r.control)} · {r.severity.value}"
    if count > 1:
        heading += f" · {count} {_noun(r, count)}"
    changes = _change_counts(finding)
    if changes:
        heading += f" · {changes}"
    blocks = [heading, text(r.message), _subjects_line(finding)]
    blocks.extend(_value("Expected", r.expected))
    blocks.extend(_value("Actual", r.actual))
    differences = _differences(r)
    if differences:
        blocks.extend(["**Differences**", differences])
    if r.frameworks:
        blocks.append(f"**Frameworks:** {text(view.frameworks_text(r))}")
    commands = finding.commands
    if commands:
        label = "**Remediation**" if count == 1 else "**Remediation** (one command per bucket)"
        blocks += [label, fence("\n".join(commands), "sh")]
    return blocks


def _change_counts(finding: Finding) -> str:
    """"new" / "persisting since X" for one result; "3 new, 5 persisting since X" for a group."""
    parts = []
    for change in (Change.NEW, Change.PERSISTING):
        members = [r for r in finding.results if r.change is change]
        if not members:
            continue
        count = f"{len(members)} " if len(finding.results) > 1 else ""
        seen = min((r.first_seen for r in members if r.first_seen), default=None)
        since = f" since {text(seen)}" if seen and change is Change.PERSISTING else ""
        parts.append(f"{count}{change.value}{since}")
    return ", ".join(parts)


def _noun(r: Result, count: int) -> str:
    scope = view.scope_of(r)
    word = {Scope.BUCKET: "bucket", Scope.ACCOUNT: "account", Scope.PRINCIPAL: "role"}[scope]
    return word if count == 1 else word + "s"


def _subjects_line(finding: Finding) -> str:
    r = finding.first
    if len(finding.results) == 1:
        return _where(r)
    names = [literal(s) for s in finding.subjects]
    sources = sorted({f"{x.source.file}:{x.source.line}" for x in finding.results if x.source})
    spec = f"\n\nSpec: {', '.join(literal(s) for s in sources[:3])}" if sources else ""
    if len(sources) > 3:
        spec += f" and {len(sources) - 3} more"
    label = f"**{_noun(r, 2).capitalize()} ({len(names)}):**"
    if len(names) <= _INLINE_SUBJECTS:
        return f"{label} {', '.join(names)}{spec}"
    return (f"{label} {', '.join(names[:_INLINE_SUBJECTS])} and {len(names) - _INLINE_SUBJECTS} "
            f"more\n\n<details>\n<summary>All {len(names)}</summary>\n\n{', '.join(names)}\n\n"
            f"</details>{spec}")


def _where(r: Result) -> str:
    parts = [f"{_noun(r, 1)} {literal(_scope_name(r) if view.scope_of(r) is not Scope.BUCKET else subject_of(r))}"]
    if view.scope_of(r) is not Scope.ACCOUNT and r.account:
        parts.append(f"account {literal(r.account)}")
    if r.region:
        parts.append(f"region {literal(r.region)}")
    if r.source is not None:
        parts.append(f"spec {literal(f'{r.source.file}:{r.source.line}')}")
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
        path = literal(d.path) if d.path else "(whole value)"
        lines.append(f"- {path}: {text(d.message)} (expected {code(d.expected)}, "
                     f"actual {code(d.actual)})")
    return "\n".join(lines)


def _errors(report: Report) -> list[str]:
    findings = group_identical(r for r in report.results if r.status is Status.ERROR)
    blocks = ["## Errors"]
    if not findings:
        return blocks + ["Every checked control could be evaluated."]
    rows = [[text(f.first.rule_id), literal(f.first.control), _subjects_cell(f),
             text(f.first.error.describe() if f.first.error else f.first.message)]
            for f in findings]
    return blocks + ["These controls could not be evaluated, so their state is unknown:",
                     _table(["Rule", "Control", "Where", "Why"], rows)]


def _subjects_cell(finding: Finding, limit: int = _INLINE_SUBJECTS) -> str:
    names = [literal(s) for s in finding.subjects]
    if len(names) <= limit:
        return ", ".join(names)
    return f"{len(names)}: {', '.join(names[:limit])} and {len(names) - limit} more"


def _passing(report: Report) -> list[str]:
    passed = [r for r in report.results if r.status is Status.PASS]
    if not passed:
        return []
    groups = sorted(_group_by(passed, lambda r: (view.control_index(r.control), r.control,
                                                  r.rule_id, json_text(r.actual))).items())
    rows = [[literal(rs[0].control), text(rs[0].rule_id), code(rs[0].actual, _CELL_MAX),
             _subjects_cell(Finding(tuple(sorted(rs, key=subject_of))), 10)]
            for _, rs in groups]
    blocks = [f"<details>\n<summary>Passing checks ({len(passed)})</summary>",
              _table(["Control", "Rule", "Actual", "Where"], rows)]
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
    blocks = ["## Changes since the baseline", f"Baseline: {literal(report.baseline)} · {counts}"]
    for name, items in groups:
        if not items:
            continue
        rows = [[literal(f.first.control), _status_word(f.first.status), f.first.severity.value,
                 _subjects_cell(f), text(min(r.first_seen or "" for r in f.results)),
                 text(f.first.message)]
                for f in group_identical(items)]
        blocks += [f"### {name}",
                   _table(["Control", "Status", "Severity", "Where", "First seen", "Message"], rows)]
    return blocks


def _waived(report: Report) -> list[str]:
    findings = group_identical(r for r in report.results if r.status is Status.WAIVED)
    blocks: list[str] = []
    if findings:
        rows = [[literal(f.first.control), _subjects_cell(f), text(w.reason), text(w.owner),
                 text(w.expires), text(w.ticket or ""), text(f.first.message)]
                for f in findings if (w := f.first.waiver) is not None]
        blocks += ["## Waived", "Drift accepted by an unexpired waiver; it does not fail the run.",
                   _table(["Control", "Where", "Reason", "Owner", "Expires", "Ticket", "Drift"], rows)]
    if report.unused_waivers:
        rows = [[literal(w.bucket), literal(w.control), text(w.expires), text(w.owner),
                 literal(f"{w.source.file}:{w.source.line}") if w.source else ""]
                for w in report.unused_waivers]
        blocks += ["## Unused waivers",
                   "These waivers matched no drift: remove them or fix their bucket/control.",
                   _table(["Bucket", "Control", "Expires", "Owner", "Spec"], rows)]
    return blocks


# The page, in order: changes first, as a nightly reader wants them.
SECTIONS: tuple[Callable[[Report], list[str]], ...] = (
    _run, _changes, _summary, _by_rule, _accounts, _matrix, _drift, _errors, _waived, _passing,
)


# --------------------------------------------------------------------------- helpers


def _table(head: list[str], rows: Iterable[list[str]], align: list[str] | None = None) -> str:
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join(align or ["---"] * len(head)) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _group_by(results: Iterable[Result], key: Callable[[Result], K]) -> dict[K, list[Result]]:
    groups: dict[K, list[Result]] = {}
    for r in results:
        groups.setdefault(key(r), []).append(r)
    return groups
