"""Headless Debian Chromium driven by Playwright: skipped on a laptop without it, required in CI.

Debian's chromium-headless-shell (the same Chromium, without the browser's window machinery:
Playwright's own choice for headless runs) is used where it is installed: a page audited in it
costs about a fifth less CPU than in the full browser. Otherwise /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"
CHROMIUM = os.environ.get(
    "FACTBOOK_CHROMIUM", HEADLESS_SHELL if os.path.exists(HEADLESS_SHELL) else "/usr/bin/chromium"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Each page is a fresh JavaScript world in which axe-core runs twice: V8's top compiler
    # (Turbofan) never pays back there. Without it, Maglev's code: the same results, ~5% less CPU.
    "--js-flags=--max-opt=2",
]


def require_chromium() -> None:
    """Skip the test without Chromium and Playwright, unless in CI, where that is a failure."""
    missing = []
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        missing.append(f"Chromium at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if missing:
        reason = "needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}, which CI must install (.ci/run)")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Yield one Playwright browser running Debian's Chromium for the whole session (per worker)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def chromium(browser: Any) -> Iterator[Any]:
    """Yield a fresh browser context (its own cookies and storage) on the session's browser."""
    context = browser.new_context()
    try:
        yield context
    finally:
        context.close()
