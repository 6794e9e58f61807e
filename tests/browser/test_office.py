"""The office's main paths in Chromium at 1366×768: import, sessions, a booking by phone.

Screenshots go to test-artifacts/office-*.png for a person to look at.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import DeskSession, Reservation, Staff
from tests.browser.conftest import DESKTOP, assert_no_horizontal_scroll
from tests.office.conftest import PASSWORD, Office

pytestmark = pytest.mark.browser

HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"


@pytest.fixture
def office(app):
    app.config["WTF_CSRF_ENABLED"] = True  # the real forms, tokens and all
    return Office(app).build()


@pytest.fixture
def office_page(new_page, live_server, office):
    def open_as(username: str):
        page = new_page(viewport=DESKTOP, locale="ja-JP")
        page.goto(f"{live_server}/office/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.o-form button[type=submit]")
        # Each role lands on its own start page (a clerk on the desk).
        page.wait_for_url(lambda url: "/login" not in url)
        return page

    return open_as


def open_menu_entry(page, href: str) -> None:
    """Follow an office menu entry as a person would: open its section first when it has one."""
    section = page.locator(f"nav.office-nav details:has(a[href='{href}'])")
    if section.count():
        section.locator("summary").click()
    page.click(f"nav.office-nav a[href='{href}']")


def staff_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Staff.id)))


def test_an_admin_imports_a_csv_sees_the_bad_line_fixes_it_and_imports(app, office_page, live_server, screenshot):
    page = office_page("admin")
    screenshot(page, "office-1-overview")
    assert_no_horizontal_scroll(page)
    open_menu_entry(page, "/office/staff/import")
    bad_lines = [HEADER, "3001,山田,太郎,ヤマダ,タロウ,A,1部,,,none",
                 "３００２,山田,花子,やまだ,はなこ,Z9,2部,,,none",
                 "3003,伊藤,誠,ｲﾄｳ,ﾏｺﾄ,B,日勤,,,"]
    bad = "\r\n".join(bad_lines) + "\r\n"
    page.set_input_files("input[name=file]", files=[
        {"name": "職員名簿.csv", "mimeType": "text/csv", "buffer": bad.encode("cp932")}])
    page.click("form[enctype] button[type=submit]")
    errors = page.locator("table.o-errors tbody tr")
    assert errors.count() == 1
    assert errors.first.locator("td").nth(0).inner_text() == "3"
    assert errors.first.locator("td").nth(1).inner_text() == "F3"
    assert "Z9" in errors.first.inner_text()
    screenshot(page, "office-2-import-refused")
    assert_no_horizontal_scroll(page)
    assert staff_count(app) == 3

    fixed = bad.replace(",Z9,", ",A1,")
    page.set_input_files("input[name=file]", files=[
        {"name": "職員名簿.csv", "mimeType": "text/csv", "buffer": fixed.encode("cp932")}])
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("form.o-confirm")
    assert page.locator(".o-total--created .o-total__n").inner_text() == "3"
    screenshot(page, "office-3-import-preview")
    assert staff_count(app) == 3
    page.click("form.o-confirm button[type=submit]")
    page.wait_for_url(f"{live_server}/office/staff/import/*/progress")
    # The progress page follows the background job; at the end it offers the staff list.
    expect(page.locator("#import-progress")).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.locator("[data-role=lines]")).to_contain_text("3")
    page.click("[data-role=links] a[href='/office/staff']")
    page.wait_for_url(f"{live_server}/office/staff")
    screenshot(page, "office-4-staff-after-import")
    assert_no_horizontal_scroll(page)
    assert staff_count(app) == 6
    page.fill("input[name=q]", "やまだ")
    page.click("form.o-filters button[type=submit]")
    assert page.locator("table.o-staff tbody tr").count() == 2


def test_an_admin_creates_a_session_and_copies_it_to_two_more_dates(app, office_page, live_server, office,
                                                                    screenshot):
    page = office_page("admin")
    page.goto(f"{live_server}/office/campaigns/{office.ids['campaign']}")
    page.click(f"a[href='/office/campaigns/{office.ids['campaign']}/sessions/new']")
    day = office.session_day + timedelta(days=3)
    page.select_option("select[name=venue_id]", str(office.ids["venue_b"]))
    page.fill("input[name=date]", day.isoformat())
    page.fill("input[name=start_time]", "18:00")
    page.fill("input[name=end_time]", "19:00")
    page.fill("input[name=slot_minutes]", "15")
    page.fill("input[name=desks]", "3")
    # The script asks the server for the plan as the fields change: wait for the last answer
    # (an earlier one, for 10-minute slots, also says 12 seats: 6 slots x 2 desks).
    expect(page.locator("[data-role=slots] li")).to_have_count(4)
    expect(page.locator("[data-role=summary]")).to_contain_text("12")
    screenshot(page, "office-5-session-form")
    assert_no_horizontal_scroll(page)
    page.click("button[value=save]")
    page.wait_for_url(f"{live_server}/office/campaigns/{office.ids['campaign']}*")
    with app.app_context():
        new_id = db.session.scalar(select(DeskSession.id).where(DeskSession.date == day))
    page.click(f"a[href='/office/sessions/{new_id}/copy']")
    page.fill("input[name=dates-0]", (day + timedelta(days=1)).isoformat())
    page.fill("input[name=dates-1]", (day + timedelta(days=2)).isoformat())
    screenshot(page, "office-6-copy-form")
    page.click("form.o-form button[type=submit]")
    page.wait_for_url(f"{live_server}/office/campaigns/{office.ids['campaign']}")
    assert page.locator("table.o-table tbody tr").count() == 4
    screenshot(page, "office-7-campaign-with-copies")
    assert_no_horizontal_scroll(page)
    with app.app_context():
        copies = db.session.scalars(select(DeskSession).where(DeskSession.venue_id == office.ids["venue_b"])).all()
        assert sorted(s.date for s in copies) == [day, day + timedelta(days=1), day + timedelta(days=2)]
        assert all(len(s.slots) == 4 and s.desks == 3 for s in copies)


def test_a_clerk_takes_a_booking_by_phone_and_reads_the_code_out(app, office_page, live_server, office, screenshot):
    page = office_page("clerk")
    open_menu_entry(page, "/office/phone")
    page.fill("input[name=q]", "さとう")
    page.click("form.o-search button[type=submit]")
    page.click("table.o-results a >> nth=0")
    screenshot(page, "office-8-phone-caller")
    assert_no_horizontal_scroll(page)
    page.click(f"a[href='/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}']")
    page.click(f"label[for=slot-{office.ids['slots'][2]}]")
    page.check(f"input[name=dependent_ids][value='{office.ids['spouse']}']")
    screenshot(page, "office-9-phone-choose-time")
    page.click("form.o-form button[type=submit]")
    page.wait_for_selector(".o-readout")
    shown = page.locator(".o-readout").inner_text()
    screenshot(page, "office-10-phone-code")
    assert_no_horizontal_scroll(page)
    with app.app_context():
        reservation = db.session.scalar(select(Reservation))
        assert shown.replace("-", "") == reservation.code
        assert (reservation.channel, reservation.seats, reservation.slot_id) == ("phone", 2, office.ids["slots"][2])


def test_every_office_page_fits_a_1366_wide_screen(app, office_page, live_server, office, screenshot):
    """A tour of the admin's pages, with some bookings in place, each photographed for review."""
    with app.test_request_context():
        from booking.services import reservations

        for number, slot in (("1001", 0), ("1002", 5), ("2001", 5)):
            staff = db.session.scalar(select(Staff).where(Staff.staff_number == number))
            reservations.reserve(office.ids["slots"][slot], staff,
                                 dependent_ids=[d.id for d in staff.dependents])
        db.session.commit()
    page = office_page("admin")
    ids = office.ids
    tour = {
        "users": "/office/users", "user-edit": f"/office/users/{ids['user_chief_a']}", "units": "/office/units",
        "venues": "/office/venues", "staff": "/office/staff?q=さ", "staff-detail": f"/office/staff/{ids['staff_a']}",
        "campaign-edit": f"/office/campaigns/{ids['campaign']}/edit",
        "session-cancel": f"/office/sessions/{ids['session']}/cancel", "audit": "/office/audit",
    }
    for name, path in tour.items():
        page.goto(f"{live_server}{path}")
        screenshot(page, f"office-tour-{name}")
        assert_no_horizontal_scroll(page)
    # Shrinking the session with people booked at 15:50 shows them before anything changes.
    page.goto(f"{live_server}/office/sessions/{ids['session']}/edit")
    page.fill("input[name=end_time]", "15:30")
    page.click("button[value=save]")
    expect(page.locator(".o-conflict tbody tr")).to_have_count(2)
    screenshot(page, "office-tour-session-conflict")
    assert_no_horizontal_scroll(page)
    page.click("button[value=move]")
    page.wait_for_url("**/contacts/**")
    screenshot(page, "office-tour-contacts")
    assert_no_horizontal_scroll(page)
    assert page.locator("table.o-contacts tbody tr").count() == 2


