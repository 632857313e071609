"""What a person sees on stderr: the progress bar, the findings, the errors by cause, the verdict.

Rendering is pure (`summary_lines(report, ...) -> list[str]`), so it is tested without a
terminal; `print_summary` only writes the lines. The verdict is the last line, the findings
above it by severity, and past a screenful they are rolled up per rule. Identical error
causes (no credentials, an endpoint that does not answer, the same AccessDenied on 300
buckets) are one line each. Every value that came from AWS or a spec is escaped: no control
character reaches the terminal or a CI log, and no value can start a line (a log line that
starts with `::error::` is a GitHub Actions workflow command).
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import click

from auditor.causes import ACCOUNT_WIDE, Cause, cause, headline, hint
from auditor.model import AwsFailure, Change, Report, Result, Scope, Status

MESSAGE_LIMIT = 240  # characters of one message on the terminal; the reports have all of it
EXAMPLES = 3  # subjects named on a rolled-up line
# C0 and C1 controls, DEL, line/paragraph separators, bidi overrides and isolates
# ("Trojan Source"), zero-width characters: nothing that moves the cursor, ends a line,
# reorders text or hides in it.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]")


def escape(text: object, limit: int | None = MESSAGE_LIMIT) -> str:
    """Text safe to print on one line: control characters as \\xNN / \\uNNNN, long text cut."""
    out = _UNSAFE.sub(_escape_char, str(text))
    if limit is not None and len(out) > limit:
        out = out[: limit - 1] + "…"
    return out


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_line(text: str) -> str:
    """A whole line we print (our words around escaped values) that cannot be read as a
    workflow command: `::` at the start of a line is what CI runners act on."""
    line = escape(text, limit=None)
    return "\\" + line if line.startswith("::") else line


# --------------------------------------------------------------------------- findings


_STATUS_ORDER = {Status.DRIFT: 0, Status.PASS: 1}


def findings(report: Report) -> list[Result]:
    """What the terminal lists: drift, and fixes of a baseline's drift; worst first."""
    shown = [r for r in report.results
             if r.status is Status.DRIFT or (r.status is Status.PASS and r.change is Change.RESOLVED)]
    return sorted(shown, key=lambda r: (-r.severity.rank, _STATUS_ORDER[r.status], r.rule_id,
                                        r.subject))


def _label(r: Result) -> str:
    return "fixed" if r.status is Status.PASS else r.status.value


def finding_line(r: Result) -> str:
    change = f" [{r.change.value}]" if r.change is not None and r.status is not Status.PASS else ""
    return (f"  {_label(r):<6} {r.severity.value:<8} {escape(r.subject, 100)} {r.control}{change}: "
            f"{escape(r.message)}")


@dataclass(frozen=True, slots=True)
class _Group:
    label: str
    severity: str
    rule_id: str
    control: str
    scope: Scope


def rollup_lines(results: Sequence[Result]) -> list[str]:
    """One line per rule (and severity and status): how many, and a few of them by name."""
    groups: dict[_Group, list[Result]] = defaultdict(list)
    for r in results:  # already in severity order; dicts keep the first-seen order
        groups[_Group(_label(r), r.severity.value, r.rule_id, r.control, r.scope)].append(r)
    lines = []
    for g, members in groups.items():
        if len(members) == 1:
            lines.append(finding_line(members[0]))
            continue
        noun = {Scope.BUCKET: "buckets", Scope.ACCOUNT: "accounts"}.get(g.scope, "principals")
        names = ", ".join(escape(m.subject, 64) for m in members[:EXAMPLES])
        more = ", ..." if len(members) > EXAMPLES else ""
        new = sum(m.change is Change.NEW for m in members)
        tail = f" [{new} new]" if new and g.label != "fixed" else ""
        lines.append(f"  {g.label:<6} {g.severity:<8} {g.rule_id} {g.control}: {len(members)} {noun}, "
                     f"e.g. {names}{more}{tail}")
    return lines


# --------------------------------------------------------------------------- errors by cause


def _failure_of(r: Result) -> AwsFailure:
    return r.error or AwsFailure("(unknown)", "Error", r.message)


