"""What the reports for people share: which table a result belongs in, the order and short
labels of controls, identical findings grouped, per-rule and per-severity counts.

Markdown and HTML answer the same questions, so they ask them here; each only decides how
the answer looks. Everything is pure and works on model values.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from auditor.controls import keys
from auditor.jsonable import to_jsonable
from auditor.model import Report, Result, Scope, Severity, Status

# Control keys in registry order: the order of the matrix columns and of sections.
CONTROLS: tuple[str, ...] = keys()

# Results of these statuses are findings: something for a person to act on.
FINDING_STATUSES: tuple[Status, ...] = (Status.DRIFT, Status.ERROR, Status.WAIVED)
# A run-level failure written before account scope existed: bucket "*" stands for the account.
RUN_LEVEL_BUCKET = "*"

# Short matrix column labels. A label that is not here is derived (see `short_labels`).
ABBREVIATIONS: dict[str, str] = {
    "exists": "exist", "managed": "mgd", "region": "reg", "versioning": "ver",
    "encryption": "enc", "public_access_block": "pab", "public_access": "pub",
    "tls_only": "tls", "lifecycle": "lcy", "cors": "cors", "website": "web",
    "ownership": "own", "object_acls": "oacl", "min_tls_version": "mtls",
    "cross_account": "xacct", "logging": "log", "object_lock": "lock", "mfa_delete": "mfa",
    "replication": "repl", "tags": "tags", "notifications": "ntfy", "access_points": "ap",
    "request_metrics": "rmet", "data_events": "trail", "objects": "obj", "alarms": "alarm",
    "principals": "iam",
}


def scope_of(result: Result) -> Scope:
    """The table a result belongs in; a run-level error on bucket "*" is about its account."""
    if result.scope is not Scope.BUCKET:
        return result.scope
    if result.bucket is None or result.bucket == RUN_LEVEL_BUCKET:
        return Scope.ACCOUNT
    return Scope.BUCKET


def subject_of(result: Result) -> str:
    """What the result is about, for people: bucket name, role ARN or "account N"."""
    if scope_of(result) is Scope.ACCOUNT:
        return f"account {result.account or '(unknown)'}"
    return result.subject


def by_scope(results: Iterable[Result], scope: Scope) -> list[Result]:
    return [r for r in results if scope_of(r) is scope]


def control_index(control: str) -> int:
    return CONTROLS.index(control) if control in CONTROLS else len(CONTROLS)


def ordered_controls(controls: Iterable[str]) -> list[str]:
    """Known controls in report order, then any others alphabetically."""
    return sorted(set(controls), key=lambda c: (control_index(c), c))


def short_labels(controls: Sequence[str]) -> dict[str, str]:
    """A short, unique column label per control, so a 12-column matrix fits a page."""
    labels: dict[str, str] = {}
    for control in controls:
        label = ABBREVIATIONS.get(control) or _derived_label(control)
        base, n = label, 2
        while label in labels.values():
            label, n = f"{base}{n}", n + 1
        labels[control] = label
    return labels


def _derived_label(control: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", control) if w]
    if len(words) > 1:
        return "".join(w[0] for w in words).lower()
    return control[:5].lower() or "?"


def result_order(result: Result) -> tuple[int, int, str, str, str]:
    """Most severe first, then control order, then subject."""
    return (-result.severity.rank, control_index(result.control), result.control,
            subject_of(result), result.rule_id)


def frameworks_text(result: Result) -> str:
    """"aws-fsbp S3.8, S3.1; cis-aws 2.1.4" (empty when the result evidences no framework)."""
    return "; ".join(f"{name} {', '.join(ids)}" for name, ids in result.frameworks)


def json_text(value: object) -> str:
    """Compact JSON of a model value, as the JSON report writes it."""
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(", ", ": "))


# --------------------------------------------------------------------------- identical findings


@dataclass(frozen=True, slots=True)
class Finding:
    """Results that say the same thing about different subjects: one section, many buckets."""

    results: tuple[Result, ...]

    @property
    def first(self) -> Result:
        return self.results[0]

    @property
    def subjects(self) -> list[str]:
        return [subject_of(r) for r in self.results]

    @property
    def commands(self) -> list[str]:
        """Each subject's remediation commands, in subject order, without repeats."""
        out: list[str] = []
        for r in self.results:
            out.extend(remediations(r))
        return list(dict.fromkeys(out))


