"""The booker's address form on a phone and the office's messages page, in Chromium.

Screenshots: test-artifacts/mail-address-*.png (390×844) and mail-messages*.png (1366×768).
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from booking.extensions import db
from booking.models import Staff
from booking.services import bookings, mail_delivery
from booking.services.actor import Actor
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll, sign_in_office
from tests.office.conftest import PASSWORD, Office

pytestmark = pytest.mark.browser


@pytest.fixture
def office(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return Office(app).build()


def _book(app, office, staff_key="staff_a", slot=0):
    with app.test_request_context(base_url="http://localhost"):
        staff = db.session.get(Staff, office.ids[staff_key])
        reservation = bookings.book(Actor.system(), office.ids["slots"][slot], staff)
        db.session.commit()
        from booking.services.reservations import manage_token

        return manage_token(reservation), reservation.code


def test_the_booker_adds_an_address_on_a_phone(app, office, new_page, live_server, screenshot):
    token, _code = _book(app, office)
    page = new_page(viewport=PHONE, locale="ja-JP")
    page.goto(f"{live_server}/r/{token}")
    expect(page.locator("#mail input[name=email]")).to_be_visible()
    page.fill("input[name=email]", "shota@example")
    page.click("#mail button[type=submit]")
    expect(page.locator("#mail .field__error")).to_be_visible()
    screenshot(page, "mail-address-refused-phone")
    page.fill("input[name=email]", "shota@example.jp")
    page.click("#mail button[type=submit]")
    expect(page.locator("#mail .banner")).to_contain_text("shota@example.jp")
    assert_no_horizontal_scroll(page)
    page.locator("#mail").scroll_into_view_if_needed()
    screenshot(page, "mail-address-sent-phone")


def test_the_admin_reads_the_messages(app, office, new_page, live_server, screenshot):
    with app.app_context():
        db.session.get(Staff, office.ids["staff_a"]).email = "sato@example.jp"
        db.session.commit()
    _book(app, office, "staff_a", 0)
    _book(app, office, "staff_a1", 1)
    with app.app_context():
        mail_delivery.deliver_due()
    page = new_page(viewport=DESKTOP, locale="ja-JP")
    sign_in_office(page, live_server, "admin", PASSWORD)
    page.goto(f"{live_server}/office/messages")
    expect(page.locator("table")).to_contain_text("sato@example.jp")
    assert_no_horizontal_scroll(page)
    screenshot(page, "mail-messages")
    page.locator("table a[href*='/office/messages/']").first.click()
    expect(page.locator("pre.o-mail-text")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "mail-message-text")


def test_the_admin_sets_a_chiefs_address_and_the_reminder_time(app, office, new_page, live_server, screenshot):
    page = new_page(viewport=DESKTOP, locale="ja-JP")
    sign_in_office(page, live_server, "admin", PASSWORD)
    page.goto(f"{live_server}/office/users/{office.ids['user_chief_a']}")
    page.fill("input[name=email]", "chief.a@example.jp")
    screenshot(page, "mail-chief-address")
    page.locator("form.o-form button[type=submit]").first.click()
    page.wait_for_url(f"{live_server}/office/users")
    page.goto(f"{live_server}/office/campaigns/{office.ids['campaign']}/edit")
    page.select_option("select[name=reminder_minutes_before]", "1440")
    assert_no_horizontal_scroll(page)
    screenshot(page, "mail-campaign-reminder")
    page.locator("form.o-form button[type=submit]").click()
    expect(page.locator(".o-facts")).to_contain_text("24時間前")
    with app.app_context():
        from booking.models import Campaign, User

        assert db.session.get(User, office.ids["user_chief_a"]).email == "chief.a@example.jp"
        assert db.session.get(Campaign, office.ids["campaign"]).reminder_minutes_before == 1440
