"""The waiting list's pages (issue 19) meet WCAG 2.1 AA as far as axe-core can tell, in Japanese
and English: the booker's (a phone) and the office's list (an office screen). Screenshots go to
test-artifacts/ for a person to look at."""
from __future__ import annotations

import pytest

from booking.extensions import db
from booking.services import accounts
from tests.accessibility.conftest import axe_violations
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll, screenshot  # noqa: F401
from tests.waitlist.conftest import full  # noqa: F401 - a fixture

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_waiting_list_pages(app, client, a11y_page, live_server, world, full, screenshot, lang):  # noqa: F811
    found = {}
    page = a11y_page(viewport=PHONE, locale="ja-JP" if lang == "ja" else "en-US")
    page.goto(f"{live_server}/i/{world.invitation_token}/sessions/{full.session_id}?lang={lang}")
    found["join"] = axe_violations(page)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"waitlist-join-{lang}")
    page.get_by_role("checkbox").nth(1).check()  # the spouse comes too
    page.locator("[data-waitlist-join] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-place]").get_attribute("data-place") == "1"
    found["place"] = axe_violations(page)
    screenshot(page, f"waitlist-place-{lang}")

    # Both seats free up: the family of two is offered them.
    for reservation in full.booked:
        assert client.post(f"/api/v1/reservations/{reservation['manage_token']}/cancel").status_code == 200
    page.reload()
    assert page.locator("[data-offer]").count() == 1
    found["offer"] = axe_violations(page)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"waitlist-offer-{lang}")

    with app.app_context():
        accounts.ensure_user("wl-clerk", "clerk", password=PASSWORD)
        db.session.commit()
    office = a11y_page(viewport=DESKTOP, locale="ja-JP" if lang == "ja" else "en-US")
    office.goto(f"{live_server}/office/login?lang={lang}")
    office.fill("input[name=username]", "wl-clerk")
    office.fill("input[name=password]", PASSWORD)
    office.locator("form button[type=submit]").first.click()
    office.wait_for_load_state()
    office.goto(f"{live_server}/office/sessions/{full.session_id}/waitlist")
    assert office.locator("[data-status=offered]").count() == 1
    found["office"] = axe_violations(office)
    screenshot(office, f"waitlist-office-{lang}")

    page.locator("[data-offer] + form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/r/" in page.url
    assert {name: v for name, v in found.items() if v} == {}
