"""The report for people, as one self-contained HTML page: `Report -> str`.

Inline CSS, inline script and inline SVG only; system fonts; no URL the browser would fetch.
A Content-Security-Policy with the hashes of the page's own style and script (and nothing
else allowed: no connections, images, fonts, frames or forms) makes that a property the
browser enforces: even a value that slipped through escaping could neither run nor load.

Every value that came from AWS or a spec goes through `h()` (html.escape, quotes included)
into text or an attribute; the script reads data-* attributes and a JSON block whose `<` are
escaped, and writes only textContent and classes. Statuses are words and shapes, never emoji.

Standard library only. A template engine (jinja2) would give auto-escaping, but the page is
mostly tables built in loops, which read as plainly in Python, and the contract keeps the
runtime dependencies to boto3, pyyaml, jsonschema and click.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from functools import cache
from html import escape
from importlib import resources

from auditor.jsonable import to_jsonable
from auditor.model import Change, Report, Result, Scope, Severity, Status
from auditor.report import view
from auditor.report.chart import trend_svg
from auditor.report.view import Finding, group_identical, subject_of

TITLE = "S3 drift report"
CELL = {Status.PASS: "ok", Status.DRIFT: "DRIFT", Status.ERROR: "ERROR", Status.WAIVED: "waived"}
STATUSES: tuple[Status, ...] = (Status.DRIFT, Status.ERROR, Status.WAIVED, Status.PASS)
NOT_CHECKED = "·"
# Subjects listed in a finding's summary line before "and N more".
_SUMMARY_SUBJECTS = 3


def h(value: object) -> str:
    """Escape any value for HTML text or a double-quoted attribute."""
    return escape(str(value), quote=True)


def render(report: Report) -> str:
    """Render the report as a self-contained HTML page."""
    css, js = _asset("report.css"), _asset("report.js")
    body = "\n".join(_sections(report))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{h(_policy(css, js))}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{h(TITLE)} · {h(report.generated_at)}</title>\n"
        f"<style>{css}</style>\n</head>\n<body>\n{body}\n"
        f'<script type="application/json" id="s3audit-data">{embedded_json(_page_data(report))}</script>\n'
        f"<script>{js}</script>\n</body>\n</html>\n"
    )


@cache
def _asset(name: str) -> str:
    return resources.files("auditor.report").joinpath("assets", name).read_text("utf-8")


def _policy(css: str, js: str) -> str:
    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    return (f"default-src 'none'; style-src 'sha256-{digest(css)}'; "
            f"script-src 'sha256-{digest(js)}'; img-src 'none'; connect-src 'none'; "
            "font-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'")


def embedded_json(data: object) -> str:
    """JSON safe inside <script>: no "</script", no "<!--", whatever the values hold."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _page_data(report: Report) -> dict[str, object]:
    s = report.summary
    return {
        "summary": {"buckets": s.buckets, "pass": s.passed, "drift": s.drift, "error": s.error,
                    "waived": s.waived, "compliant": s.compliant},
        "controls": view.ordered_controls(r.control for r in report.results),
        "trend": [to_jsonable(p) for p in report.trend],
    }


# --------------------------------------------------------------------------- sections


def _header(report: Report) -> str:
    items = [("Generated at", report.generated_at), ("Tool", f"s3audit {report.tool_version}"),
             ("Accounts", ", ".join(report.accounts)), ("Spec files", ", ".join(report.spec_files)),
             ("Endpoint", report.endpoint_url or ""), ("Baseline", report.baseline or ""),
             ("Duration", "" if report.duration_seconds is None else f"{report.duration_seconds:.1f} s"),
             *report.extra]
    rows = "".join(f"<dt>{h(k)}</dt><dd>{h(v)}</dd>" for k, v in items if v)
    return f'<header>\n<h1>{h(TITLE)}</h1>\n<dl class="meta">{rows}</dl>\n</header>'


