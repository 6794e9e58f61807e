"""Issue 16 item 1 in Chromium: no page of any role (booker, clerk, chief, admin) has a field whose
inputmode is "None", "none" or empty once the browser has built it (scripts included), which would
hide the phone's or tablet's keyboard. Every GET page of the app is opened, as in the permission
matrix (tests/security), and its fields read from the DOM."""
from __future__ import annotations

import pytest

from tests.office.conftest import PASSWORD
from tests.security.conftest import build
from tests.security.test_permission_matrix import _requests

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
OFFICE = {"width": 1366, "height": 768}

BAD_FIELDS = """() => [...document.querySelectorAll('[inputmode], input, textarea, select')]
  .filter(e => e.hasAttribute('inputmode') && ['', 'none'].includes(e.getAttribute('inputmode').trim().toLowerCase()))
  .map(e => e.outerHTML.slice(0, 160))"""
#: Pages that are files, redirects or JSON, not forms to type in.
SKIP_SUFFIXES = (".json", ".csv", ".xlsx", ".ics", ".png", ".jpg", "/qr", "/logout", "/template", ".zip")


@pytest.fixture
def sec(app):
    """Every record a route can need (tests/security/conftest.py)."""
    return build(app)


@pytest.mark.parametrize("caller", ["booker", "clerk", "chief_a", "admin"])
def test_no_field_of_any_page_hides_the_keyboard(app, sec, live_server, new_page, caller):
    page = new_page(viewport=PHONE if caller == "booker" else OFFICE)
    if caller != "booker":
        page.goto(f"{live_server}/office/login")
        page.fill("input[name=username]", caller)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_load_state()
    checked, fields, problems = 0, 0, []
    for _rule, method, path in _requests(app, sec):
        if method != "GET" or path.startswith(("/api/", "/static/")) or path.endswith(SKIP_SUFFIXES):
            continue
        response = page.goto(f"{live_server}{path}")
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        checked += 1
        fields += page.locator("input, textarea, select").count()
        problems += [f"{path}: {html}" for html in page.evaluate(BAD_FIELDS)]
    assert checked > 5 and fields > 10, (checked, fields)
    assert problems == []
