"""The Markdown report: snapshot, matrix, ordering and escaping of hostile values."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.controls import keys
from auditor.model import CorsRule, Difference, LifecycleRule, Report, Result, Status
from auditor.report import RENDERERS, markdown
from auditor.report.markdown import code, escape, fence

SNAPSHOT = Path(__file__).parent / "snapshots" / "drift-report.md"

HOSTILE = (
    "evil|bucket<script>alert(1)</script>`tick`](javascript:alert(1))"
    "\n# heading <img src=x onerror=alert(1)> ![i](x) [l](y) @admin https://evil.example"
)

CONTROLS = keys()


def split_row(line: str) -> list[str]:
    """Cells of a GFM table row: a pipe splits unless backslash-escaped (as cmark-gfm does)."""
    assert line.startswith("|") and line.endswith("|"), line
    cells, cell, i = [], "", 1
    while i < len(line) - 1:
        if line[i] == "\\":
            cell, i = cell + line[i:i + 2], i + 2
            continue
        if line[i] == "|":
            cells.append(cell.strip())
            cell = ""
        else:
            cell += line[i]
        i += 1
    return cells + [cell.strip()]


def table_after(text: str, heading: str) -> list[list[str]]:
    """The rows (header first, separator dropped) of the first table after a heading."""
    lines = text[text.index(heading):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(split_row(line))
    return [rows[0]] + rows[2:]


def outside_code(text: str) -> str:
    """The page without fenced blocks and code spans: where Markdown and HTML are live."""
    text = re.sub(r"^(`{3,})[^\n]*\n.*?^\1$", "", text, flags=re.S | re.M)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text)


# --------------------------------------------------------------------------- snapshot


def test_snapshot(sample_report: Report) -> None:
    text = markdown.render(sample_report)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.exists(), "run with UPDATE_SNAPSHOTS=1 to create the snapshot"
    assert text == SNAPSHOT.read_text(encoding="utf-8")


def test_renderer_is_registered_under_markdown(sample_report: Report) -> None:
    assert RENDERERS["markdown"](sample_report) == markdown.render(sample_report)


def test_output_does_not_depend_on_result_order(sample_report: Report) -> None:
    shuffled = Report(**{**{f: getattr(sample_report, f) for f in Report.__dataclass_fields__},
                         "results": tuple(reversed(sample_report.results))})
    assert markdown.render(shuffled) == markdown.render(sample_report)


# --------------------------------------------------------------------------- content


def test_run_metadata_and_summary(sample_report: Report) -> None:
    text = markdown.render(sample_report)
    assert text.startswith("# S3 drift report\n")
    assert "- **Generated at:** 2026-11-24T23:00:00Z" in text
    assert "- **Accounts:** 111122223333" in text
    assert "- **Spec files:** specs/amply\\.yaml" in text
    assert "Endpoint" not in text
    assert table_after(text, "## Summary") == [
        ["Buckets", "Pass", "Drift", "Error", "Waived", "Verdict"],
        ["4", "6", "6", "1", "0", "❌ not compliant"],
    ]


def test_endpoint_and_compliant_verdict(make_result: Callable[..., Result],
                                        make_report: Callable[..., Report]) -> None:
    report = make_report(results=(make_result(),), endpoint_url="http://localhost:5000")
    text = markdown.render(report)
    assert "- **Endpoint:** http:\u200b//localhost:5000" in text
    assert "✅ compliant" in text and "No drift." in text
    assert "Every checked control could be evaluated." in text


def test_matrix_cells(sample_report: Report) -> None:
    rows = table_after(markdown.render(sample_report), "## Bucket × control")
    head = [h.replace("\\_", "_") for h in rows[0]]
    assert head[0] == "Bucket"
    assert head[1:] == [c for c in CONTROLS if c in {r.control for r in sample_report.results}]
    matrix = {row[0]: dict(zip(head[1:], row[1:])) for row in rows[1:]}
    assert list(matrix) == sorted(matrix)
    prod = matrix["amply-storage-prod"]
    assert (prod["region"], prod["versioning"], prod["tls_only"], prod["cors"]) == (
        "✅", "❌", "❌", "—",
    )
    assert matrix["amply-web-assets"]["tls_only"] == "⚠️"
    assert matrix["amply-web-assets"]["cors"] == "❌"
    assert matrix["amply-backups"]["exists"] == "❌"
    assert set(matrix["amply-backups"].values()) == {"❌", "—"}
    assert matrix["amply-legacy-tmp"]["managed"] == "❌"


def test_drifts_are_grouped_by_bucket_highest_severity_first(sample_report: Report) -> None:
    text = markdown.render(sample_report)
    drift = text[text.index("## Drift"):text.index("## Errors")]
    headings = re.findall(r"^#{3,4} (.*)$", drift, flags=re.M)
    assert headings == [
        "amply-backups", "S3-BKT-001 · exists · high",
        "amply-legacy-tmp", "S3-BKT-002 · managed · low",
        "amply-storage-prod",
        "S3-TLS-001 · tls\\_only · high",
        "S3-VER-001 · versioning · medium",
        "S3-LCY-001 · lifecycle · low",
        "amply-web-assets", "S3-COR-001 · cors · medium",
    ]


def test_drift_shows_expected_actual_differences_and_remediation(sample_report: Report) -> None:
    text = markdown.render(sample_report)
    versioning = text[text.index("#### S3-VER-001"):text.index("#### S3-LCY-001")]
    assert 'Versioning is Suspended; the spec requires Enabled' in versioning
    assert '**Expected:** `"Enabled"`' in versioning
    assert '**Actual:** `"Suspended"`' in versioning
    assert ("```sh\naws s3api put-bucket-versioning --bucket amply-storage-prod "
            "--versioning-configuration Status=Enabled\n```") in versioning
    lifecycle = text[text.index("#### S3-LCY-001"):text.index("### amply-web-assets")]
    assert '{"storage_class": "GLACIER", "days": 365}' in lifecycle
    assert "- <code>cleanup-temp\\.expiration\\_days</code>: " in lifecycle
    assert "(expected `7`, actual `30`)" in lifecycle


def test_errors_and_passing_checks(sample_report: Report) -> None:
    text = markdown.render(sample_report)
    assert table_after(text, "## Errors")[1] == [
        "amply-web-assets", "tls\\_only", "S3-TLS-001",
        "GetBucketPolicy failed \\(AccessDenied\\): Access Denied",
    ]
    assert "<details>\n<summary>Passing checks (6)</summary>\n\n|" in text
    passing = table_after(text, "<summary>Passing checks")
    assert len(passing) == 7 and passing[1][:2] == ["amply-storage-prod", "region"]
    assert text.endswith("</details>\n")


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("amply-storage-prod", "amply-storage-prod"),
        ("a|b", "a\\|b"),
        ("<script>", "&lt;script&gt;"),
        ("&lt;", "&amp;lt;"),
        ("say \"hi\" 'x'", "say &quot;hi&quot; &#39;x&#39;"),
        ("`code`", "\\`code\\`"),
        ("*b* _i_ ~s~ $m$", "\\*b\\* \\_i\\_ \\~s\\~ \\$m\\$"),
        ("[t](javascript:x)", "\\[t\\]\\(javascript:x\\)"),
        ("![i](x)", "\\!\\[i\\]\\(x\\)"),
        ("# h", "\\# h"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("= under", "\\= under"),
        ("12. item", "12\\. item"),
        ("a\\b", "a\\\\b"),
        ("a\nb\r\tc", "a\u240ab\u240d\u2409c"),
        ("bidi\u202eevil", "bidi\ufffdevil"),
        ("@team", "@\u200bteam"),
        ("https://x.example www.y.example", "https:\u200b//x\\.example www\\.y\\.example"),
        ("mail a@b.co.", "mail a@\u200bb\\.co."),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


def test_escape_never_leaves_live_syntax() -> None:
    out = escape(HOSTILE)
    assert "\n" not in out and "<" not in out and ">" not in out
    assert "](" not in out and "![" not in out
    assert len(split_row(f"| {out} |")) == 1


def test_code_span_and_fence_outlast_backticks_inside() -> None:
    assert code("a``b") == '```"a``b"```'
    assert code("<b>|(x)") == '`"\\u003cb\\u003e\\u007c\\u0028x\\u0029"`'
    block = fence("echo ```` done\x1b[31m", "sh")
    assert block == "`````sh\necho ```` done\u241b[31m\n`````"


def _hostile_report(make_result: Callable[..., Result],
                    make_report: Callable[..., Report]) -> Report:
    origin_rule = CorsRule(allowed_origins=(HOSTILE,), allowed_methods=("GET",))
    tagged = LifecycleRule(id=HOSTILE, tags=((HOSTILE, HOSTILE),), expiration_days=1)
    return make_report(
        accounts=(HOSTILE,),
        spec_files=(HOSTILE,),
        results=(
            make_result(bucket=HOSTILE, control="cors", rule_id="S3-COR-001",
                        status=Status.DRIFT, message=HOSTILE, expected=(),
                        actual=(origin_rule,),
                        differences=(Difference(HOSTILE, [], [HOSTILE], HOSTILE),)),
            make_result(bucket=HOSTILE, control="lifecycle", rule_id="S3-LCY-001",
                        status=Status.ERROR, message=HOSTILE, region=HOSTILE),
            make_result(bucket=HOSTILE, account=HOSTILE, actual=(tagged,), message=HOSTILE),
        ),
    )


def test_hostile_values_come_out_escaped(make_result: Callable[..., Result],
                                         make_report: Callable[..., Report]) -> None:
    text = markdown.render(_hostile_report(make_result, make_report))
    for needle in ("<script", "<img", "](", "\n# heading"):
        assert needle not in text, needle
    # Inside code spans and fences autolinks, mentions and images are not live anyway.
    live = outside_code(text)
    for needle in ("![", "://evil", "@admin"):
        assert needle not in live, needle
    # The newline inside the hostile value never starts a line of its own.
    assert not re.search(r"^\W*heading", text, flags=re.M)
    for heading in ("## Bucket × control", "## Errors", "<summary>Passing checks"):
        rows = table_after(text, heading)
        assert {len(row) for row in rows} == {len(rows[0])}, heading


def test_hostile_remediation_stays_inside_its_fence(make_result: Callable[..., Result],
                                                    make_report: Callable[..., Report]) -> None:
    hostile = "echo ```\n```\n" + HOSTILE
    report = make_report(results=(make_result(status=Status.DRIFT, remediation=hostile),))
    text = markdown.render(report)
    # A fence is literal text in CommonMark, so the command is kept runnable as written...
    assert "````sh\necho ```\n```\nevil|bucket<script>" in text
    # ...and nothing of it is live outside the fence.
    live = outside_code(text)
    assert "<script" not in live and "](" not in live and "evil" not in live


def test_controls_outside_the_known_list_get_a_column_after_them(
    make_result: Callable[..., Result], make_report: Callable[..., Report]
) -> None:
    results = (make_result(control="object_lock", rule_id="S3-OBL-001"), make_result())
    rows = table_after(markdown.render(make_report(results=results)), "## Bucket × control")
    assert rows == [["Bucket", "versioning", "object\\_lock"], ["amply-storage-prod", "✅", "✅"]]