def _summary(report: Report) -> str:
    s = report.summary
    cards = [("buckets", "Buckets", s.buckets), ("pass", "Pass", s.passed), ("drift", "Drift", s.drift),
             ("error", "Error", s.error), ("waived", "Waived", s.waived)]
    html_cards = "".join(f'<div class="card {key}"><span class="label">{label}</span>'
                         f'<span class="count" id="count-{key}">{n}</span></div>' for key, label, n in cards)
    verdict = ('<span class="verdict good" id="verdict">compliant</span>' if s.compliant
               else '<span class="verdict bad" id="verdict">not compliant</span>')
    rows = "".join(
        f'<tr><th scope="row">{_severity(sev)}</th>'
        + "".join(f'<td class="num" id="sev-{sev.value}-{st.value}">{n}</td>' for st, n in counts.items())
        + "</tr>"
        for sev, counts in view.severity_counts(report).items())
    head = "".join(f'<th class="num">{h(st.value)}</th>' for st in view.FINDING_STATUSES)
    return (f'<section id="summary">\n<h2>Summary</h2>\n<p>{verdict}</p>\n<div class="cards">{html_cards}</div>\n'
            f"<h3>Findings by severity</h3>\n<table><thead><tr><th>severity</th>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table>\n</section>")


def _trend(report: Report) -> str:
    if not report.trend:
        return ""
    rows = "".join(f"<tr><td>{h(p.generated_at)}</td><td class=\"num\">{p.drift}</td>"
                   f"<td class=\"num\">{p.error}</td><td class=\"num\">{p.waived}</td>"
                   f"<td class=\"num\">{p.passed}</td></tr>" for p in report.trend)
    return (f'<section id="trend" class="trend">\n<h2>Trend over the last {len(report.trend)} run(s)</h2>\n'
            f"{trend_svg(report.trend)}\n<details><summary>The numbers</summary>\n"
            "<table><thead><tr><th>run</th><th class=\"num\">drift</th><th class=\"num\">error</th>"
            f"<th class=\"num\">waived</th><th class=\"num\">pass</th></tr></thead><tbody>{rows}</tbody></table>"
            "\n</details>\n</section>")


def _changes(report: Report) -> str:
    if report.baseline is None:
        return ""
    groups = [(change, [r for r in report.results if r.change is change])
              for change in (Change.NEW, Change.RESOLVED, Change.PERSISTING)]
    counts = ", ".join(f'<span id="change-{c.value}">{len(rs)}</span> {c.value}' for c, rs in groups)
    rows = "".join(
        f"<tr><td>{h(c.value)}</td><td><code>{h(f.first.control)}</code></td><td>{_status(f.first.status)}</td>"
        f"<td>{_severity(f.first.severity)}</td><td>{_subjects_inline(f)}</td><td>{h(f.first.message)}</td></tr>"
        for c, rs in groups for f in group_identical(rs))
    table = ("<table><thead><tr><th>change</th><th>control</th><th>status</th><th>severity</th><th>where</th>"
             f"<th>message</th></tr></thead><tbody>{rows}</tbody></table>") if rows else ""
    return (f'<section id="changes">\n<h2>Changes since the baseline</h2>\n'
            f'<p>Baseline <code>{h(report.baseline)}</code>: {counts}.</p>\n{table}\n</section>')


def _filters(report: Report) -> str:
    if not report.results:
        return ""
    severities = "".join(f'<label><input type="checkbox" name="severity" value="{s.value}" checked> {s.value}</label>'
                         for s in reversed(Severity))
    statuses = "".join(f'<label><input type="checkbox" name="status" value="{s.value}" checked> {s.value}</label>'
                       for s in STATUSES)
    return ('<form class="filters" id="filters" role="search">\n'
            f"<fieldset><legend>Severity</legend>{severities}</fieldset>\n"
            f"<fieldset><legend>Status</legend>{statuses}</fieldset>\n"
            '<label>Control <select name="control"><option value="">all</option></select></label>\n'
            '<label>Bucket <input type="search" name="q" placeholder="name contains"></label>\n'
            '<button type="reset">Reset</button> <output id="shown"></output>\n</form>')