def test_a_clerk_cancels_a_booking_by_phone_after_confirming(app, office_page, live_server, office, screenshot):
    with app.test_request_context():
        from booking.services import reservations

        booked = reservations.reserve(office.ids["slots"][1], db.session.get(Staff, office.ids["staff_a"]))
        db.session.commit()
        booked_id = booked.id
    page = office_page("clerk")
    page.goto(f"{live_server}/office/phone/staff/{office.ids['staff_a']}")
    page.click("details.o-confirm-inline > summary")
    screenshot(page, "office-11-phone-cancel-confirm")
    page.click("details.o-confirm-inline form button")
    expect(page.locator(".flash--success")).to_have_count(1)
    with app.app_context():
        assert db.session.get(Reservation, booked_id).status == "cancelled"


def test_the_office_menu_opens_one_section_at_a_time_and_closes_on_escape(office_page, live_server, new_page,
                                                                        screenshot):
    page = office_page("admin")
    sections = page.locator("nav.office-nav details.office-nav__section")
    assert sections.count() == 5  # an admin sees every section
    staff_link = page.locator("nav.office-nav a[href='/office/staff']")
    expect(staff_link).to_be_hidden()
    section = page.locator("nav.office-nav details:has(a[href='/office/staff'])")
    section.locator("summary").click()
    expect(staff_link).to_be_visible()
    screenshot(page, "office-menu-open")
    # Opening another section closes the first.
    other = page.locator("nav.office-nav details:has(a[href='/office/audit'])")
    other.locator("summary").click()
    expect(staff_link).to_be_hidden()
    expect(page.locator("nav.office-nav a[href='/office/audit']")).to_be_visible()
    # Escape closes it and leaves the keyboard on its heading.
    page.keyboard.press("Escape")
    expect(page.locator("nav.office-nav a[href='/office/audit']")).to_be_hidden()
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    # Keyboard only: Enter on the heading opens it, Tab reaches the first entry.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") is not None
    # The page that is open marks its section.
    page.goto(f"{live_server}/office/staff")
    assert "is-current" in (section.get_attribute("class") or "")


