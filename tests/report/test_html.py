"""The HTML report as markup: self-contained, escaped, counts that match the JSON."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest

from auditor.model import Report, Status, TrendPoint
from auditor.report import RENDERERS, html, json_report
from auditor.report.chart import _nice_top, trend_svg
from tests.report.html_pages import HOSTILE_NAME, HOSTILE_ORIGIN, HOSTILE_TAG, PAGES, hostile_report
from tests.report.synthetic import big_report

EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")
# Every element the page's own markup uses; a value that became markup would add others
# (img, iframe, a with an external href ...) or extra scripts.
OWN_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "main", "footer", "section",
            "h1", "h2", "h3", "h4", "dl", "dt", "dd", "p", "div", "span", "code", "pre", "table",
            "thead", "tbody", "tr", "th", "td", "abbr", "a", "ul", "li", "details", "summary", "form",
            "fieldset", "legend", "label", "input", "select", "option", "button", "output", "script",
            "svg", "line", "polyline", "circle", "text"}


class Page(HTMLParser):
    """Tags, attributes, scripts and text of a page, as a browser's tokenizer splits them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)
        else:
            self.text.append(data)

    def ids(self) -> dict[str, dict[str, str | None]]:
        return {a["id"] or "": a for _, a in self.tags if a.get("id")}


@functools.cache
def _rendered(name: str) -> str:
    return html.render(PAGES[name]())


def _page(report: Report) -> tuple[str, Page]:
    text = html.render(report)
    return text, Page(text)


def _named_page(name: str) -> tuple[str, Page]:
    text = _rendered(name)
    return text, Page(text)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_page_is_self_contained(name: str) -> None:
    text, page = _named_page(name)
    assert {tag for tag, _ in page.tags} <= OWN_TAGS
    for tag, attrs in page.tags:
        for key in ("src", "srcset", "action", "formaction", "poster", "data", "background"):
            assert key not in attrs, (tag, key)
        if "href" in attrs:
            assert (attrs["href"] or "").startswith("#"), attrs  # in-page anchors only
    assert "://" not in "".join(page.styles) + "".join(page.scripts[1:])  # the code fetches nothing
    assert "@import" not in "".join(page.styles) and "url(" not in "".join(page.styles)
    assert not EMOJI.search(text)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_content_security_policy_allows_only_the_pages_own_style_and_script(name: str) -> None:
    _, page = _named_page(name)
    (policy,) = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert policy is not None
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == directives["img-src"] == directives["font-src"] == "'none'"
    (css,) = page.styles
    code = page.scripts[-1]
    digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    assert directives["script-src"] == f"'sha256-{digest}'"
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert directives["style-src"] == f"'sha256-{digest}'"
    # No inline style attribute or event handler, which that policy would block.
    assert not any(k == "style" or k.startswith("on") for _, a in page.tags for k in a)


def test_hostile_values_are_text_and_attributes_never_markup() -> None:
    text, page = _page(hostile_report())
    assert [t for t, _ in page.tags].count("script") == 2  # the JSON block and the page's own
    assert "img" not in {t for t, _ in page.tags}
    body_text = "".join(page.text)
    for value in (HOSTILE_NAME, HOSTILE_TAG):
        assert value in body_text
    assert HOSTILE_ORIGIN in body_text
    assert "<script>window.pwned" not in text and "<img" not in text
    data = page.scripts[0]
    assert "<" not in data and ">" not in data
    assert json.loads(data)["summary"]["drift"] == hostile_report().summary.drift


def test_embedded_json_cannot_end_its_script_block() -> None:
    embedded = html.embedded_json({"a": "</script><!-- \u2028 & >"})
    assert "</" not in embedded and "<!--" not in embedded and "\u2028" not in embedded
    assert json.loads(embedded) == {"a": "</script><!-- \u2028 & >"}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_counts_shown_equal_the_json_report(name: str) -> None:
    report = PAGES[name]()
    summary = json.loads(json_report.render(report))["summary"]
    texts = texts_by_id(_rendered(name))
    shown = {key: int(texts[f"count-{key}"]) for key in ("buckets", "pass", "drift", "error", "waived")}
    assert shown == {k: summary[k] for k in shown}
    assert texts["verdict"] == ("compliant" if summary["compliant"] else "not compliant")
    for status in ("drift", "error", "waived"):
        cells = [i for i in texts if i.startswith("sev-") and i.endswith(f"-{status}")]
        assert len(cells) == 4
        assert sum(int(texts[i]) for i in cells) == summary[status]


def texts_by_id(text: str) -> dict[str, str]:
    """The text inside each element that has an id and no child elements."""
    parser = _Leaves()
    parser.feed(text)
    return parser.found


class _Leaves(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self._id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._id = dict(attrs).get("id")
        if self._id:
            self.found[self._id] = ""

    def handle_data(self, data: str) -> None:
        if self._id:
            self.found[self._id] += data

    def handle_endtag(self, tag: str) -> None:
        self._id = None


def test_the_matrix_has_a_cell_per_checked_bucket_control_and_links_findings() -> None:
    report = big_report(40, 0)
    _, page = _page(report)
    cells = [a for t, a in page.tags if t == "td" and a.get("data-s")]
    bucket_results = [r for r in report.results if r.bucket and r.bucket != "*" and r.scope.value == "bucket"]
    assert len(cells) == len(bucket_results)
    assert sum(a.get("data-s") == "drift" for a in cells) == sum(r.status is Status.DRIFT for r in bucket_results)
    anchors = {a["href"] for t, a in page.tags if t == "a" and a.get("href")}
    ids = page.ids()
    assert anchors and all((h or "")[1:] in ids for h in anchors)
    headers = [a for t, a in page.tags if t == "abbr" and a.get("title")]
    assert len({a["title"] for a in headers}) >= 12


def test_identical_findings_are_one_section_listing_every_bucket() -> None:
    report = big_report(300, 0)
    _, page = _page(report)
    tls = [a for t, a in page.tags if t == "details" and a.get("data-control") == "tls_only"]
    assert len(tls) == 1 and tls[0]["data-count"] == "240"
    drifting = {r.bucket for r in report.results if r.control == "tls_only" and r.status is Status.DRIFT}
    assert set((tls[0]["data-subjects"] or "").split()) == drifting


def test_trend_chart_draws_every_kept_run() -> None:
    report = big_report(30, 14)
    _, page = _page(report)
    dots = [a for t, a in page.tags if t == "circle"]
    assert len(dots) == 2 * 14
    assert [t for t, _ in page.tags].count("polyline") == 2
    assert "Trend over the last 14 run(s)" in "".join(page.text)
    no_history = Page(html.render(big_report(30, 0)))
    assert "svg" not in {t for t, _ in no_history.tags}


def test_trend_scale_and_single_point() -> None:
    assert [_nice_top(v) for v in (0, 5, 6, 10, 11, 330, 2001)] == [5, 5, 10, 10, 20, 500, 5000]
    svg = trend_svg([TrendPoint("2026-11-24T00:00:00Z", 1, 3, 0)])
    assert svg.count("<circle") == 2 and "<polyline" not in svg


def test_registered_as_html() -> None:
    assert RENDERERS["html"] is html.render