def _rollup(report: Report) -> str:
    rows = []
    for row in view.rollup(report):
        cells = "".join(f'<td class="num">{row.counts.get(st, 0)}</td>' for st in STATUSES)
        rows.append(f'<tr data-filter data-control="{h(row.control)}" data-severity="{row.severity.value}">'
                    f"<td>{h(row.rule_id)}</td><td><code>{h(row.control)}</code></td>"
                    f"<td>{_severity(row.severity)}</td>{cells}</tr>")
    if not rows:
        return ""
    head = "".join(f'<th class="num">{h(st.value)}</th>' for st in STATUSES)
    return (f'<section id="rules">\n<h2>By rule</h2>\n<table><thead><tr><th>rule</th><th>control</th>'
            f"<th>severity</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>\n</section>")


def _scoped(report: Report) -> str:
    blocks = []
    for scope, title, column in ((Scope.ACCOUNT, "Accounts", "account"), (Scope.PRINCIPAL, "Principals", "role")):
        results = sorted(view.by_scope(report.results, scope), key=view.result_order)
        if not results:
            continue
        rows = "".join(
            f'<tr data-filter data-status="{r.status.value}" data-control="{h(r.control)}" '
            f'data-severity="{r.severity.value}" data-subjects="{h(_name(r))}">'
            f"<td><code>{h(_name(r))}</code></td><td><code>{h(r.control)}</code></td><td>{_status(r.status)}</td>"
            f"<td>{_severity(r.severity)}</td><td>{h(r.message)}</td></tr>" for r in results)
        blocks.append(f'<section id="{title.lower()}">\n<h2>{title}</h2>\n<table><thead><tr><th>{column}</th>'
                      "<th>control</th><th>status</th><th>severity</th><th>message</th></tr></thead>"
                      f"<tbody>{rows}</tbody></table>\n</section>")
    return "\n".join(blocks)


def _name(r: Result) -> str:
    if view.scope_of(r) is Scope.PRINCIPAL:
        return r.principal or subject_of(r)
    if view.scope_of(r) is Scope.ACCOUNT:
        return r.account or "(unknown)"
    return subject_of(r)


