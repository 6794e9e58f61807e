"""The booker's path on a phone, in Chromium: invitation → session → slot → confirmation → cancel.

Every page is checked for sideways scrolling and thumb-sized targets, and saved as a
screenshot at 390×844 and at 1366×768 under test-artifacts/ for a person to look at.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from booking.extensions import db
from booking.models import Campaign, Slot, Staff
from booking.services import invitations

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

CODE = re.compile(r"^[ACEFHJKMNPRTWXY34679]{3}-[ACEFHJKMNPRTWXY34679]{3}$")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
#: Apple and Google ask for touch targets of at least 44 CSS pixels.
THUMB = 44
TARGETS = ".session-card[href], .slot label, .button, .lang-switch a, .back a, .person, .field__input"


class Taps:
    """Taps the way a thumb does, and counts them."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def tap(self, locator, *, navigates: bool = True) -> None:
        self.count += 1
        if navigates:
            with self.page.expect_navigation():
                locator.tap()
        else:
            locator.tap()


@pytest.fixture
def phone(new_page):
    return new_page(viewport=PHONE, locale="ja-JP", has_touch=True)


@pytest.fixture
def look(screenshot):
    """Check a page as a person would at phone size and at desktop size, and keep both screenshots."""

    def check(page, name: str) -> None:
        for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(viewport)
            overflow = page.evaluate(
                "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {label} size"
            if label == "phone":
                assert_thumb_sized(page, name)
            # A viewport as tall as the page, so the sticky button bar is drawn where it ends up
            # (a full-page shot of the short viewport paints it over the middle of the page).
            height = page.evaluate("document.documentElement.scrollHeight")
            page.set_viewport_size({"width": viewport["width"], "height": max(height, viewport["height"])})
            screenshot(page, f"booker-{name}-{label}")
        page.set_viewport_size(PHONE)

    return check


def assert_thumb_sized(page, name: str) -> None:
    small = page.evaluate(
        """([selector, min]) => [...document.querySelectorAll(selector)]
            .filter(el => el.offsetParent !== null)
            .map(el => [el.textContent.trim().slice(0, 30), el.getBoundingClientRect()])
            .filter(([, r]) => r.height < min || r.width < min)
            .map(([text, r]) => `${text} (${Math.round(r.width)}×${Math.round(r.height)})`)""",
        [TARGETS, THUMB],
    )
    assert not small, f"targets smaller than {THUMB}px on {name}: {small}"


def assert_qr_loaded(page) -> None:
    page.wait_for_function("() => { const img = document.querySelector('img.qr'); return img && img.complete; }")
    assert page.eval_on_selector("img.qr", "img => img.naturalWidth") > 0


def assert_calendar_file(page) -> None:
    href = page.get_attribute("a[href$='calendar.ics']", "href")
    response = page.request.get(urljoin(page.url, href))
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.text().startswith("BEGIN:VCALENDAR")


def assert_prints_on_one_a4_page(page, name: str) -> None:
    """print.css keeps the confirmation, with its QR code, on one sheet of A4."""
    pdf = page.pdf(format="A4", print_background=True)
    (ARTIFACTS / f"booker-{name}-print.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    page.emulate_media(media="print")
    assert page.locator("img.qr").is_visible()
    assert not page.locator(".actions").is_visible()
    page.emulate_media(media="screen")


def test_booker_books_in_japanese_in_three_taps_then_cancels(phone, live_server, world, look):
    page = phone
    taps = Taps(page)
    page.goto(f"{live_server}/i/{world.invitation_token}")
    assert page.get_attribute("html", "lang") == "ja"
    assert page.locator("h1").first.inner_text() == "出張申請"
    assert "日程" in page.inner_text(".steps__item--current")
    assert "あなたの所属" in page.locator(".session-card").first.inner_text()
    look(page, "ja-1-invitation")

    taps.tap(page.locator("a.session-card").first)
    assert "/sessions/" in page.url
    assert "申請する人" in page.inner_text("main")
    look(page, "ja-2-choose-slot")

    taps.tap(page.locator(".slot:not(.slot--closed) label").first, navigates=False)
    taps.tap(page.get_by_role("button", name="予約する"))
    assert "/r/" in page.url
    assert taps.count <= 3

    assert "予約が完了しました" in page.inner_text(".banner")
    code = page.inner_text(".code")
    assert CODE.match(code), code
    assert float(page.eval_on_selector(".code", "el => parseFloat(getComputedStyle(el).fontSize)")) >= 40
    details = page.inner_text(".details")
    assert "15:00–15:10" in details and "中央消防署 会議室" in details and "福島市天神町11-28" in details
    assert re.search(r"\d+月\d+日\([月火水木金土日]\)", details)
    assert "本人確認書類" in page.inner_text(".bring")
    assert page.get_by_role("link", name="カレンダーに追加").is_visible()
    assert_qr_loaded(page)
    assert_calendar_file(page)
    manage_url = page.inner_text(".link-box")
    assert manage_url.startswith("http") and "/r/" in manage_url
    look(page, "ja-3-confirmation")
    assert_prints_on_one_a4_page(page, "ja-3-confirmation")

    page.goto(f"{live_server}/i/{world.invitation_token}")
    assert page.inner_text(".code") == code, "reopening the invitation shows the reservation"

    taps.tap(page.get_by_role("link", name="予約をキャンセルする"))
    assert "予約をキャンセルしますか？" in page.inner_text("h1")
    look(page, "ja-4-cancel-confirm")
    taps.tap(page.get_by_role("button", name="キャンセルする"))
    assert "予約をキャンセルしました" in page.inner_text(".flashes")
    assert "キャンセルされています" in page.inner_text(".ticket")
    assert page.locator("img.qr").count() == 0
    look(page, "ja-5-after-cancel")


def test_booker_books_in_english_in_three_taps_then_moves_and_cancels(phone, live_server, world, look):
    page = phone
    taps = Taps(page)
    page.goto(f"{live_server}/i/{world.invitation_token}?lang=en")
    assert page.get_attribute("html", "lang") == "en"
    assert "Choose a date and place" in page.inner_text("main")
    look(page, "en-1-invitation")

    taps.tap(page.locator("a.session-card").first)
    assert page.get_attribute("html", "lang") == "en", "the cookie keeps English"
    assert "Who applies?" in page.inner_text("main")
    look(page, "en-2-choose-slot")
    taps.tap(page.locator(".slot:not(.slot--closed) label").nth(1), navigates=False)
    taps.tap(page.get_by_role("button", name="Book this time"))
    assert taps.count <= 3

    assert "Your reservation is confirmed." in page.inner_text(".banner")
    assert CODE.match(page.inner_text(".code"))
    assert "15:10–15:20" in page.inner_text(".details")
    assert re.search(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d+ [A-Z][a-z]+", page.inner_text(".details"))
    assert_qr_loaded(page)
    assert_calendar_file(page)
    look(page, "en-3-confirmation")

    page.get_by_role("link", name="Change the time").tap()
    page.wait_for_url("**/move")
    assert "Your current booking" in page.inner_text(".current")
    look(page, "en-4-move")
    with page.expect_navigation():
        page.locator("a.session-card").first.tap()
    assert page.locator(".slot--current").count() == 1
    page.locator(".slot:not(.slot--closed) label").last.tap()
    look(page, "en-5-move-to-slot")
    with page.expect_navigation():
        page.get_by_role("button", name="Move to this time").tap()
    assert "has been changed" in page.inner_text(".flashes")
    assert "15:50–16:00" in page.inner_text(".details")
    look(page, "en-6-after-move")

    with page.expect_navigation():
        page.get_by_role("link", name="Cancel the reservation").tap()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, cancel it").tap()
    assert "This reservation is cancelled." in page.inner_text(".ticket")
    assert page.get_by_role("link", name="Book again").is_visible()
    look(page, "en-7-after-cancel")


def test_staff_member_without_the_link_signs_in_with_number_and_code(phone, live_server, world, look):
    page = phone
    page.goto(f"{live_server}/")
    assert "職員番号" in page.inner_text("form")
    look(page, "ja-identify")

    page.fill("#staff_number", world.staff_number)
    page.fill("#invitation_code", "WRONGCODE")
    with page.expect_navigation():
        page.get_by_role("button", name="次へ").tap()
    assert "正しくありません" in page.inner_text(".flash--error")
    assert page.input_value("#staff_number") == world.staff_number
    look(page, "ja-identify-wrong-code")

    page.fill("#invitation_code", world.invitation_code.lower())
    with page.expect_navigation():
        page.get_by_role("button", name="次へ").tap()
    assert f"/i/{world.invitation_token}" in page.url
    assert page.locator("a.session-card").count() == 1


def test_a_full_slot_keeps_the_page_and_the_choices(app, phone, live_server, world, look):
    page = phone
    page.goto(f"{live_server}/i/{world.invitation_token}/sessions/{world.session_id}")
    page.locator(f"label[for='dep-{world.dependent_id}']").tap()
    page.locator(f"label[for='slot-{world.slot_ids[0]}']").tap()

    # Meanwhile others take a seat at 15:00 and both at 15:10: the two can no longer sit together.
    for (number, code), slot in zip(world.add_staff(3), (0, 1, 1)):
        taken = app.test_client().post("/api/v1/reservations", json={
            "slot_id": world.slot_ids[slot], "staff_number": number, "invitation_code": code})
        assert taken.status_code == 201

    with page.expect_navigation():
        page.get_by_role("button", name="予約する").tap()
    assert "/sessions/" in page.url
    assert "別の時間を選" in page.inner_text(".flash--error")
    assert page.is_checked(f"#dep-{world.dependent_id}"), "the dependent stays ticked"
    assert page.locator(".slot input:checked").count() == 0
    look(page, "ja-error-slot-full")


def test_error_pages_say_what_to_do(app, phone, live_server, world, look):
    page = phone
    response = page.goto(f"{live_server}/i/not-a-real-invitation")
    assert response.status == 404
    assert "招待" in page.inner_text(".error-page")
    assert page.get_by_role("link", name="職員番号で予約ページを開く").is_visible()
    look(page, "ja-error-invalid-link")

    with app.app_context():
        invitations.issue(db.session.get(Staff, world.staff_id))
        db.session.commit()
    response = page.goto(f"{live_server}/i/{world.invitation_token}")
    assert response.status == 404, "a revoked link is refused"

    app.config["INVITATION_ATTEMPTS_LIMIT"] = "2 per 15 minutes"
    page.goto(f"{live_server}/")
    for _ in range(3):
        page.fill("#staff_number", world.staff_number)
        page.fill("#invitation_code", "AAAAAAAA")
        with page.expect_navigation():
            page.get_by_role("button", name="次へ").tap()
    assert "試行回数が多すぎます" in page.inner_text("h1")
    assert re.search(r"\d{2}:\d{2} 以降", page.inner_text(".error-page__when"))
    look(page, "ja-error-too-many-attempts")


def test_closed_booking_says_so(app, phone, live_server, world, look):
    with app.app_context():
        campaign = db.session.get(Campaign, world.campaign_id)
        campaign.booking_closes_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    page = phone
    page.goto(f"{live_server}/i/{world.invitation_token}")
    assert "予約できる日程はありません" in page.inner_text("h1")
    look(page, "ja-error-booking-closed")


def test_the_whole_path_works_with_javascript_turned_off(new_page, live_server, world):
    page = new_page(viewport=PHONE, locale="ja-JP", java_script_enabled=False)
    page.goto(f"{live_server}/i/{world.invitation_token}")
    with page.expect_navigation():
        page.locator("a.session-card").first.click()
    page.locator(f"label[for='dep-{world.dependent_id}']").click()
    page.locator(".slot:not(.slot--closed) label").first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="予約する").click()
    assert CODE.match(page.inner_text(".code"))
    assert "佐藤 陽子" in page.inner_text(".details")
    with page.expect_navigation():
        page.get_by_role("link", name="予約をキャンセルする").click()
    with page.expect_navigation():
        page.get_by_role("button", name="キャンセルする").click()
    assert "キャンセルされています" in page.inner_text(".ticket")


def test_ticking_family_members_greys_out_the_times_without_enough_seats_and_unticking_brings_them_back(
        app, phone, live_server, world, look):
    # One of the two seats of 15:00 is gone and 15:10 is full: a party of two cannot start at 15:00.
    for (number, code), slot in zip(world.add_staff(3), (0, 1, 1)):
        taken = app.test_client().post("/api/v1/reservations", json={
            "slot_id": world.slot_ids[slot], "staff_number": number, "invitation_code": code})
        assert taken.status_code == 201
    page = phone
    page.goto(f"{live_server}/i/{world.invitation_token}/sessions/{world.session_id}")
    first = page.locator(f"#slot-{world.slot_ids[0]}")
    hint = page.locator("[data-seats-hint]")
    assert first.is_enabled() and hint.is_hidden()

    page.locator(f"label[for='dep-{world.dependent_id}']").tap()  # two people now
    expect(first).to_be_disabled()
    expect(hint).to_be_visible()
    assert page.locator(f"#slot-{world.slot_ids[2]}").is_enabled()
    look(page, "ja-slots-greyed-for-two")

    page.locator(f"label[for='dep-{world.dependent_id}']").tap()  # alone again
    expect(first).to_be_enabled()
    expect(hint).to_be_hidden()


def test_a_family_of_four_on_a_two_desk_session_books_in_three_taps_plus_the_ticks(app, phone, live_server, world,
                                                                                 look):
    from booking.services import directory
    from booking.services.actor import Actor

    with app.test_request_context():
        staff = directory.staff_by_number(world.staff_number)
        for given, kana, born in (("大翔", "ヒロト", date(2016, 5, 1)), ("結衣", "ユイ", world.session_day.replace(
                year=world.session_day.year - 1) + timedelta(days=30))):
            directory.add_dependent(Actor.system(), staff, family_name="佐藤", given_name=given,
                                    family_name_kana="サトウ", given_name_kana=kana, relation="子", birth_date=born)
        db.session.commit()
    page = phone
    taps = Taps(page)
    page.goto(f"{live_server}/i/{world.invitation_token}")
    taps.tap(page.locator("a.session-card").first)
    people = page.locator(".people")
    assert "法定代理人" in people.inner_text() and "顔写真は不要" in people.inner_text()
    for box in page.locator("input[name='dependent_ids']").all():
        page.locator(f"label[for='{box.get_attribute('id')}']").tap()  # the ticks: three dependents
    # Four people, two desks: 15:00 seats two and 15:10 the other two, so 15:00 stays open; 15:50,
    # the last time, cannot seat four.
    expect(page.locator(f"#slot-{world.slot_ids[0]}")).to_be_enabled()
    expect(page.locator(f"#slot-{world.slot_ids[5]}")).to_be_disabled()
    look(page, "ja-family-of-four-choose")
    taps.tap(page.locator(f"label[for='slot-{world.slot_ids[0]}']"), navigates=False)
    taps.tap(page.get_by_role("button", name="予約する"))
    assert taps.count <= 3
    assert "予約が完了しました" in page.inner_text(".banner")
    details = page.inner_text(".details")
    assert "4人、15:00–15:20" in details
    assert details.count("15:10から") == 2 and details.count("15:00から") == 2
    look(page, "ja-family-of-four-confirmation")
    with app.app_context():
        assert [db.session.get(Slot, i).seats_taken for i in world.slot_ids] == [2, 2, 0, 0, 0, 0]
