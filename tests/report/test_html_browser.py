"""The HTML report as people see it: every page the report tests build, and the pages the
CLI writes, opened in headless Chromium (Debian's package, driven by Playwright).

Checked on each: no console error or warning (a Content-Security-Policy violation would be
one), no script error, no request but the page itself, the counts on screen equal the JSON
report's, and hostile names, tags and origins shown as text (none ran: `window.pwned` stays
unset, no image or extra script exists). One browser serves the whole module (the tests
share an xdist group, so they run in one worker).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.model import Report
from auditor.report import html, json_report
from tests.report.browser import CHROMIUM, CHROMIUM_ARGS, chromium_missing
from tests.report.html_pages import HOSTILE_NAME, HOSTILE_ORIGIN, HOSTILE_TAG, PAGES
from tests.report.synthetic import big_report

pytestmark = [
    pytest.mark.xdist_group("chromium"),
    pytest.mark.skipif(chromium_missing() is not None, reason=f"headless Chromium: {chromium_missing()}"),
]
COUNTS = ("buckets", "pass", "drift", "error", "waived")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="s3audit-chromium-") as profile:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS),
            offline=True, viewport={"width": 1280, "height": 900})
        yield context
        context.close()


class Visit:
    """One page load, with everything the page said and asked for."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.console: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(self.url, wait_until="load")

    def problems(self) -> list[str]:
        noisy = [m for m in self.console if not m.startswith(("log:", "debug:", "info:"))]
        foreign = [u for u in self.requests if u != self.url]
        return noisy + self.errors + [f"request: {u}" for u in foreign]

    def counts(self) -> dict[str, int]:
        return {k: int(self.page.text_content(f"#count-{k}") or "-1") for k in COUNTS}

    def close(self) -> None:
        self.page.close()


def _visit(browser: Any, tmp_path: Path, report: Report, name: str = "page") -> Visit:
    path = tmp_path / f"{name}.html"
    path.write_text(html.render(report), encoding="utf-8")
    return Visit(browser, path)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_loads_clean_and_shows_the_json_counts(browser: Any, tmp_path: Path, name: str) -> None:
    report = PAGES[name]()
    visit = _visit(browser, tmp_path, report, name)
    try:
        assert visit.problems() == []
        summary = json.loads(json_report.render(report))["summary"]
        assert visit.counts() == {k: summary[k] for k in COUNTS}
        assert visit.page.text_content("#verdict") == ("compliant" if summary["compliant"] else "not compliant")
        assert visit.page.evaluate("window.pwned") is None
        assert visit.page.locator("script").count() == 2
        assert visit.page.locator("img, iframe, object, embed").count() == 0
        if report.results:
            assert (visit.page.text_content("#shown") or "").endswith("finding(s) shown")  # the script ran
    finally:
        visit.close()


def test_hostile_values_are_shown_as_text(browser: Any, tmp_path: Path) -> None:
    visit = _visit(browser, tmp_path, PAGES["hostile"](), "hostile")
    try:
        assert visit.problems() == []
        body = visit.page.inner_text("body")
        for value in (HOSTILE_NAME, HOSTILE_TAG, HOSTILE_ORIGIN):
            assert value in body or value in (visit.page.text_content("body") or ""), value
        assert visit.page.locator("table.matrix tbody th code").first.text_content() == HOSTILE_NAME
        assert visit.page.evaluate("window.pwned") is None
    finally:
        visit.close()


def test_filters_narrow_the_matrix_and_the_findings(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    report = big_report(40, 0)
    tls_drift = sorted(r.bucket for r in report.results
                       if r.control == "tls_only" and r.status.value == "drift" and r.bucket)
    visit = _visit(browser, tmp_path, report, "filters")
    page = visit.page
    try:
        everything = page.locator("table.matrix tbody tr:not(.hidden)").count()
        for status in ("pass", "error", "waived"):
            page.uncheck(f"input[name=status][value={status}]")
        page.select_option("select[name=control]", "tls_only")
        rows = page.locator("table.matrix tbody tr:not(.hidden)")
        assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.bucket)")) == tls_drift
        assert page.locator("table.matrix thead th:not(.col-hidden)").count() == 2  # bucket, tls
        findings = page.locator("details.finding:not(.hidden)")
        assert findings.evaluate_all("fs => fs.map(f => f.dataset.control)") == ["tls_only"]
        assert page.text_content("#shown") == f"{len(tls_drift)} finding(s) shown"
        page.fill("input[name=q]", tls_drift[0])
        assert rows.count() == 1
        page.uncheck("input[name=severity][value=high]")
        assert rows.count() == 0 and findings.count() == 0
        page.click("button[type=reset]")
        findings_total = sum(r.status.value != "pass" for r in report.results)
        expect(page.locator("#shown")).to_have_text(f"{findings_total} finding(s) shown")
        assert page.locator("table.matrix tbody tr:not(.hidden)").count() == everything
        assert visit.problems() == []
    finally:
        visit.close()


def test_a_matrix_cell_links_to_its_finding(browser: Any, tmp_path: Path) -> None:
    visit = _visit(browser, tmp_path, big_report(40, 0), "links")
    try:
        visit.page.locator("table.matrix td.st-drift a").first.click()
        assert visit.page.evaluate("location.hash").startswith("#finding-")
        assert visit.problems() == []
    finally:
        visit.close()


def test_the_demo_writes_a_page_that_loads_clean(browser: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from auditor.cli import main
    from tests.conftest import SPECS

    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--specs", str(SPECS)])
    assert result.exit_code == 0, result.output
    visit = Visit(browser, out / "drift-report.html")
    try:
        assert visit.problems() == []
        summary = json.loads((out / "drift-report.json").read_text())["summary"]
        assert visit.counts() == {k: summary[k] for k in COUNTS}
    finally:
        visit.close()


def test_a_history_run_shows_the_trend_of_the_kept_runs(
    browser: Any, seeded_server: str, tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from auditor.cli import main
    from tests.conftest import SPECS, clients_for

    s3, _, _ = clients_for(seeded_server)
    history = tmp_path / "history"
    nights = (("2026-11-23T02:15:00Z", "Enabled"), ("2026-11-24T02:15:00Z", "Suspended"),
              ("2026-11-25T02:15:00Z", "Suspended"))
    for now, status in nights:
        s3.put_bucket_versioning(Bucket="amply-storage-prod", VersioningConfiguration={"Status": status})
        CliRunner().invoke(main, ["audit", "--specs", str(SPECS), "--endpoint-url", seeded_server,
                                  "--history", str(history), "--history-keep", "2", "--now", now,
                                  "--out", str(tmp_path / "out")], catch_exceptions=False)
    visit = Visit(browser, tmp_path / "out" / "drift-report.html")
    try:
        assert visit.problems() == []
        assert visit.page.locator("#trend svg circle").count() == 4  # two kept runs x drift, error
        titles = visit.page.locator("#trend svg circle title").all_text_contents()
        assert titles[0].startswith("2026-11-24T02:15:00Z: 1 drift, 0 error")
        assert titles[1].startswith("2026-11-25T02:15:00Z: 1 drift, 0 error")
    finally:
        visit.close()