def _matrix(report: Report, anchors: dict[str, str]) -> str:
    results = view.by_scope(report.results, Scope.BUCKET)
    if not results:
        return ""
    controls = view.ordered_controls(r.control for r in results)
    labels = view.short_labels(controls)
    cells: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        cells.setdefault((subject_of(r), r.control), []).append(r)
    head = "".join(f'<th scope="col" data-c="{h(c)}"><abbr title="{h(c)}">{h(labels[c])}</abbr></th>'
                   for c in controls)
    body = []
    for bucket in sorted({subject_of(r) for r in results}):
        tds = "".join(_matrix_cell(cells.get((bucket, c), []), c, anchors) for c in controls)
        body.append(f'<tr data-bucket="{h(bucket)}"><th scope="row"><code>{h(bucket)}</code></th>{tds}</tr>')
    legend = "".join(f'<span><span class="badge st-{s.value}">{CELL[s]}</span> {s.value}</span>' for s in STATUSES)
    legend += f'<span><span class="badge st-none">{NOT_CHECKED}</span> not checked</span>'
    columns = " · ".join(f"<abbr title=\"{h(c)}\">{h(labels[c])}</abbr> = <code>{h(c)}</code>" for c in controls)
    return (f'<section id="matrix">\n<h2>Bucket × control</h2>\n<div class="legend">{legend}</div>\n'
            f'<p class="muted">{columns}</p>\n<div class="matrix-wrap"><table class="matrix">'
            f'<thead><tr><th scope="col">bucket</th>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            "</table></div>\n</section>")


def _matrix_cell(results: list[Result], control: str, anchors: dict[str, str]) -> str:
    status = view.worst_status(r.status for r in results)
    if status is None:
        return f'<td class="st-none" data-c="{h(control)}">{NOT_CHECKED}</td>'
    worst = next(r for r in results if r.status is status)
    title = f"{control}: {status.value} ({worst.severity.value})"
    label = CELL[status]
    anchor = anchors.get(worst.key)
    inner = f'<a href="#{anchor}">{label}</a>' if anchor else label
    return (f'<td class="st-{status.value}" data-c="{h(control)}" data-s="{status.value}" '
            f'data-v="{worst.severity.value}" title="{h(title)}">{inner}</td>')


def _findings(title: str, section_id: str, status: Status, report: Report,
              anchors: dict[str, str], empty: str) -> str:
    findings = [f for f in group_identical(r for r in report.results if r.status is status)]
    if not findings:
        return f'<section id="{section_id}">\n<h2>{title}</h2>\n<p>{h(empty)}</p>\n</section>'
    blocks = [_finding(f, anchors[f.first.key]) for f in findings]
    return f'<section id="{section_id}">\n<h2>{title}</h2>\n' + "\n".join(blocks) + "\n</section>"


def _finding(finding: Finding, anchor: str) -> str:
    r = finding.first
    count = len(finding.results)
    noun = _noun(r, count)
    summary = (f"{h(r.rule_id)} · <code>{h(r.control)}</code> · {_severity(r.severity)} "
               f'<span class="count">· {count} {noun}: {_subjects_inline(finding)}</span>')
    parts = [f"<p>{h(r.message)}</p>"]
    if r.status is Status.ERROR and r.error is not None:
        parts.append(f"<p>Failed read: <code>{h(r.error.describe())}</code></p>")
    parts.append(_where(finding))
    if r.status is not Status.ERROR:
        parts.append(f"<h4>Expected</h4>{_pre(r.expected)}<h4>Actual</h4>{_pre(r.actual)}")
    if r.differences and not (len(r.differences) == 1 and not r.differences[0].path):
        items = "".join(f"<li><code>{h(d.path or '(whole value)')}</code>: {h(d.message)}</li>" for d in r.differences)
        parts.append(f"<h4>Differences</h4><ul>{items}</ul>")
    if r.waiver is not None:
        w = r.waiver
        parts.append(f"<p>Waived until {h(w.expires)} by {h(w.owner)}: {h(w.reason)}"
                     f"{' (' + h(w.ticket) + ')' if w.ticket else ''}</p>")
    if r.frameworks:
        parts.append(f"<p>Frameworks: {h(view.frameworks_text(r))}</p>")
    commands = finding.commands
    if commands:
        label = "Remediation" if count == 1 else "Remediation (one command per bucket)"
        parts.append(f'<h4>{label}</h4><pre class="remediation">{h(chr(10).join(commands))}</pre>')
    subjects = " ".join(finding.subjects)
    return (f'<details class="finding sev-{r.severity.value}-b" id="{anchor}" data-filter '
            f'data-status="{r.status.value}" data-control="{h(r.control)}" data-severity="{r.severity.value}" '
            f'data-count="{count}" data-subjects="{h(subjects)}">\n<summary>{summary}</summary>\n'
            + "\n".join(parts) + "\n</details>")


def _where(finding: Finding) -> str:
    items = []
    for r in finding.results:
        extra = [x for x in (r.account if view.scope_of(r) is Scope.BUCKET else None, r.region,
                             f"{r.source.file}:{r.source.line}" if r.source else None,
                             r.change.value if r.change else None,
                             f"since {r.first_seen}" if r.first_seen and r.change is Change.PERSISTING else None) if x]
        detail = f' <span class="muted">{h(" · ".join(extra))}</span>' if extra else ""
        items.append(f"<li><code>{h(subject_of(r))}</code>{detail}</li>")
    return f'<ul class="subjects">{"".join(items)}</ul>'


def _subjects_inline(finding: Finding) -> str:
    names = finding.subjects
    shown = ", ".join(h(n) for n in names[:_SUMMARY_SUBJECTS])
    more = f" and {len(names) - _SUMMARY_SUBJECTS} more" if len(names) > _SUMMARY_SUBJECTS else ""
    return shown + more


def _noun(r: Result, count: int) -> str:
    word = {Scope.BUCKET: "bucket", Scope.ACCOUNT: "account", Scope.PRINCIPAL: "role"}[view.scope_of(r)]
    return word if count == 1 else word + "s"


def _waivers(report: Report) -> str:
    if not report.unused_waivers:
        return ""
    rows = "".join(f"<tr><td><code>{h(w.bucket)}</code></td><td><code>{h(w.control)}</code></td>"
                   f"<td>{h(w.expires)}</td><td>{h(w.owner)}</td><td>{h(w.reason)}</td>"
                   f"<td>{h(f'{w.source.file}:{w.source.line}' if w.source else '')}</td></tr>"
                   for w in report.unused_waivers)
    return ('<section id="unused-waivers">\n<h2>Unused waivers</h2>\n<p>These waivers matched no drift: '
            "remove them or fix their bucket/control.</p>\n<table><thead><tr><th>bucket</th><th>control</th>"
            "<th>expires</th><th>owner</th><th>reason</th><th>spec</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>\n</section>")


def _passing(report: Report) -> str:
    passed = [r for r in report.results if r.status is Status.PASS]
    if not passed:
        return ""
    groups: dict[tuple[int, str, str, str], list[Result]] = {}
    for r in passed:
        groups.setdefault((view.control_index(r.control), r.control, r.rule_id, view.json_text(r.actual)), []).append(r)
    rows = "".join(
        f'<tr data-filter data-status="pass" data-control="{h(c)}" data-severity="{rs[0].severity.value}" '
        f'data-subjects="{h(" ".join(subject_of(r) for r in rs))}"><td><code>{h(c)}</code></td><td>{h(rule)}</td>'
        f'<td><code>{h(actual)}</code></td><td class="num">{len(rs)}</td>'
        f"<td>{_subjects_inline(Finding(tuple(sorted(rs, key=subject_of))))}</td></tr>"
        for (_, c, rule, actual), rs in sorted(groups.items()))
    return (f'<section id="passing">\n<details>\n<summary><h2>Passing checks ({len(passed)})</h2></summary>\n'
            "<table><thead><tr><th>control</th><th>rule</th><th>actual</th><th class=\"num\">checks</th>"
            f"<th>where</th></tr></thead><tbody>{rows}</tbody></table>\n</details>\n</section>")


def _footer(report: Report) -> str:
    return (f"<footer>Written by s3audit {h(report.tool_version)} at {h(report.generated_at)}. "
            "The JSON report holds every result in full.</footer>")


# --------------------------------------------------------------------------- helpers


def _status(status: Status) -> str:
    return f'<span class="badge st-{status.value}">{CELL[status]}</span>'


def _severity(severity: Severity) -> str:
    return f'<span class="sev sev-{severity.value}">{severity.value}</span>'


def _pre(value: object) -> str:
    return f"<pre>{h(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False))}</pre>"


def _anchors(report: Report) -> dict[str, str]:
    """Result key -> the id of the finding section that shows it (matrix cells link there)."""
    out: dict[str, str] = {}
    n = 0
    for status in (Status.DRIFT, Status.ERROR, Status.WAIVED):
        for finding in group_identical(r for r in report.results if r.status is status):
            n += 1
            for r in finding.results:
                out[r.key] = f"finding-{n}"
    return out


def _sections(report: Report) -> Iterable[str]:
    anchors = _anchors(report)
    yield _header(report)
    yield "<main>"
    for part in (_changes(report), _summary(report), _trend(report), _filters(report), _rollup(report),
                 _scoped(report), _matrix(report, anchors),
                 _findings("Drift, by rule", "drift", Status.DRIFT, report, anchors, "No drift."),
                 _findings("Errors", "errors", Status.ERROR, report, anchors,
                           "Every checked control could be evaluated."),
                 _findings("Waived", "waived", Status.WAIVED, report, anchors, "Nothing is waived."),
                 _waivers(report), _passing(report)):
        if part:
            yield part
    yield "</main>"
    yield _footer(report)
