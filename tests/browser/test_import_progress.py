"""The staff import's progress in Chromium, at 390×844 and 1366×768: the checking state of the upload
form, the bar moving by itself (static JS polling the JSON), the end, a stopped import, and the page
reloading itself when JavaScript is off.

Screenshots go to test-artifacts/import-*.png for a person to look at.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from booking.extensions import db
from booking.models import Unit
from booking.services import directory
from booking.services.actor import Actor
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll, sign_in_office
from tests.office.conftest import PASSWORD, Office
from tests.office.import_steps import Gate

pytestmark = pytest.mark.browser

HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"


def staff_file(count: int, unit=lambda n: "A" if n % 2 else "B") -> bytes:
    lines = [HEADER] + [f"{800_000 + n},消防,{n}郎,ショウボウ,タロウ,{unit(n)},{n % 3 + 1}部,,,none"
                        for n in range(count)]
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


@pytest.fixture
def office(app):
    app.config["WTF_CSRF_ENABLED"] = True
    app.config["STAFF_IMPORT_CHUNK_LINES"] = 500
    return Office(app).build()


@pytest.fixture
def admin_page(new_page, live_server, office):
    def open_page(viewport, **options):
        page = new_page(viewport=viewport, locale="ja-JP", **options)
        sign_in_office(page, live_server, "admin", PASSWORD)
        return page

    return open_page


def upload_and_confirm(page, live_server, data: bytes, *, shoot=None):
    page.goto(f"{live_server}/office/staff/import")
    page.set_input_files("input[name=file]", files=[{"name": "職員名簿.csv", "mimeType": "text/csv", "buffer": data}])
    if shoot:
        # Keep the browser on the form a moment (the submission is held back after the page's own
        # script has run) to look at the "checking the file" state, then send it.
        page.evaluate("""document.getElementById('import-upload').addEventListener(
            'submit', function (event) { event.preventDefault(); }, {once: true})""")
    page.click("#import-upload button[type=submit]")
    if shoot:
        expect(page.locator("#import-upload [data-role=checking]")).to_be_visible()
        expect(page.locator("#import-upload button[type=submit]")).to_be_disabled()
        shoot(page)
        page.evaluate("document.getElementById('import-upload').submit()")
    page.wait_for_selector("form.o-confirm")
    page.click("form.o-confirm button[type=submit]")
    page.wait_for_url(f"{live_server}/office/staff/import/*/progress")


@pytest.mark.parametrize("viewport,size", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_the_progress_bar_moves_by_itself_and_ends_with_the_counts(app, admin_page, live_server, screenshot,
                                                                    monkeypatch, viewport, size):
    gate = Gate(monkeypatch, after=2)
    page = admin_page(viewport)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    upload_and_confirm(page, live_server, staff_file(3000),
                       shoot=lambda p: screenshot(p, f"import-0-checking-{size}"))
    assert gate.reached.wait(60)
    page.reload()
    bar = page.locator("progress.o-progress__bar")
    assert (bar.get_attribute("max"), bar.get_attribute("value")) == ("3000", "1000")
    expect(page.locator("[data-role=lines]")).to_have_text("3,000 行中 1,000 行")
    expect(page.locator("[data-role=links]")).to_be_hidden()
    screenshot(page, f"import-1-running-{size}")
    assert_no_horizontal_scroll(page)
    gate.go.set()
    # No reload from here on: the script polls and updates the page.
    expect(page.locator("#import-progress")).to_have_attribute("data-state", "done", timeout=60_000)
    assert bar.evaluate("b => [b.max, b.value]") == [3000, 3000]
    expect(page.locator("[data-role=lines]")).to_have_text("3,000 行中 3,000 行")
    expect(page.locator("[data-role=created]")).to_have_text("3,000")
    expect(page.locator("[data-role=title]")).to_have_text("取り込みが完了しました")
    expect(page.locator("[data-role=message]")).to_contain_text("新規 3,000 件")
    expect(page.locator("[data-role=links]")).to_be_visible()
    screenshot(page, f"import-2-done-{size}")
    assert_no_horizontal_scroll(page)
    assert errors == []  # no CSP refusal, no script error
    page.click("[data-role=links] a[href='/office/staff']")
    page.wait_for_url(f"{live_server}/office/staff")


def test_a_stopped_import_says_where_and_what_to_do_on_a_phone(app, admin_page, live_server, screenshot, monkeypatch):
    with app.test_request_context():
        directory.create_unit(Actor.system(), code="C", name="南消防署", parent_code="HQ")
        db.session.commit()
    gate = Gate(monkeypatch, after=1)
    page = admin_page(PHONE)
    upload_and_confirm(page, live_server, staff_file(1500, unit=lambda n: "A" if n < 700 else "C"))
    assert gate.reached.wait(60)
    with app.app_context():
        db.session.delete(db.session.scalar(select(Unit).where(Unit.code == "C")))
        db.session.commit()
    gate.go.set()
    expect(page.locator("#import-progress")).to_have_attribute("data-state", "failed", timeout=60_000)
    expect(page.locator("[data-role=title]")).to_have_text("取り込みが止まりました")
    message = page.locator("[data-role=message]")
    expect(message).to_have_attribute("role", "alert")
    expect(message).to_contain_text("702 行目")
    expect(message).to_contain_text("先頭から 500 行は取り込み済み")
    screenshot(page, "import-3-stopped-phone")
    assert_no_horizontal_scroll(page)


def test_without_javascript_the_page_reloads_itself_until_the_end(app, admin_page, live_server, monkeypatch):
    gate = Gate(monkeypatch, after=1)
    page = admin_page(DESKTOP)
    upload_and_confirm(page, live_server, staff_file(1200))
    assert gate.reached.wait(60)
    url = page.url
    nojs = admin_page(DESKTOP, java_script_enabled=False)
    nojs.goto(url)
    assert nojs.locator("#import-progress").get_attribute("data-state") == "running"
    gate.go.set()
    # The <noscript> meta refresh brings the finished state without any script.
    expect(nojs.locator("#import-progress")).to_have_attribute("data-state", "done", timeout=60_000)
    expect(nojs.locator("[data-role=lines]")).to_have_text("1,200 行中 1,200 行")
    expect(nojs.locator("[data-role=links]")).to_be_visible()