def error_causes(results: Iterable[Result]) -> list[tuple[Cause, list[Result]]]:
    """Error results grouped by cause: shared causes first, then the most frequent."""
    groups: dict[Cause, list[Result]] = defaultdict(list)
    for r in results:
        if r.status is Status.ERROR:
            groups[cause(_failure_of(r))].append(r)
    return sorted(groups.items(), key=lambda item: (item[0].kind not in ACCOUNT_WIDE, -len(item[1]),
                                                    item[0]))


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


_OTHER = {Scope.ACCOUNT: "account check", Scope.PRINCIPAL: "role check"}


def _extent(results: Sequence[Result]) -> str:
    """What a cause left unjudged: `18 controls on 5 buckets and 1 account check`."""
    on_buckets = [r for r in results if r.bucket is not None]
    buckets = sorted({r.bucket for r in on_buckets if r.bucket is not None})
    parts = []
    if on_buckets:
        where = escape(buckets[0], 64) if len(buckets) == 1 else _count(len(buckets), "bucket")
        parts.append(f"{_count(len(on_buckets), 'control')} on {where}")
        if len(buckets) == 1:
            parts[-1] += f" ({', '.join(sorted({r.control for r in on_buckets}))})"
    for scope, noun in _OTHER.items():
        n = sum(r.bucket is None and r.scope is scope for r in results)
        if n:
            parts.append(_count(n, noun))
    return " and ".join(parts) + " not evaluated"


def error_lines(report: Report) -> list[str]:
    """One line per distinct cause of the run's errors."""
    lines = []
    for c, results in error_causes(report.results):
        text = f"  error  {escape(headline(c))}; {_extent(results)}"
        advice = hint(c)
        if advice:
            text += f"; {advice}"
        lines.append(text)
    return lines


# --------------------------------------------------------------------------- the summary


def verdict_line(report: Report) -> str:
    s = report.summary
    if s.error:
        verdict = "INCOMPLETE (not everything could be read)"
    else:
        verdict = "compliant" if s.compliant else "NOT compliant"
    waived = f", {s.waived} waived" if s.waived else ""
    return (f"s3audit: {s.buckets} bucket(s), {s.passed} pass, {s.drift} drift, "
            f"{s.error} error{waived}: {verdict}")


def summary_lines(report: Report, written: Sequence[str] = (), failed: Sequence[str] = (),
                  height: int = 40, quiet: bool = False) -> list[str]:
    """Everything printed after a run, the verdict last; `height` is a screenful in lines.

    `written` are the report targets written, `failed` one message per target that was not.
    With `quiet`, only the errors (and targets not written) are listed.
    """
    errors = error_lines(report)
    not_written = [f"  not written: {escape(text, None)}" for text in failed]
    if quiet:
        return [safe_line(line) for line in (*errors, *not_written)]
    tail = [*errors,
            *(f"  unused waiver: {escape(w.bucket, 64)} {w.control} (expires {w.expires}, "
              f"owner {escape(w.owner, 64)})" for w in report.unused_waivers),
            *(f"  report: {escape(path, None)}" for path in written), *not_written,
            verdict_line(report)]
    shown = findings(report)
    lines = [finding_line(r) for r in shown]
    if len(lines) + len(tail) > height:
        lines = [f"  {len(shown)} findings, by rule (more than a screenful; each one is in the reports):",
                 *rollup_lines(shown)]
    return [safe_line(line) for line in (*lines, *tail)]


def print_summary(report: Report, written: Sequence[str] = (), failed: Sequence[str] = (),
                  quiet: bool = False) -> None:
    """Write the summary to stderr; a screenful is the terminal's height (40 lines in a log)."""
    import shutil

    height = shutil.get_terminal_size((100, 40)).lines if sys.stderr.isatty() else 40
    for line in summary_lines(report, written, failed, max(10, height - 1), quiet):
        click.echo(line, err=True)


class Progress:
    """A click progress bar on stderr, created once the number of buckets is known."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="auditing buckets", file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(1)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
