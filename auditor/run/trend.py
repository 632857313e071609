"""The trend of a history directory: each kept run's summary counts, oldest first.

Only the summary of each dated report is needed, and s3audit writes it near the top of the
file (before the results), so a report is read from its start until the summary has been
decoded; a report laid out otherwise is parsed whole. A file that is not a readable report
is left out of the trend rather than failing the run: the audit itself is already done.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from auditor.model import TrendPoint
from auditor.run.history import HISTORY_NAME

# Enough for the schema_version, generated_at, tool and summary keys of any s3audit report.
_HEAD_BYTES = 64 * 1024
_KEY = re.compile(r'"(generated_at|summary)"\s*:\s*')


def read_trend(directory: Path) -> tuple[TrendPoint, ...]:
    """The summary of every dated report in the directory, in time order."""
    if not directory.is_dir():
        return ()
    dated = sorted(p for p in directory.iterdir() if HISTORY_NAME.match(p.name))
    points = (point_of(p) for p in dated)
    return tuple(sorted((p for p in points if p is not None), key=lambda p: p.generated_at))


def point_of(path: Path) -> TrendPoint | None:
    """One report's summary counts, or None when the file is not a readable s3audit report."""
    try:
        head = _head(path)
        fields = _from_head(head) if head is not None else None
        if fields is None:
            fields = json.loads(path.read_text(encoding="utf-8"))
        summary = fields["summary"]
        return TrendPoint(generated_at=str(fields["generated_at"]), passed=int(summary["pass"]),
                          drift=int(summary["drift"]), error=int(summary["error"]),
                          waived=int(summary.get("waived", 0)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _head(path: Path) -> str | None:
    with path.open("rb") as f:
        data = f.read(_HEAD_BYTES)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:  # the cut fell inside a character
        return data[: exc.start].decode("utf-8") if exc.start > 0 else None


def _from_head(head: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    found: dict[str, Any] = {}
    for match in _KEY.finditer(head):
        if match.group(1) in found:
            continue
        try:
            found[match.group(1)], _ = decoder.raw_decode(head, match.end())
        except ValueError:
            return None
        if len(found) == 2:
            return found
    return None
