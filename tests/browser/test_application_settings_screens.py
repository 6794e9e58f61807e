"""The section's application settings at desktop size (1366 × 768): municipalities, identity
documents, the campaign's application settings, the staff record's town, the mail-or-counter
report and the roster's flag. Screenshots go to test-artifacts/ to be looked at."""
from __future__ import annotations

import pytest

from booking.extensions import db
from booking.services import accounts, directory, municipalities, reservations
from booking.services.actor import Actor
from tests.browser.conftest import DESKTOP, assert_no_horizontal_scroll

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture
def settings_world(app, world):
    with app.test_request_context(base_url="http://localhost"):
        municipalities.save(Actor.system(), code="072010", name="福島市", is_home=True)
        municipalities.save(Actor.system(), code="073016", name="伊達市")
        municipalities.save(Actor.system(), code="073032", name="桑折町")
        staff = directory.staff_by_number(world.staff_number)
        staff.municipality_code = "073032"
        reservations.reserve(world.slot_ids[0], staff, dependent_ids=[world.dependent_id])
        accounts.ensure_user("settings-admin", "admin", password=PASSWORD)
        db.session.commit()
    return world


def test_the_settings_pages_at_desktop_size(live_server, new_page, settings_world, screenshot):
    page = new_page(viewport=DESKTOP, locale="ja-JP")
    page.goto(f"{live_server}/office/login")
    page.fill("input[name=username]", "settings-admin")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    shots = {
        "settings-municipalities": "/office/municipalities",
        "settings-identity-documents": "/office/identity-documents",
        "settings-campaign": f"/office/campaigns/{settings_world.campaign_id}/edit",
        "settings-staff": f"/office/staff/{settings_world.staff_id}",
        "settings-delivery-report": "/reports/delivery",
        "settings-roster-flag": f"/chiefs/sessions/{settings_world.session_id}/roster",
    }
    for name, path in shots.items():
        response = page.goto(f"{live_server}{path}")
        assert response.status == 200, path
        screenshot(page, name)
        if name != "settings-roster-flag":  # the roster is an A4 sheet, wider than a laptop on purpose
            assert_no_horizontal_scroll(page)
    assert "桑折町" in page.inner_text("body")
