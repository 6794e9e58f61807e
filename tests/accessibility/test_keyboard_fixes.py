"""Keyboard and screen-reader defects of issue 16 item 11, in Chromium: the desk's file input shows
its focus (2.4.7), Tab never leaves a time under the sticky 予約する bar (2.4.11), greying out times
is announced (4.1.3), and the desk board's refresh keeps the focus and can be paused (2.2.2)."""
from __future__ import annotations

import pytest

from booking.extensions import db
from booking.models import Reservation, Staff
from booking.services import accounts, directory, reservations
from tests.accessibility import report
from tests.accessibility.test_every_role import DESK, FOCUS_JS

PASSWORD = "correct horse battery"


def _sign_in_clerk(app, page, live_server) -> None:
    with app.app_context():
        accounts.ensure_user("kb-clerk", "clerk", password=PASSWORD)
        db.session.commit()
    page.goto(f"{live_server}/office/login")
    page.fill("input[name=username]", "kb-clerk")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/desk/")


@pytest.fixture
def booked(app, world) -> int:
    with app.test_request_context():
        staff = db.session.get(Staff, world.staff_id)
        reservation = reservations.reserve(world.slot_ids[0], staff, dependent_ids=[world.dependent_id])
        db.session.commit()
        return reservation.id


def test_the_desks_file_input_shows_where_the_keyboard_is(app, a11y_page, live_server, world, booked, client,
                                                          make_token):
    clerk = {"Authorization": f"Bearer {make_token('clerk', username='kb-api')}"}
    with app.app_context():
        code = db.session.get(Reservation, booked).code
    assert client.post("/api/v1/checkins", json={"code": code}, headers=clerk).status_code == 201
    page = a11y_page(viewport=DESK)
    _sign_in_clerk(app, page, live_server)
    page.goto(f"{live_server}/desk/reservations/{booked}")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type === 'file'"):
            break
    else:
        raise AssertionError("the file input was never reached by Tab")
    shown = page.evaluate(FOCUS_JS)["ok"]
    report.record(report.test_id(), page="受付（写真のファイル選択）", url="/desk/reservations/1", role="clerk",
                  viewport=DESK, lang="ja", checks={"2.4.7": ("ファイル選択ボタンのフォーカスが見える", shown)})
    assert shown


def test_tab_never_leaves_a_time_under_the_sticky_book_bar(a11y_page, live_server, world):
    # A short screen, so that the times run under the bar at the bottom.
    page = a11y_page(viewport={"width": 390, "height": 560})
    page.goto(f"{live_server}/i/{world.invitation_token}/sessions/{world.session_id}?lang=ja")
    page.locator("#person-staff").focus()
    hidden = []
    for _ in range(4):  # the spouse's box, then the first times
        page.keyboard.press("Tab")
        box = page.evaluate("""() => {
            const el = document.activeElement;
            const target = el.labels && el.labels[0] ? el.labels[0] : el;
            const bar = document.querySelector('.sticky-actions').getBoundingClientRect();
            const r = target.getBoundingClientRect();
            return {name: el.name, bottom: r.bottom, barTop: bar.top};
        }""")
        if box["name"] == "slot_id" and box["bottom"] > box["barTop"] + 0.5:
            hidden.append(box)
    report.record(report.test_id(), page="時間の選択", url=f"/i/x/sessions/{world.session_id}", role="booker",
                  viewport={"width": 390, "height": 560}, lang="ja",
                  checks={"2.4.11": ("Tab で移った時間が「予約する」の帯に隠れない", not hidden)})
    assert hidden == []


def test_greying_out_times_is_announced_in_a_live_region(app, a11y_page, live_server, world):
    # 15:10 keeps one seat and 15:20 none: one person may start at 15:10, two may not.
    with app.test_request_context():
        unit = directory.unit_by_code("A")
        for number, slot_index in (("3001", 1), ("3002", 2), ("3003", 2)):
            staff = directory.add_staff(staff_number=number, family_name="田中", given_name=number,
                                        family_name_kana="タナカ", given_name_kana="タロウ", unit=unit, crew="2部")
            reservations.reserve(world.slot_ids[slot_index], staff)
        db.session.commit()
    page = a11y_page()
    page.goto(f"{live_server}/i/{world.invitation_token}/sessions/{world.session_id}?lang=en")
    status = page.locator("[data-seats-status]")
    assert status.get_attribute("role") == "status" and status.text_content().strip() == ""
    page.locator(f"#slot-{world.slot_ids[1]}").check()
    page.locator("input[name=dependent_ids]").check()
    page.wait_for_function("document.querySelector('[data-seats-status]').textContent.length > 0")
    said = status.text_content()
    report.record(report.test_id(), page="時間の選択", url=f"/i/x/sessions/{world.session_id}", role="booker",
                  viewport={"width": 390, "height": 844}, lang="en",
                  checks={"4.1.3": ("時間が選べなくなったことをライブリージョンで伝える",
                                    "greyed out" in said and "was unticked" in said)})
    assert "greyed out" in said and "was unticked" in said, said
    assert not page.locator(f"#slot-{world.slot_ids[1]}").is_checked()
    page.locator("input[name=dependent_ids]").uncheck()
    page.wait_for_function("document.querySelector('[data-seats-status]').textContent.includes('again')")


def test_the_desk_board_keeps_the_focus_when_it_refreshes_and_can_be_paused(app, a11y_page, live_server, world,
                                                                           booked):
    page = a11y_page(viewport=DESK)
    _sign_in_clerk(app, page, live_server)
    page.goto(f"{live_server}/desk/sessions/{world.session_id}")
    link = page.locator("[data-rows] a").first
    href = link.get_attribute("href")
    link.focus()
    # What the 15-second timer does, now: the board refetches when the tab is shown again.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_function("document.querySelector('[data-board-url]').hasAttribute('data-refreshed')")
    assert page.evaluate("document.activeElement.getAttribute('href')") == href
    assert page.evaluate("document.activeElement.closest('[data-rows]') !== null")
    # Paused: nothing is fetched until it is resumed.
    pause = page.locator("[data-board-pause]")
    assert pause.is_visible() and pause.get_attribute("aria-pressed") == "false"
    pause.click()
    assert pause.get_attribute("aria-pressed") == "true" and pause.text_content().strip() == pause.get_attribute("data-label-resume")
    page.evaluate("document.querySelector('[data-board-url]').removeAttribute('data-refreshed')")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(500)
    assert not page.evaluate("document.querySelector('[data-board-url]').hasAttribute('data-refreshed')")
    pause.click()
    assert pause.get_attribute("aria-pressed") == "false"
    page.wait_for_function("document.querySelector('[data-board-url]').hasAttribute('data-refreshed')")
    report.record(report.test_id(), page="受付ボード", url=f"/desk/sessions/{world.session_id}", role="clerk",
                  viewport=DESK, lang="ja",
                  checks={"2.2.2": ("15 秒ごとの更新を一時停止・再開できる", True),
                          "2.4.3": ("更新してもキーボードのフォーカスが同じ行に残る", True)})
