"""Accessibility fixtures: the browser fixtures of tests/browser, and axe-core injected by Playwright."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def a11y_browser(playwright_driver):
    """Chromium for one module at a time, launched from the process's one Playwright."""
    import shutil

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def a11y_page(a11y_browser):
    """A page whose context bypasses the app's CSP, so that axe can be injected (the app's own
    pages are unchanged: the CSP is tested in tests/security)."""
    contexts = []

    def open_page(viewport=PHONE, locale="ja-JP"):
        context = a11y_browser.new_context(viewport=viewport, locale=locale, bypass_csp=True)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


#: A11Y_IMPACTS=minor,moderate,serious,critical shows the lesser findings too (to look, not to gate).
IMPACTS = tuple(os.environ.get("A11Y_IMPACTS", "serious,critical").split(","))


def axe_run(page) -> dict:
    """axe-core's whole result (WCAG 2.0/2.1 A and AA rules) for the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)


def axe_violations(page, impacts=IMPACTS, *, result: dict | None = None) -> list[dict]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page; the violations of the given impacts."""
    result = result if result is not None else axe_run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5], "summary": v["nodes"][0].get("failureSummary", "")[:300]}
        for v in result["violations"] if v["impact"] in impacts
    ]
