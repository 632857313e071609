"""JSON report -> Report: to merge shard reports and re-render them. The inverse of json_report.

`expected`/`actual` stay the plain JSON values they were written as; every renderer takes
those as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError
from auditor.model import (
    AwsFailure,
    Change,
    Difference,
    Report,
    Result,
    Scope,
    Severity,
    SourceRef,
    Status,
    Waiver,
)
from auditor.report.json_report import validate_report


def _waiver(data: Mapping[str, Any] | None) -> Waiver | None:
    if not data:
        return None
    source = data.get("source")
    return Waiver(
        bucket=data.get("bucket", "*"), control=data.get("control", ""), reason=data["reason"],
        expires=data["expires"], owner=data.get("owner", ""), ticket=data.get("ticket"),
        source=SourceRef(source["file"], source["line"], source.get("column", 1)) if source else None,
    )


def result_from_dict(data: Mapping[str, Any]) -> Result:
    """One result of a JSON report."""
    source = data.get("source")
    return Result(
        bucket=None if data.get("bucket") in (None, "*") else data["bucket"],
        control=data["control"], status=Status(data["status"]),
        severity=Severity(data["severity"]), rule_id=data.get("rule_id", ""),
        expected=data.get("expected"), actual=data.get("actual"), message=data["message"],
        remediation=data.get("remediation"), account=data.get("account"), region=data.get("region"),
        differences=tuple(
            Difference(d["path"], d.get("expected"), d.get("actual"), d["message"], d.get("remediation"))
            for d in data.get("differences", [])
        ),
        source=SourceRef(source["file"], source["line"], source.get("column", 1)) if source else None,
        change=Change(data["change"]) if data.get("change") else None,
        first_seen=data.get("first_seen"),
        waiver=_waiver(data.get("waiver")),
        scope=Scope(data.get("scope") or _legacy_scope(data)),
        error=AwsFailure(**data["error"]) if data.get("error") else None,
        principal=data.get("principal"),
        frameworks=tuple((k, tuple(v)) for k, v in (data.get("frameworks") or {}).items()),
    )


def _legacy_scope(data: Mapping[str, Any]) -> str:
    # Reports before scopes existed wrote run-level errors as bucket "*".
    return "account" if data.get("bucket") in (None, "*") else "bucket"


def load_report(path: str | Path) -> Report:
    """Read and validate a JSON report written by s3audit."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        validate_report(text)
    except (OSError, ValueError) as exc:
        raise AuditorError(f"{path}: {exc}") from exc
    data = json.loads(text)
    run = data.get("run", {})
    return Report(
        generated_at=data["generated_at"], tool_version=data["tool"]["version"],
        results=tuple(result_from_dict(r) for r in data["results"]),
        accounts=tuple(run.get("accounts", ())), spec_files=tuple(run.get("spec_files", ())),
        endpoint_url=run.get("endpoint_url"), duration_seconds=run.get("duration_seconds"),
        unused_waivers=tuple(w for w in map(_waiver, data.get("unused_waivers", [])) if w),
        baseline=run.get("baseline"),
    )


def merge_reports(reports: Sequence[Report]) -> Report:
    """One report from shard reports: results unioned by key (first wins), sorted like a run."""
    seen: dict[str, Result] = {}
    for report in reports:
        for result in report.results:
            seen.setdefault(result.key, result)
    results = sorted(seen.values(), key=lambda r: (r.scope is Scope.BUCKET, r.bucket or "", r.account or ""))
    # A waiver is unused only if no shard used it.
    unused = {w: None for w in reports[0].unused_waivers if all(w in r.unused_waivers for r in reports)}
    first = reports[0]
    return replace(
        first,
        generated_at=max(r.generated_at for r in reports),
        results=tuple(results),
        accounts=tuple(sorted({a for r in reports for a in r.accounts})),
        spec_files=tuple(dict.fromkeys(f for r in reports for f in r.spec_files)),
        duration_seconds=max((r.duration_seconds or 0.0) for r in reports),
        unused_waivers=tuple(unused),
        extra=(),
    )
