"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser).

Pages are served over real HTTP by the ``live_server`` fixture of tests/conftest.py.
Screenshots go to test-artifacts/ (git-ignored) so that a person can look at them.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
TABLET = {"width": 1024, "height": 768}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser(playwright_driver):
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium (as .ci/run does)")
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser):
    """Open a page with a viewport and locale; closed after the test."""
    contexts = []

    def open_page(viewport=PHONE, locale="ja-JP", **options):
        context = browser.new_context(viewport=viewport, locale=locale, **options)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def assert_no_horizontal_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px at {page.url}"


def sign_in_office(page, live_server: str, username: str, password: str) -> None:
    """Sign in on the office's page and wait for the office's home page."""
    page.goto(f"{live_server}/office/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.o-form button[type=submit]")
    page.wait_for_url(f"{live_server}/office/")