def test_a_clerk_sees_only_the_sections_of_the_pages_they_may_open(office_page):
    page = office_page("clerk")
    hrefs = page.locator("nav.office-nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "/office/phone" in hrefs
    assert not any(h.startswith(("/office/users", "/office/audit", "/office/staff")) for h in hrefs)


def test_an_admin_records_a_child_s_date_of_birth_and_sees_the_age(app, office_page, live_server, office, screenshot):
    from booking.models import Dependent

    page = office_page("admin")
    page.goto(f"{live_server}/office/staff/{office.ids['staff_a']}")
    page.click("details.o-add > summary")
    page.fill("#dep-family_name", "佐藤")
    page.fill("#dep-given_name", "陽向")
    page.fill("#dep-family_name_kana", "サトウ")
    page.fill("#dep-given_name_kana", "ヒナタ")
    page.fill("#dep-relation", "長男")
    assert page.get_attribute("#dep-birth_date", "type") == "date"
    born = office.today - timedelta(days=9 * 365 + 10)  # nine years and a week or so
    page.fill("#dep-birth_date", born.isoformat())  # what the date picker sends
    screenshot(page, "office-dependent-birth-date-form")
    page.click("details.o-add button[type=submit]")
    page.wait_for_url(f"{live_server}/office/staff/{office.ids['staff_a']}#dependents")
    row = page.locator("#dependents tbody tr", has_text="陽向")
    assert f"{born:%Y/%m/%d}（9歳）" in row.inner_text()
    with app.app_context():
        assert db.session.scalar(select(Dependent.birth_date).where(Dependent.given_name == "陽向")) == born

    row.locator("summary").click()  # the edit form shows the date it holds
    assert row.locator("input[name$=birth_date]").input_value() == born.isoformat()
    assert_no_horizontal_scroll(page)
    screenshot(page, "office-dependent-birth-date-listed")
