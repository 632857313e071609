"""The Markdown report: snapshot, matrix, ordering and escaping of hostile values."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from auditor.controls import keys
from auditor.model import (
    CorsRule,
    Difference,
    LifecycleRule,
    Report,
    Result,
    Scope,
    Status,
)
from auditor.report import RENDERERS, markdown
from auditor.report.markdown import code, fence, literal, text
from tests.report.synthetic import big_report

CONTROLS = keys()

CONTROLS = keys()

SNAPSHOT = Path(__file__).parent / "snapshots" / "drift-report.md"

HOSTILE = (
    "evil|bucket<script>alert(1)</script>`tick`](javascript:alert(1))"
    "\n# heading <img src=x onerror=alert(1)> ![i](x) [l](y) @admin https://evil.example"
)


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


def rendered(markdown_text: str) -> str:
    """The page as GitHub renders it (its cmark fork), raw HTML let through: the worst case."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown_text, options=Options.CMARK_OPT_UNSAFE)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


def rendered_tags(markdown_text: str) -> tuple[set[str], set[str]]:
    parser = _Tags()
    parser.feed(rendered(markdown_text))
    return parser.tags, parser.attributes


# The report's own markup; anything else in the rendered page came from a value.
OWN_TAGS = {"h1", "h2", "h3", "p", "ul", "li", "strong", "code", "pre", "table", "thead",
            "tbody", "tr", "th", "td", "details", "summary"}
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")
ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def outside_code(text: str) -> str:
    """The page without fenced blocks and code spans: where Markdown and HTML are live."""
    text = re.sub(r"^(`{3,})[^\n]*\n.*?^\1$", "", text, flags=re.DOTALL | re.MULTILINE)
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
    text_ = markdown.render(sample_report)
    assert text_.startswith("# S3 drift report\n")
    assert "- **Generated at:** 2026-11-24T23:00:00Z" in text_
    assert "- **Accounts:** `111122223333`" in text_
    assert "- **Spec files:** `specs/amply.yaml`" in text_
    assert "Endpoint" not in text_
    assert table_after(text_, "## Summary") == [
        ["Buckets", "Pass", "Drift", "Error", "Waived", "Verdict"],
        ["4", "6", "6", "1", "0", "**not compliant**"],
    ]
    assert table_after(text_, "Findings by severity:") == [
        ["Severity", "Drift", "Error", "Waived"], ["high", "2", "1", "0"],
        ["medium", "2", "0", "0"], ["low", "2", "0", "0"],
    ]


def test_endpoint_and_compliant_verdict(make_result: Callable[..., Result],
                                        make_report: Callable[..., Report]) -> None:
    report = make_report(results=(make_result(),), endpoint_url="http://localhost:5000")
    text_ = markdown.render(report)
    assert "- **Endpoint:** `http://localhost:5000`" in text_
    assert "| compliant |" in text_ and "No drift." in text_
    assert "Every checked control could be evaluated." in text_


def test_values_are_code_spans_not_backslash_escapes(sample_report: Report) -> None:
    text_ = markdown.render(sample_report)
    assert "\\" not in outside_code(text_)
    assert not ZERO_WIDTH.search(text_)
    assert "`tls_only`" in text_ and "tls\\_only" not in text_


def test_the_report_needs_no_emoji_font(sample_report: Report) -> None:
    assert not EMOJI.search(markdown.render(sample_report))
    assert not EMOJI.search(markdown.render(big_report(40, 0)))


def test_matrix_cells_are_words_under_short_labels_with_a_legend(sample_report: Report) -> None:
    text_ = markdown.render(sample_report)
    rows = table_after(text_, "## Bucket × control")
    head = rows[0]
    assert head[0] == "Bucket"
    checked = [c for c in CONTROLS if c in {r.control for r in sample_report.results}]
    assert head[1:] == [markdown.view.short_labels(checked)[c] for c in checked]
    assert all(len(label) <= 5 for label in head[1:])
    for control in checked:
        assert f"**{markdown.view.short_labels(checked)[control]}** `{control}`" in text_
    matrix = {row[0]: dict(zip(head[1:], row[1:], strict=True)) for row in rows[1:]}
    assert list(matrix) == sorted(matrix)
    prod = matrix["`amply-storage-prod`"]
    assert (prod["reg"], prod["ver"], prod["tls"], prod["cors"]) == ("pass", "DRIFT", "DRIFT", "—")
    assert matrix["`amply-web-assets`"]["tls"] == "ERROR"
    assert matrix["`amply-backups`"]["exist"] == "DRIFT"
    assert set(matrix["`amply-backups`"].values()) == {"DRIFT", "—"}
    assert matrix["`amply-legacy-tmp`"]["mgd"] == "DRIFT"


