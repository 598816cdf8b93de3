"""Browser fixtures for the end-to-end dashboard tests: Debian's Chromium driven by Playwright.

No browser is ever downloaded: Playwright launches /usr/bin/chromium. Without it (or without a CJK
font, which the screenshots need) the tests fail and say which Debian packages to install.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DEBIAN_PACKAGES = "chromium fonts-wqy-microhei"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    out = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30,
                         check=False).stdout
    return bool(out.strip())


@pytest.fixture(scope="session")
def chromium():
    """A headless Debian Chromium under Playwright's sync API, for the whole session."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium "
                    f"(apt-get install {DEBIAN_PACKAGES}); Playwright never downloads a browser here", pytrace=False)
    if not _has_cjk_font():
        pytest.fail(f"no Chinese font is installed, so the dashboard would render as boxes "
                    f"(apt-get install {DEBIAN_PACKAGES})", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing (pip install playwright; "
                    "no browser download is needed, it drives /usr/bin/chromium)", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()
