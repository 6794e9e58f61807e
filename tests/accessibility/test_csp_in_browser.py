"""The pages work under their own Content-Security-Policy: Chromium, enforcing it, reports no
blocked script, style or image on the booker's path, the desk pages and the office pages."""
from __future__ import annotations

import pytest

from booking.extensions import db
from booking.services import accounts
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TABLET  # noqa: F401

PASSWORD = "correct horse battery"


@pytest.fixture
def enforcing_page(a11y_browser):
    context = a11y_browser.new_context(viewport=TABLET, locale="ja-JP")  # CSP enforced (no bypass)
    page = context.new_page()
    blocked = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.add_init_script("""document.addEventListener('securitypolicyviolation',
        (e) => console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));""")
    yield page, blocked
    context.close()


def test_booker_desk_and_office_pages_break_no_csp_rule(app, enforcing_page, live_server, world):
    page, blocked = enforcing_page
    with app.app_context():
        accounts.ensure_user("csp-admin", "admin", password=PASSWORD)
        db.session.commit()
    token = world.invitation_token
    for url in ("/", f"/i/{token}", f"/i/{token}/sessions/{world.session_id}"):
        page.goto(f"{live_server}{url}")
    page.locator("input[name=slot_id]").first.check()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/r/**")
    manage = page.url.split("?")[0]
    for suffix in ("/move", "/cancel"):
        page.goto(manage + suffix)
    page.goto(f"{live_server}/office/login")
    page.fill("input[name=username]", "csp-admin")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
    for url in ("/office/", "/office/staff", f"/office/campaigns/{world.campaign_id}", "/desk/",
                f"/desk/sessions/{world.session_id}", f"/desk/sessions/{world.session_id}/scan",
                f"/desk/sessions/{world.session_id}/offline", "/reports/", "/chiefs/"):
        page.goto(f"{live_server}{url}")
        page.wait_for_load_state("networkidle")
    assert blocked == []


def test_the_listener_does_hear_a_blocked_inline_style(enforcing_page, live_server):
    page, blocked = enforcing_page
    page.goto(f"{live_server}/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<div style=\"color: red\">x</div>')")
    page.wait_for_timeout(200)
    assert any("style-src" in text for text in blocked), blocked