def remediations(result: Result) -> list[str]:
    commands = [result.remediation] + [d.remediation for d in result.differences]
    return list(dict.fromkeys(c for c in commands if c))


def group_identical(results: Iterable[Result]) -> list[Finding]:
    """Results grouped when they differ only in their subject (its name replaced in the text)
    and in how long they have been failing (`change`, `first_seen`).

    The 300-bucket report then has one section for "240 buckets allow plain HTTP", not 240.
    Groups come most severe first, then largest.
    """
    groups: dict[tuple[str, ...], list[Result]] = {}
    for result in results:
        groups.setdefault(_identity(result), []).append(result)
    findings = [Finding(tuple(sorted(g, key=subject_of))) for g in groups.values()]
    return sorted(findings, key=lambda f: (-f.first.severity.rank, -len(f.results),
                                           control_index(f.first.control), f.first.rule_id,
                                           subject_of(f.first)))


def _identity(r: Result) -> tuple[str, ...]:
    name = r.bucket or r.principal or r.account or ""
    differences = [(d.path, json_text(d.expected), json_text(d.actual), d.message)
                   for d in r.differences]
    waiver = (r.waiver.reason, r.waiver.expires, r.waiver.owner) if r.waiver else None
    parts = (scope_of(r).value, r.rule_id, r.control, r.status.value, r.severity.value,
             json_text(r.expected), json_text(r.actual), r.message, json.dumps(differences),
             json.dumps(waiver), frameworks_text(r))
    return tuple(_without_name(part, name) for part in parts)


def _without_name(text: str, name: str) -> str:
    if not name:
        return text
    # Only where the name stands alone: bucket "a" must not be cut out of "aws".
    return re.sub(rf"(?<![A-Za-z0-9.\-]){re.escape(name)}(?![A-Za-z0-9\-]|\.[A-Za-z0-9])",
                  "\x00", text)


# --------------------------------------------------------------------------- counts


@dataclass(frozen=True, slots=True)
class RuleRollup:
    """One rule's results over the whole report."""

    rule_id: str
    control: str
    severity: Severity
    counts: dict[Status, int]

    @property
    def failing(self) -> int:
        return self.counts.get(Status.DRIFT, 0) + self.counts.get(Status.ERROR, 0)


def rollup(report: Report) -> list[RuleRollup]:
    """Per rule (and control, as severity overrides may differ): counts by status, worst first."""
    counts: dict[tuple[str, str], Counter[Status]] = {}
    severity: dict[tuple[str, str], Severity] = {}
    for r in report.results:
        key = (r.rule_id, r.control)
        counts.setdefault(key, Counter())[r.status] += 1
        if key not in severity or r.severity.rank > severity[key].rank:
            severity[key] = r.severity
    rows = [RuleRollup(rule_id, control, severity[(rule_id, control)], dict(c))
            for (rule_id, control), c in counts.items()]
    return sorted(rows, key=lambda row: (-row.failing, -row.severity.rank,
                                         control_index(row.control), row.rule_id))


def severity_counts(report: Report) -> dict[Severity, dict[Status, int]]:
    """Findings by severity (most severe first) and status."""
    out: dict[Severity, dict[Status, int]] = {
        s: {status: 0 for status in FINDING_STATUSES} for s in reversed(Severity)
    }
    for r in report.results:
        if r.status in FINDING_STATUSES:
            out[r.severity][r.status] += 1
    return out


def worst_status(statuses: Iterable[Status]) -> Status | None:
    """The status a matrix cell shows when a subject has several results for one control."""
    rank = {Status.PASS: 0, Status.WAIVED: 1, Status.DRIFT: 2, Status.ERROR: 3}
    return max(statuses, key=lambda s: rank[s], default=None)
