"""Two-step sign-in in Chromium on a phone (390×844, Japanese): set it up from the QR code on the
screen, keep the recovery codes, sign out and in again with a code. Screenshots go to
test-artifacts/two-factor-*.png for a person to look at."""
from __future__ import annotations

import io
import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import zxingcpp
from PIL import Image

from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll
from tests.office.conftest import PASSWORD, Office

pytestmark = pytest.mark.browser


@pytest.fixture
def office(app):
    app.config["WTF_CSRF_ENABLED"] = True  # the real forms, tokens and all
    return Office(app).build()


def sign_in_with_password(page, live_server: str, username: str) -> None:
    page.goto(f"{live_server}/office/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.o-form button[type=submit]")


def test_a_clerk_sets_up_two_step_sign_in_on_a_phone_and_signs_in_with_a_code(
        app, office, new_page, live_server, screenshot):
    page = new_page(viewport=PHONE, locale="ja-JP")
    sign_in_with_password(page, live_server, "clerk")
    page.wait_for_url(f"{live_server}/desk/")  # a clerk's start page
    page.click("a.office-nav__account")
    page.wait_for_url(f"{live_server}/office/account/two-factor")
    page.click("form.o-actions button[type=submit]")
    page.wait_for_selector("svg.o-totp__qr")
    assert_no_horizontal_scroll(page)
    screenshot(page, "two-factor-1-enrol-phone")

    # What the authenticator app reads off the screen: the QR code, scanned from a screenshot.
    shot = Image.open(io.BytesIO(page.locator("svg.o-totp__qr").screenshot()))
    [barcode] = zxingcpp.read_barcodes(shot)
    uri = urlparse(barcode.text)
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Outreach%20Desk:clerk")
    secret = parse_qs(uri.query)["secret"][0]
    assert page.inner_text(".o-totp__secret").replace(" ", "").replace("\n", "") == secret
    phone = pyotp.TOTP(secret)

    page.fill("input[name=code]", phone.now())
    page.click("form.o-form button.button--primary")
    page.wait_for_selector("ol.o-totp__codes")
    codes = page.locator("ol.o-totp__codes code").all_inner_texts()
    assert len(codes) == 10
    assert_no_horizontal_scroll(page)
    screenshot(page, "two-factor-2-recovery-codes-phone")
    page.click("a.button--primary")
    page.wait_for_url(lambda url: "/two-factor" not in url)

    page.click("form.office-nav__user button[type=submit]")
    page.wait_for_url(f"{live_server}/office/login")
    sign_in_with_password(page, live_server, "clerk")
    page.wait_for_url(f"{live_server}/office/login/code")
    page.click("details.o-totp__recovery summary")
    assert_no_horizontal_scroll(page)
    screenshot(page, "two-factor-3-code-phone")
    # The next time step's code: the enrolment took the present one.
    page.fill("#code", phone.generate_otp(int(time.time()) // 30 + 1))
    page.click("form.o-form button.button--primary")
    page.wait_for_url(f"{live_server}/desk/")
    assert page.locator("a.office-nav__account").is_visible()


def test_the_admins_user_page_shows_the_reset_at_desktop_size(app, office, new_page, live_server, screenshot):
    from booking.extensions import db
    from booking.models import User

    with app.app_context():
        clerk = db.session.get(User, office.ids["user_clerk"])
        clerk.totp_secret = "sealed"  # shown as on; the page never reads the secret
        from booking.localtime import utcnow

        clerk.totp_enabled_at = utcnow()
        db.session.commit()
    page = new_page(viewport=DESKTOP, locale="ja-JP")
    sign_in_with_password(page, live_server, "admin")
    page.wait_for_url(f"{live_server}/office/")
    page.goto(f"{live_server}/office/users/{office.ids['user_clerk']}")
    assert page.locator("form[action$='/two-factor/reset'] button").is_visible()
    screenshot(page, "two-factor-4-admin-user-page")