def test_a_twelve_control_matrix_fits_githubs_width() -> None:
    text_ = markdown.render(big_report(40, 0))
    header = next(line for line in text_.splitlines() if line.startswith("| Bucket |"))
    assert header.count("|") - 2 >= 12
    # GitHub's content column is about 1000 px; at ~8 px a character and 13 px of cell
    # padding a side, the widest row must stay under that.
    widest = max(len(line) for line in text_.splitlines() if line.startswith("| `fleet-"))
    columns = header.count("|") - 1
    assert widest * 8 + columns * 26 < 1500
    assert max(len(cell) for cell in header.split("|")) <= 8


def test_drifts_are_grouped_by_rule_highest_severity_first(sample_report: Report) -> None:
    text_ = markdown.render(sample_report)
    drift = text_[text_.index("## Drift, by rule"):text_.index("## Errors")]
    headings = re.findall(r"^### (.*)$", drift, flags=re.MULTILINE)
    assert headings == [
        "S3-BKT-001 · `exists` · high", "S3-TLS-001 · `tls_only` · high",
        "S3-VER-001 · `versioning` · medium", "S3-COR-001 · `cors` · medium",
        "S3-BKT-002 · `managed` · low", "S3-LCY-001 · `lifecycle` · low",
    ]


def test_drift_shows_expected_actual_differences_and_remediation(sample_report: Report) -> None:
    text_ = markdown.render(sample_report)
    versioning = text_[text_.index("### S3-VER-001"):text_.index("### S3-COR-001")]
    assert "Versioning is Suspended; the spec requires Enabled" in versioning
    assert "bucket `amply-storage-prod` · account `111122223333` · region `eu-central-1` · " \
           "spec `specs/amply.yaml:5`" in versioning
    assert '**Expected:** `"Enabled"`' in versioning
    assert '**Actual:** `"Suspended"`' in versioning
    assert ("```sh\naws s3api put-bucket-versioning --bucket amply-storage-prod "
            "--versioning-configuration Status=Enabled\n```") in versioning
    lifecycle = text_[text_.index("### S3-LCY-001"):text_.index("## Errors")]
    assert '{"storage_class": "GLACIER", "days": 365}' in lifecycle
    assert '\n      {"storage_class": "STANDARD_IA", "days": 90},\n' in lifecycle  # indented, not escaped
    assert "- `cleanup-temp.expiration_days`: " in lifecycle
    assert "(expected `7`, actual `30`)" in lifecycle


def test_300_buckets_with_one_drift_read_as_one_section() -> None:
    report = big_report(300, 0)
    text_ = markdown.render(report)
    assert len(text_.encode()) < 120_000
    assert text_.count("### S3-TLS-001") == 1
    section = text_[text_.index("### S3-TLS-001"):text_.index("### ", text_.index("### S3-TLS-001") + 4)]
    assert section.startswith("### S3-TLS-001 · `tls_only` · high · 240 buckets · 120 new, "
                              "120 persisting since 2026-11-10T02:15:00Z")
    drifting = {r.bucket for r in report.results if r.control == "tls_only" and r.status is Status.DRIFT}
    assert len(drifting) == 240
    assert all(f"`{b}`" in section for b in drifting)
    commands = re.findall(r"^aws s3api put-bucket-policy --bucket (\S+) ", section, flags=re.MULTILINE)
    assert sorted(commands) == sorted(drifting)


def test_identical_findings_differ_only_in_the_bucket(make_result: Callable[..., Result],
                                                     make_report: Callable[..., Report]) -> None:
    same = [make_result(bucket=f"b-{i}", status=Status.DRIFT, actual="Suspended",
                        message=f"Versioning of b-{i} is Suspended",
                        remediation=f"aws s3api put-bucket-versioning --bucket b-{i} x") for i in range(3)]
    other = make_result(bucket="b-9", status=Status.DRIFT, actual="Disabled", message="Versioning is off")
    text_ = markdown.render(make_report(results=(*same, other)))
    assert text_.count("### S3-VER-001") == 2
    assert "**Buckets (3):** `b-0`, `b-1`, `b-2`" in text_


