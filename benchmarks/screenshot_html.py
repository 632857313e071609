"""Screenshots of the HTML report for a 300-bucket, 12-control fleet with 14 nights of history.

    python benchmarks/screenshot_html.py [OUT_DIR]

Builds the report from synthetic results (tests/report/synthetic.py), writes
drift-report.html to OUT_DIR (default /tmp/s3audit-screens) and takes PNGs in headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright): the top of the page, the trend
chart, the matrix scrolled to its middle, and the matrix filtered to drift of tls_only.
Prints the paths. Needs the test extra and `apt-get install chromium`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402 - after the sys.path line

from auditor.report import html  # noqa: E402 - after the sys.path line
from tests.report.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - after the sys.path line
from tests.report.synthetic import big_report  # noqa: E402 - after the sys.path line


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    page_path = out / "drift-report.html"
    page_path.write_text(html.render(big_report(300, 14)), encoding="utf-8")
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        browser = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS),
            viewport={"width": 1400, "height": 1000})
        page = browser.new_page()
        page.goto(page_path.as_uri())
        shots = {
            "top": lambda: page.screenshot(path=str(out / "top.png")),
            "trend": lambda: page.locator("#trend").screenshot(path=str(out / "trend.png")),
            "matrix": lambda: _matrix(page, out / "matrix.png"),
            "filtered": lambda: _filtered(page, out / "filtered.png"),
        }
        for name, shoot in shots.items():
            shoot()
            print(out / f"{name}.png")
        browser.close()


def _matrix(page: object, path: Path) -> None:
    page.locator("#matrix").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    page.evaluate("document.querySelector('.matrix-wrap').scrollTop = 2400")  # type: ignore[attr-defined]
    page.locator("#matrix").screenshot(path=str(path))  # type: ignore[attr-defined]


def _filtered(page: object, path: Path) -> None:
    page.select_option("select[name=control]", "tls_only")  # type: ignore[attr-defined]
    for status in ("pass", "waived", "error"):
        page.uncheck(f"input[name=status][value={status}]")  # type: ignore[attr-defined]
    page.evaluate("document.querySelector('.matrix-wrap').scrollTop = 0")  # type: ignore[attr-defined]
    page.screenshot(path=str(path), full_page=False)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/s3audit-screens"))
