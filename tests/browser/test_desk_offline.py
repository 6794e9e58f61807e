"""The desk with the network really gone (issue 20), in Chromium.

The app is served by a server of this module's own that the tests stop and start again on the
same port (the same origin, so the service worker and IndexedDB stay), and every request of
the browser context is aborted while it is down: Playwright's offline switch would not stop a
service worker's own requests. Screenshots at the desk tablet's 820×1180 go to test-artifacts/.
"""
from __future__ import annotations

import io
import re
import socket
import threading

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from booking.extensions import db
from booking.models import Application, Campaign, CheckIn, Dependent, DeskAction, Photo, Reservation
from booking.services import accounts, directory, reservations

pytestmark = pytest.mark.browser
DESK_TABLET = {"width": 820, "height": 1180}
PASSWORD = "desk-pass-1"


class Server:
    """The app over real HTTP on a fixed port, which can be stopped and started again."""

    def __init__(self, app):
        self.app = app
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = None
        self.thread = None

    def start(self):
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)
            self.server = None


@pytest.fixture
def server(app):
    running = Server(app)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def offline_world(app, world, server):
    """Four bookings in the session (the first with a spouse) and a clerk."""
    world.add_staff(3)
    with app.test_request_context(base_url=server.base):
        first = reservations.reserve(world.slot_ids[1], directory.staff_by_number(world.staff_number),
                                     dependent_ids=[world.dependent_id])
        others = [reservations.reserve(world.slot_ids[slot], directory.staff_by_number(n))
                  for n, slot in zip(("2000", "2001", "2002"), (0, 3, 4))]
        user = accounts.ensure_user("clerk-desk", "clerk", password=PASSWORD)
        user.display_name = "受付 一郎"
        db.session.commit()
        return {"ids": [first.id] + [r.id for r in others], "session_id": world.session_id,
                "people": {r.id: [p.id for p in r.people] for r in [first, *others]}}