def test_account_and_role_results_have_their_own_tables_before_the_buckets(
    make_result: Callable[..., Result], make_report: Callable[..., Report],
) -> None:
    account = make_result(bucket=None, scope=Scope.ACCOUNT, control="public_access_block",
                          status=Status.DRIFT, message="The account block is off")
    run_level = make_result(bucket="*", control="managed", status=Status.ERROR, message="listing failed")
    role = make_result(bucket=None, scope=Scope.PRINCIPAL, control="principals",
                       principal="arn:aws:iam::111122223333:role/app")
    text_ = markdown.render(make_report(results=(make_result(), account, run_level, role)))
    assert text_.index("## Accounts") < text_.index("## Principals") < text_.index("## Bucket × control")
    assert table_after(text_, "## Accounts")[1:] == [
        ["`111122223333`", "`managed`", "ERROR", "medium", "listing failed"],
        ["`111122223333`", "`public_access_block`", "DRIFT", "medium", "The account block is off"],
    ]
    assert table_after(text_, "## Principals")[1][0] == "`arn:aws:iam::111122223333:role/app`"
    matrix = table_after(text_, "## Bucket × control")
    assert [row[0] for row in matrix[1:]] == ["`amply-storage-prod`"]  # no "*" row, no account row


def test_errors_and_passing_checks(sample_report: Report) -> None:
    text_ = markdown.render(sample_report)
    assert table_after(text_, "## Errors")[1] == [
        "S3-TLS-001", "`tls_only`", "`amply-web-assets`",
        "GetBucketPolicy failed (AccessDenied): Access Denied",
    ]
    assert "<details>\n<summary>Passing checks (6)</summary>\n\n|" in text_
    passing = table_after(text_, "<summary>Passing checks")
    assert len(passing) == 7 and passing[1][:2] == ["`region`", "S3-BKT-003"]
    assert text_.endswith("</details>\n")


# --------------------------------------------------------------------------- the four doors


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Versioning is Suspended; the spec requires Enabled",
         "Versioning is Suspended; the spec requires Enabled"),
        ("GetBucketPolicy failed (AccessDenied): Access Denied.",
         "GetBucketPolicy failed (AccessDenied): Access Denied."),
        ("Origins are *; the spec requires https://amply-impact.org",
         "Origins are `*`; the spec requires `https://amply-impact.org`"),
        ("serves index.html, then www.example.org.", "serves `index.html`, then `www.example.org`."),
        ("tag data_class is (tls_only)", "tag `data_class` is (`tls_only`)"),
        ("ping @team", "ping `@team`"),
        ("a|b", '`"a\\u007cb"`'),
        ("<script>", '`"\\u003cscript\\u003e"`'),
        ("[t](javascript:x)", '`"[t]\\u0028javascript:x)"`'),
        ("# h", "`#` h"),
        ("- item", "`-` item"),
        ("12. item", "`12.` item"),
        ("a\n# b\tc", "a `#` b c"),
        ("bidi\u202eevil", '`"bidi\\u202eevil"`'),
        ("with ``two`` ticks", "with ``` ``two`` ``` ticks"),
    ],
)
def test_text(raw: str, shown: str) -> None:
    assert text(raw) == shown


def test_literal_and_code() -> None:
    assert literal("amply-storage-prod") == "`amply-storage-prod`"
    assert literal("") == "(empty)"
    assert literal("a`b") == "``a`b``"
    assert literal("`x") == "`` `x ``"
    assert literal("zero\u200bwidth") == '`"zero\\u200bwidth"`'
    assert code("a``b") == '```"a``b"```'
    assert code("<b>|(x)") == '`"\\u003cb\\u003e\\u007c(x)"`'


def test_fence_outlasts_backticks_inside() -> None:
    block = fence("echo ```` done\x1b[31m", "sh")
    assert block == "`````sh\necho ```` done\u241b[31m\n`````"


def test_every_door_renders_as_text_on_github() -> None:
    page = "\n\n".join([text(HOSTILE), literal(HOSTILE), code(HOSTILE), fence(HOSTILE),
                         "| a |\n|---|\n| " + text(HOSTILE) + " |"])
    tags, attributes = rendered_tags(page)
    assert tags <= OWN_TAGS, tags - OWN_TAGS
    assert not attributes & {"href", "src", "onerror"}


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


def test_hostile_values_render_as_text_on_github(make_result: Callable[..., Result],
                                                 make_report: Callable[..., Report]) -> None:
    tags, attributes = rendered_tags(markdown.render(_hostile_report(make_result, make_report)))
    assert tags <= OWN_TAGS, tags - OWN_TAGS
    assert not attributes & {"href", "src", "onerror"}


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
    assert not re.search(r"^\W*heading", text, flags=re.MULTILINE)
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
    assert rows == [["Bucket", "ver", "lock"], ["`amply-storage-prod`", "pass", "pass"]]
