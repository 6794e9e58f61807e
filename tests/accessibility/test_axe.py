"""Booker and desk pages meet WCAG 2.1 AA as far as axe-core can tell: no serious or critical
violation, in Japanese and English, on a phone (booker) and a desk screen (desk)."""
from __future__ import annotations

import pytest

from booking.extensions import db
from booking.models import Staff
from booking.services import accounts, reservations
from tests.accessibility.conftest import axe_violations
from tests.browser.conftest import DESKTOP, TABLET

PASSWORD = "correct horse battery"


@pytest.fixture
def booked_token(app, world):
    with app.test_request_context():
        staff = db.session.get(Staff, world.staff_id)
        reservation = reservations.reserve(world.slot_ids[0], staff, dependent_ids=[world.dependent_id])
        db.session.commit()
        return reservations.manage_token(reservation), reservation.id


@pytest.fixture
def clerk(app):
    with app.app_context():
        accounts.ensure_user("desk-clerk", "clerk", password=PASSWORD)
        db.session.commit()
    return "desk-clerk"


def _check(page, url: str) -> list[dict]:
    response = page.goto(url)
    assert response.status < 400, (url, response.status)
    return axe_violations(page)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_booker_pages_have_no_serious_or_critical_violations(a11y_page, live_server, world, lang):
    page = a11y_page()
    token = world.invitation_token
    found = {}
    for url in ("/", f"/i/{token}", f"/i/{token}/sessions/{world.session_id}"):
        found[url] = _check(page, f"{live_server}{url}?lang={lang}")
    # Book, then the confirmation, move and cancel pages.
    page.goto(f"{live_server}/i/{token}/sessions/{world.session_id}?lang={lang}")
    page.locator("input[name=slot_id]").first.check()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/r/**")
    manage = page.url.split("?")[0]
    found["confirmation"] = axe_violations(page)
    for suffix in ("/move", f"/move/{world.session_id}", "/cancel"):
        found[suffix] = _check(page, f"{manage}{suffix}?lang={lang}")
    assert {url: v for url, v in found.items() if v} == {}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_desk_pages_have_no_serious_or_critical_violations(a11y_page, live_server, world, booked_token, clerk, lang):
    page = a11y_page(viewport=TABLET)
    page.goto(f"{live_server}/office/login?lang={lang}")
    found = {"login": axe_violations(page)}
    page.fill("input[name=username]", clerk)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
    _token, reservation_id = booked_token
    for url in ("/desk/", f"/desk/sessions/{world.session_id}", f"/desk/sessions/{world.session_id}/scan",
                f"/desk/reservations/{reservation_id}", f"/desk/sessions/{world.session_id}/walk-in",
                "/desk/no-shows"):
        found[url] = _check(page, f"{live_server}{url}")
    # The offline desk as the clerk uses it: its list drawn by the script, a booking's application panel open.
    offline = f"/desk/sessions/{world.session_id}/offline"
    page.goto(f"{live_server}{offline}")
    page.wait_for_selector("[data-reservation]")
    page.locator("[data-check-in]").first.click()
    page.locator("[data-app-for] summary").first.click()
    found[offline] = axe_violations(page)
    assert {url: v for url, v in found.items() if v} == {}


def test_the_error_and_lockout_pages_have_no_serious_or_critical_violations(a11y_page, live_server):
    page = a11y_page(viewport=DESKTOP)
    page.goto(f"{live_server}/i/not-a-real-invitation")
    assert axe_violations(page) == []


def test_the_checker_itself_catches_a_violation(a11y_page, live_server):
    """The harness is live: an unlabeled button added to a page is reported."""
    page = a11y_page()
    page.goto(f"{live_server}/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<button id=\"bad\"></button>')")
    assert any(v["id"] == "button-name" for v in axe_violations(page))
