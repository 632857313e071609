"""Headless Chromium for the HTML tests and the screenshot script: where it is, how it starts.

Debian's `chromium` package, driven by Playwright (its Python package talks to the browser
over the DevTools protocol; Playwright's own browser download is not used). The machine has
no internet, so everything that would phone home is off, and each start gets a fresh profile.
"""

from __future__ import annotations

import os
import shutil

CHROMIUM = os.environ.get("S3AUDIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None