class Desk:
    """One tablet: its own browser context (its own IndexedDB and service worker)."""

    def __init__(self, browser, server, session_id):
        self.server = server
        self.context = browser.new_context(viewport=DESK_TABLET, locale="ja-JP")
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.url = f"{server.base}/desk/sessions/{session_id}/offline"
        self.online = True

    def sign_in_and_open(self):
        page = self.page
        page.goto(f"{self.server.base}/office/login")
        page.fill('input[name="username"]', "clerk-desk")
        page.fill('input[name="password"]', PASSWORD)
        with page.expect_navigation():
            page.click('button[type="submit"]')
        page.goto(self.url)
        # Ready: the page is kept by the service worker and the roster is on the device.
        page.wait_for_selector("[data-offline-desk][data-offline-ready]", timeout=15000)
        expect(page.locator("[data-reservation]")).to_have_count(4, timeout=15000)

    def cut(self):
        """Abort every request of this context, the service worker's included."""
        self.context.route("**/*", lambda route: route.abort("internetdisconnected"))
        self.online = False

    def restore(self):
        self.context.unroute("**/*")
        self.online = True

    def booking(self, reservation_id):
        return self.page.locator(f'[data-reservation="{reservation_id}"]')

    def check_in(self, reservation_id):
        self.booking(reservation_id).locator("[data-check-in]").click()
        expect(self.booking(reservation_id).locator("[data-waiting]").first).to_be_visible()

    def photo(self, person_id, data: bytes):
        self.page.locator(f'[data-photo-for="{person_id}"]').set_input_files(
            {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": data})
        expect(self.page.locator(f'[data-person="{person_id}"] .offline-person__photo')).to_be_visible()

    def waiting(self, count: int):
        expect(self.page.locator("[data-offline-desk]")).to_have_attribute("data-waiting-count", str(count),
                                                                          timeout=15000)

    def send_now(self):
        self.page.click("[data-sync-now]")

    def reconnect_and_send(self):
        """The network is back: send the queue and wait until nothing is left waiting."""
        self.restore()
        self.send_now()
        self.waiting(0)


@pytest.fixture
def desks(browser, server, offline_world):
    made = []

    def open_desk():
        desk = Desk(browser, server, offline_world["session_id"])
        made.append(desk)
        return desk

    yield open_desk
    for desk in made:
        desk.context.close()


def photo_jpeg() -> bytes:
    buffer = io.BytesIO()
    image = Image.linear_gradient("L").resize((700, 900)).convert("RGB")
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_three_check_ins_and_two_photos_offline_arrive_once_when_the_network_returns(
        app, server, offline_world, desks, screenshot):
    desk = desks()
    desk.sign_in_and_open()
    ids, people = offline_world["ids"], offline_world["people"]

    server.stop()
    desk.cut()
    for reservation_id in ids[1:4]:
        desk.check_in(reservation_id)
    desk.photo(people[ids[1]][0], photo_jpeg())
    desk.photo(people[ids[2]][0], photo_jpeg())
    desk.waiting(5)
    expect(desk.page.locator("[data-net-status]")).to_contain_text("5")
    expect(desk.page.locator(".offline-status")).to_have_attribute("data-net", "offline")
    screenshot(desk.page, "desk-offline-waiting-820")
    assert count(app, CheckIn) == 0

    # A reload while offline: the page from the service worker, the queue from IndexedDB.
    desk.page.reload()
    desk.waiting(5)
    expect(desk.page.locator("[data-reservation]")).to_have_count(4)
    expect(desk.booking(ids[1]).locator("[data-waiting]")).to_have_count(1)

    server.start()
    desk.reconnect_and_send()
    expect(desk.page.locator("[data-net-status]")).to_have_text(re.compile("オンライン|Online"))
    expect(desk.page.locator('[data-sent-list] [data-outcome="applied"]')).to_have_count(5)
    screenshot(desk.page, "desk-offline-sent-820")

    assert count(app, CheckIn) == 3
    assert count(app, Photo) == 2
    assert count(app, DeskAction) == 5
    with app.app_context():
        statuses = [db.session.get(Reservation, i).status for i in ids]
    assert statuses == ["booked", "checked_in", "checked_in", "checked_in"]
    # Sending again (a lost answer, a second click) changes nothing.
    desk.send_now()
    desk.waiting(0)
    assert count(app, CheckIn) == 3 and count(app, Photo) == 2
    assert desk.errors == []


def test_two_desks_checking_in_the_same_person_offline_give_one_check_in_and_a_note_on_both(
        app, server, offline_world, desks, screenshot):
    first, second = desks(), desks()
    first.sign_in_and_open()
    second.sign_in_and_open()
    target = offline_world["ids"][2]

    server.stop()
    first.cut()
    second.cut()
    first.check_in(target)
    second.check_in(target)

    server.start()
    # The first desk's network comes back first, so that its check-in is the one applied: the
    # second's (sent once its own network is back) becomes the note.
    first.reconnect_and_send()
    second.reconnect_and_send()

    assert count(app, CheckIn) == 1
    note = "別の受付|another desk"
    expect(second.page.locator('[data-conflict-list] [data-outcome="note"]')).to_have_count(1)
    expect(second.page.locator("[data-conflict-list]")).to_contain_text(re.compile(note))
    # The first desk learns it at its next round, from the roster.
    first.send_now()
    expect(first.booking(target).locator(".offline-person__note")).to_contain_text(re.compile(note), timeout=15000)
    screenshot(second.page, "desk-offline-note-820")
    screenshot(first.page, "desk-offline-note-first-820")


def test_the_desk_data_is_wiped_at_sign_out_and_after_the_time_set(app, server, offline_world, desks):
    desk = desks()
    desk.sign_in_and_open()

    def stored_databases():
        return desk.page.evaluate("() => indexedDB.databases().then(list => list.map(d => d.name))")

    assert "outreach-desk" in stored_databases()
    desk.page.locator(".office-nav__user button[type=submit]").click()
    desk.page.wait_for_url(re.compile("/office/login"))
    assert "outreach-desk" not in stored_databases()

    # Signing out from any other page: the server's Clear-Site-Data wipes it without the page's script.
    desk.sign_in_and_open()
    assert "outreach-desk" in stored_databases()
    desk.page.goto(f"{server.base}/desk/sessions/{offline_world['session_id']}")
    desk.page.locator(".office-nav__user button[type=submit]").click()
    desk.page.wait_for_url(re.compile("/office/login"))
    assert "outreach-desk" not in stored_databases()

    # The time the section set on the campaign (before the app's setting): the device wipes when
    # it has passed, offline too.
    app.config["DESK_OFFLINE_KEEP_MINUTES"] = 24 * 60
    with app.app_context():
        db.session.execute(update(Campaign).values(desk_offline_keep_minutes=10))
        db.session.commit()
    desk.page.clock.install()
    desk.sign_in_and_open()
    server.stop()
    desk.cut()
    desk.check_in(offline_world["ids"][1])
    desk.waiting(1)
    desk.page.clock.fast_forward("11:00")
    expect(desk.page.locator("[data-offline-desk]")).to_have_attribute("data-wiped", "time", timeout=15000)
    expect(desk.page.locator("[data-reservation]")).to_have_count(0)
    desk.waiting(0)


def test_the_application_record_made_offline_is_recorded_when_the_network_returns(
        app, server, offline_world, desks, screenshot):
    desk = desks()
    desk.sign_in_and_open()
    reservation_id = offline_world["ids"][3]
    person_id = offline_world["people"][reservation_id][0]

    server.stop()
    desk.cut()
    desk.check_in(reservation_id)
    panel = desk.page.locator(f'[data-app-for="{person_id}"]')
    panel.locator("summary").click()
    panel.locator('input[name="application_id"]').fill("1234 5678 9012 3456 7890 123")
    panel.locator('input[name="identity_documents"][value="passport"]').check()
    screenshot(desk.page, "desk-offline-application-820")
    panel.locator('button[value="save"]').click()
    desk.waiting(2)

    server.start()
    desk.reconnect_and_send()

    with app.app_context():
        application = db.session.scalar(select(Application))
        assert application is not None and application.application_id == "12345678901234567890123"
        assert application.identity_documents == ["passport"]
    assert desk.errors == []


def test_the_whole_application_record_is_made_offline_as_on_the_online_panel(
        app, server, offline_world, desks, screenshot):
    """The surrendered cards, a planned move, the age group of a dependent without a birth date and
    the legal representative that age group asks for: recorded offline, applied once back online."""
    with app.app_context():
        db.session.get(Dependent, offline_world_dependent(offline_world, app)).birth_date = None
        db.session.commit()
    desk = desks()
    desk.sign_in_and_open()
    reservation_id = offline_world["ids"][0]
    spouse_id = offline_world["people"][reservation_id][1]

    server.stop()
    desk.cut()
    desk.page.uncheck(f"#here-{offline_world['people'][reservation_id][0]}")  # only the spouse has come
    desk.page.check(f"#here-{spouse_id}")
    desk.check_in(reservation_id)
    panel = desk.page.locator(f'[data-app-for="{spouse_id}"]')
    panel.locator("summary").click()
    representative = panel.locator("[data-representative]")
    expect(representative).to_be_hidden()
    panel.locator('input[name="application_id"]').fill("2234 5678 9012 3456 7890 123")
    panel.locator('input[name="age_group"][value="under_15"]').check()
    expect(representative).to_be_visible()
    panel.locator('input[name="identity_documents"][value="passport"]').check()
    panel.locator('input[name="surrendered"][value="notification_card"]').check()
    panel.locator('input[name="address_change_planned"]').check()
    representative.locator('input[name="representative_name"]').fill("佐藤 翔太")
    representative.locator('input[name="representative_relation"]').fill("父")
    representative.locator('input[name="representative_documents"][value="passport"]').check()
    screenshot(desk.page, "desk-offline-application-whole-820")
    panel.locator('button[value="save"]').click()
    desk.waiting(2)

    server.start()
    desk.reconnect_and_send()

    with app.app_context():
        application = db.session.scalar(select(Application))
        assert application.application_id == "22345678901234567890123"
        assert application.age_group == "under_15" and application.surrendered == ["notification_card"]
        assert application.address_change_planned is True and application.adult_ward is False
        assert (application.representative_name, application.representative_relation,
                application.representative_documents) == ("佐藤 翔太", "父", ["passport"])
        assert application.identity_documents == ["passport"]
    assert desk.errors == []


def test_a_second_save_offline_changes_only_what_the_clerk_touched(app, server, offline_world, desks):
    """The offline panel starts empty each time: ticking the PIN form later must not erase the
    申請書ID and documents saved before."""
    desk = desks()
    desk.sign_in_and_open()
    reservation_id = offline_world["ids"][0]
    person_id = offline_world["people"][reservation_id][0]
    server.stop()
    desk.cut()
    desk.check_in(reservation_id)

    def panel():
        found = desk.page.locator(f'[data-app-for="{person_id}"]')
        if found.get_attribute("open") is None:
            found.locator("summary").click()
        return found

    panel().locator('input[name="application_id"]').fill("2234 5678 9012 3456 7890 123")
    panel().locator('input[name="identity_documents"][value="passport"]').check()
    panel().locator('button[value="save"]').click()
    desk.waiting(2)
    panel().locator('input[name="pin_form"]').check()
    panel().locator('button[value="save"]').click()
    desk.waiting(3)

    server.start()
    desk.reconnect_and_send()
    with app.app_context():
        application = db.session.scalar(select(Application))
        assert application.application_id == "22345678901234567890123"
        assert application.identity_documents == ["passport"] and application.pin_form is True
    assert desk.errors == []


def offline_world_dependent(offline_world, app) -> int:
    with app.app_context():
        person = db.session.get(Reservation, offline_world["ids"][0]).people[1]
        return person.dependent_id


def test_the_bookings_qr_code_is_read_and_found_offline(app, browser, server, offline_world, tmp_path, screenshot):
    from booking.services import confirmations
    from tests.browser.test_desk import CHROMIUM, CHROMIUM_ARGS, camera_frame, write_y4m

    reservation_id = offline_world["ids"][2]
    with app.test_request_context(base_url=server.base):
        qr_text = confirmations.qr_text(db.session.get(Reservation, reservation_id))
    video = write_y4m(tmp_path / "camera.y4m", camera_frame(qr_text))
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        desk = Desk(chromium, server, offline_world["session_id"])
        desk.context.grant_permissions(["camera"], origin=server.base)
        desk.sign_in_and_open()

        server.stop()
        desk.cut()
        desk.page.click("[data-scan]")
        expect(desk.booking(reservation_id)).to_have_attribute("data-found", "", timeout=20000)
        expect(desk.page.locator("[data-reservation]:visible")).to_have_count(1)
        screenshot(desk.page, "desk-offline-qr-found-820")
        desk.check_in(reservation_id)
        desk.waiting(1)
        assert desk.errors == []
    finally:
        chromium.close()
