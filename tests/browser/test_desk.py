"""The desk in Chromium with a fake camera that shows a real confirmation QR code.

A separate Chromium is started with a fake video device playing a .y4m file made
here with Pillow: a reservation's QR code, big and centred. The scan page must read
it in the browser and open the check-in screen; the photo is then taken from the
same camera and stored. Screenshots at 1024×768 (a tablet in landscape) and
390×844 (a phone) go to test-artifacts/ for a person to look at.
"""
from __future__ import annotations

import io
import os
import random
import re
from pathlib import Path

import pytest
import qrcode
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, CheckIn, DeskSession, Photo, Reservation
from booking.services import accounts, confirmations, directory, reservations
from booking.services.actor import Actor

pytestmark = pytest.mark.browser
# Not imported from conftest: with several conftest.py on sys.path the name is ambiguous.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 768}


def assert_no_horizontal_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px at {page.url}"

PASSWORD = "desk-pass-1"
FRAME = (1280, 720)


def backdrop(size: tuple[int, int]) -> Image.Image:
    """A busy, photo-like frame: gradients and shapes, as a real camera sees a room."""
    rng = random.Random(4)
    image = Image.linear_gradient("L").rotate(90).resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(80):
        x, y, r = rng.randrange(size[0]), rng.randrange(size[1]), rng.randrange(10, 80)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(rng.randrange(90, 200),) * 3)
    return image


def camera_frame(qr_text: str | None) -> Image.Image:
    frame = backdrop(FRAME)
    if qr_text:
        code = qrcode.make(qr_text, border=4).convert("RGB")
        side = 560
        code = code.resize((side, side), Image.Resampling.NEAREST)
        frame.paste(code, ((FRAME[0] - side) // 2, (FRAME[1] - side) // 2))
    return frame


def camera_jpeg() -> bytes:
    """A photo-like JPEG the desk's photo processing accepts."""
    buffer = io.BytesIO()
    backdrop((700, 900)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def write_y4m(path: Path, image: Image.Image, frames: int = 4, fps: int = 10) -> Path:
    """YUV4MPEG2, 4:2:0 with JPEG (full-range) chroma siting, as Chromium's fake capture reads it."""
    width, height = image.size
    y, cb, cr = image.convert("YCbCr").split()
    cb = cb.resize((width // 2, height // 2), Image.Resampling.BOX)
    cr = cr.resize((width // 2, height // 2), Image.Resampling.BOX)
    planes = y.tobytes() + cb.tobytes() + cr.tobytes()
    with path.open("wb") as handle:
        handle.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            handle.write(b"FRAME\n")
            handle.write(planes)
    return path


@pytest.fixture
def camera_browser(browser, tmp_path):
    """Start a Chromium of its own whose camera plays the given picture."""
    started = []

    def launch(image: Image.Image):
        video = write_y4m(tmp_path / f"camera-{len(started)}.y4m", image)
        other = browser.browser_type.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS + [
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        started.append(other)
        return other

    yield launch
    for other in started:
        other.close()


@pytest.fixture
def desk_world(app, world, live_server):
    """A booked reservation with a spouse, its QR text as the live server prints it, and a clerk."""
    world.add_staff(3)
    with app.test_request_context(base_url=live_server):
        staff = directory.staff_by_number(world.staff_number)
        reservation = reservations.reserve(world.slot_ids[1], staff, dependent_ids=[world.dependent_id])
        for n, slot in zip(("2000", "2001", "2002"), (0, 3, 4)):
            reservations.reserve(world.slot_ids[slot], directory.staff_by_number(n))
        user = accounts.ensure_user("clerk-desk", "clerk", password=PASSWORD)
        user.display_name = "受付 一郎"
        db.session.commit()
        return {"reservation_id": reservation.id, "qr": confirmations.qr_text(reservation), "staff_id": staff.id,
                "session_id": world.session_id, "base": live_server}


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/office/login")
    page.fill('input[name="username"]', "clerk-desk")
    page.fill('input[name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click('button[type="submit"]')


def open_page(other_browser, viewport, base: str):
    context = other_browser.new_context(viewport=viewport, locale="ja-JP")
    context.grant_permissions(["camera"], origin=base)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, base)
    return page, errors


def test_the_desk_reads_the_qr_from_the_camera_checks_in_and_takes_the_photo(app, camera_browser, desk_world, screenshot):
    base, session_id = desk_world["base"], desk_world["session_id"]
    chromium = camera_browser(camera_frame(desk_world["qr"]))
    page, errors = open_page(chromium, TABLET, base)

    # The board first, as the clerk sees it on the tablet.
    page.goto(f"{base}/desk/sessions/{session_id}")
    assert page.locator(".desk-row").count() == 4
    assert_no_horizontal_scroll(page)
    screenshot(page, "desk-board-1024")

    # Scan: the page opens the camera, reads the QR in the browser and opens the check-in screen.
    page.goto(f"{base}/desk/sessions/{session_id}/scan")
    page.wait_for_url(re.compile(rf"/desk/reservations/{desk_world['reservation_id']}\b"), timeout=20000)
    assert page.locator(".desk-who__name").inner_text() == "佐藤 翔太"
    assert page.locator('input[name="people"]').count() == 2
    assert "サトウ ショウタ" in page.content() and "佐藤 陽子" in page.content()
    assert_no_horizontal_scroll(page)
    screenshot(page, "desk-check-in-1024")

    with page.expect_navigation():
        page.click("[data-checkin-button]")
    with app.app_context():
        assert db.session.get(Reservation, desk_world["reservation_id"]).status == "checked_in"
        staff_check_in = db.session.scalars(select(CheckIn.id).order_by(CheckIn.id)).first()

    # The photo, from the same fake camera, through the face guide.
    page.click(f'[data-photo-take="{staff_check_in}"]')
    page.wait_for_selector("[data-capture-frame][data-ready]", timeout=15000)
    assert page.locator("[data-guide]").is_visible()
    screenshot(page, "desk-photo-camera-1024")
    page.click("[data-capture-shoot]")
    page.wait_for_selector(f'img[data-photo-img="{staff_check_in}"]:not([hidden])', timeout=15000)
    # Shown first, then loaded: wait for the picture itself before measuring it. A function,
    # not an expression: Playwright evals expressions in the page, which our CSP forbids.
    selector = f'img[data-photo-img="{staff_check_in}"]'
    page.wait_for_function(
        "(selector) => { const img = document.querySelector(selector); return img.complete && img.naturalWidth > 0; }",
        arg=selector, timeout=15000,
    )
    assert page.locator(selector).evaluate("img => img.naturalWidth") == 560

    with app.app_context():
        photo = db.session.scalar(select(Photo).where(Photo.check_in_id == staff_check_in))
        assert photo is not None and (photo.width, photo.height) == (560, 720)
        stored = Path(app.config["PHOTO_DIR"]) / photo.storage_name
        with Image.open(stored) as image:
            assert image.format == "JPEG" and image.size == (560, 720) and len(image.getexif()) == 0
    assert_no_horizontal_scroll(page)
    screenshot(page, "desk-photo-saved-1024")
    assert errors == [], errors

    # The other desk screens, on the tablet and on a phone.
    phone, phone_errors = open_page(chromium, PHONE, base)
    screens = (
        (f"/desk/sessions/{session_id}", "desk-board"),
        (f"/desk/reservations/{desk_world['reservation_id']}", "desk-photo-saved"),
        (f"/desk/sessions/{session_id}/walk-in?q=タナカ", "desk-walk-in-search"),
        (f"/desk/sessions/{session_id}/walk-in?staff_id={desk_world['staff_id']}", "desk-walk-in-seat"),
        ("/desk/", "desk-sessions"),
        ("/desk/no-shows", "desk-no-shows"),
    )
    for client_page, size in ((page, "1024"), (phone, "390")):
        for path, name in screens:
            client_page.goto(base + path)
            screenshot(client_page, f"{name}-{size}")
            assert_no_horizontal_scroll(client_page)
    assert phone_errors == [], phone_errors
    assert errors == [], errors


def test_the_board_refreshes_itself_without_a_reload(app, camera_browser, desk_world, screenshot):
    base, session_id = desk_world["base"], desk_world["session_id"]
    chromium = camera_browser(camera_frame(None))
    page, errors = open_page(chromium, TABLET, base)
    page.clock.install()
    page.goto(f"{base}/desk/sessions/{session_id}")
    page.evaluate("window.__same_document = true")
    assert page.locator(".desk-status--checked_in").count() == 0

    with app.test_request_context():
        reservation = db.session.get(Reservation, desk_world["reservation_id"])
        from booking.services import checkin
        from booking.services.actor import Actor

        checkin.check_in(Actor("page", user=accounts.ensure_user("clerk-desk", "clerk")), reservation)
        db.session.commit()
    page.clock.run_for(16000)

    page.wait_for_selector(".desk-status--checked_in", timeout=10000)
    assert page.evaluate("window.__same_document") is True
    assert page.locator('[data-field="counts.checked_in"]').first.inner_text() == "1"
    assert errors == [], errors


def test_the_scan_page_waits_for_a_qr_and_offers_the_code_at_both_sizes(camera_browser, desk_world, screenshot):
    base, session_id = desk_world["base"], desk_world["session_id"]
    chromium = camera_browser(camera_frame(None))  # a room with no QR code in view
    for viewport, name in ((TABLET, "desk-scan-1024"), (PHONE, "desk-scan-390")):
        page, errors = open_page(chromium, viewport, base)
        page.goto(f"{base}/desk/sessions/{session_id}/scan")
        page.wait_for_selector("[data-scanner][data-reader]", timeout=15000)
        assert page.evaluate("document.querySelector('[data-scanner] video').videoWidth") == FRAME[0]
        assert page.url.endswith("/scan")
        assert_no_horizontal_scroll(page)
        screenshot(page, name)
        assert errors == [], errors


PORTRAIT_TABLET = {"width": 820, "height": 1180}


@pytest.fixture
def family_world(app, world, live_server):
    """An empty two-desk session, a staff member with a spouse and a 9-year-old, and a clerk."""
    from datetime import timedelta

    with app.test_request_context(base_url=live_server):
        unit = directory.unit_by_code("A")
        staff = directory.add_staff(staff_number="3000", family_name="山田", given_name="誠", family_name_kana="ヤマダ",
                                    given_name_kana="マコト", unit=unit, crew="2部")
        names = {"family_name": "山田", "family_name_kana": "ヤマダ"}
        directory.add_dependent(Actor.system(), staff, given_name="花子", given_name_kana="ハナコ", relation="妻", **names)
        born = world.session_day - timedelta(days=9 * 365 + 30)
        directory.add_dependent(Actor.system(), staff, given_name="大地", given_name_kana="ダイチ", relation="長男",
                                birth_date=born, **names)
        user = accounts.ensure_user("clerk-desk", "clerk", password=PASSWORD)
        user.display_name = "受付 一郎"
        db.session.commit()
        return {"staff_id": staff.id, "session_id": world.session_id, "slot_ids": world.slot_ids, "base": live_server}


def test_a_family_of_three_walks_into_an_empty_two_desk_session_on_a_portrait_tablet(app, new_page, family_world,
                                                                                  screenshot):
    base, session_id = family_world["base"], family_world["session_id"]
    page = new_page(viewport=PORTRAIT_TABLET)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, base)

    page.goto(f"{base}/desk/sessions/{session_id}/walk-in")
    page.fill("#q", "ヤマダ")
    with page.expect_navigation():
        page.click(".desk-search button[type=submit]")
    with page.expect_navigation():
        page.click(".desk-result")
    seat = page.locator('section[aria-labelledby="seat-title"]')
    seat.locator('label:has-text("山田 花子")').click()
    seat.locator('label:has-text("山田 大地")').click()
    assert seat.locator('input[name="dependent_ids"]:checked').count() == 2
    # The clerk reads, before seating, that the boy comes with a parent who brings their own ID.
    notice = seat.locator('label:has-text("山田 大地") .desk-notice--represented')
    assert notice.is_visible() and "法定代理人" in notice.inner_text()
    assert not seat.locator("details.desk-override").get_attribute("open")
    assert_no_horizontal_scroll(page)
    screenshot(page, "desk-walk-in-family-820")

    with page.expect_navigation():
        seat.locator("button[type=submit]").click()
    assert re.search(r"/desk/reservations/\d+", page.url), page.url
    checked_in_url = page.url
    assert page.locator(".desk-person").count() == 3
    assert "15:00" in page.content() and "15:10" in page.content()
    assert_no_horizontal_scroll(page)
    screenshot(page, "desk-walk-in-family-checked-in-820")

    with app.app_context():
        reservation = db.session.scalar(select(Reservation))
        assert (reservation.channel, reservation.status, reservation.seats) == ("walk_in", "checked_in", 3)
        assert sorted(p.slot_id for p in reservation.people) == [
            family_world["slot_ids"][0], family_world["slot_ids"][0], family_world["slot_ids"][1]]
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "walk_in.over_capacity")) == 0

    page.clock.install()
    page.goto(f"{base}/desk/sessions/{session_id}")
    assert page.locator(".desk-row").count() == 1
    assert page.locator(".desk-row__later").inner_text() == "15:10"
    assert page.locator(".desk-row__tag--represented").inner_text() == "15歳未満・法定代理人同伴"
    assert_no_horizontal_scroll(page)
    screenshot(page, "desk-board-family-820")
    # desk.js redraws the row from the JSON every 15 s: the same words, times and tags.
    drawn = page.locator(".desk-row__who").inner_html()
    page.clock.run_for(16000)
    page.wait_for_selector(".desk-board[data-refreshed]", timeout=10000)
    assert page.locator(".desk-row__who").inner_html() == drawn
    assert errors == [], errors

    # The same screens on a phone.
    phone = new_page(viewport=PHONE)
    sign_in(phone, base)
    screens = ((checked_in_url, "desk-walk-in-family-checked-in-390"), (f"{base}/desk/sessions/{session_id}", "desk-board-family-390"),
               (f"{base}/desk/sessions/{session_id}/walk-in?staff_id={family_world['staff_id']}", "desk-walk-in-family-390"))
    for url, name in screens:
        phone.goto(url)
        assert_no_horizontal_scroll(phone)
        screenshot(phone, name)


FORM_ID = "12345678901234567890123"


def test_the_application_panel_for_a_family_of_three_with_the_forms_qr_read_by_the_camera(
        app, camera_browser, family_world, screenshot):
    """At 820×1180: the form's QR read into the staff member's 申請書ID, documents ticked, mail or
    counter shown at once, the child's legal representative, and the application handed in."""
    from booking.models import Application, Staff
    from booking.services import applications, checkin, photos

    base, session_id = family_world["base"], family_world["session_id"]
    with app.test_request_context(base_url=base):
        clerk = accounts.ensure_user("clerk-desk", "clerk")
        staff = db.session.get(Staff, family_world["staff_id"])
        seated = checkin.walk_in(Actor("page", user=clerk), db.session.get(DeskSession, session_id), staff,
                                 dependent_ids=[d.id for d in staff.dependents])
        staff_check_in = next(c for c in seated.check_ins if c.person.kind == "staff")
        photos.attach_photo(Actor("page", user=clerk), staff_check_in, io.BytesIO(camera_jpeg()))
        db.session.commit()
        reservation_id, staff_check_in_id = seated.reservation.id, staff_check_in.id
        child_check_in_id = next(c.id for c in seated.check_ins if c.person.dependent and c.person.dependent.birth_date)

    # The camera shows a printed application form's QR: a URL with the 申請書ID in it.
    chromium = camera_browser(camera_frame(f"https://www.kojinbango-card.go.jp/apply/?id={FORM_ID}"))
    page, errors = open_page(chromium, PORTRAIT_TABLET, base)
    page.goto(f"{base}/desk/reservations/{reservation_id}?session={session_id}")
    assert page.locator("[data-application-form]").count() == 3
    staff_form = page.locator(f"#application-{staff_check_in_id} form")
    child_form = page.locator(f"#application-{child_check_in_id} form")
    # Nothing recorded yet: the counter, with what is missing for mailing.
    assert "窓口" in staff_form.locator("[data-verdict-head]").inner_text()
    # The child under 15: the legal representative's part is shown without asking.
    assert child_form.locator("[data-representative]").is_visible()

    staff_form.locator("[data-form-qr]").click()
    page.wait_for_function(
        "(id) => document.querySelector(id).value.replace(/ /g, '') === '12345678901234567890123'",
        arg=f"#app-{staff_check_in_id}-application_id", timeout=20000)
    assert not page.locator("[data-formqr]").evaluate("d => d.open")
    for label in ("運転免許証", "健康保険の資格確認書"):
        staff_form.locator(f"label:has-text('{label}')").first.click()
    staff_form.locator("label:has-text('暗証番号設定依頼書')").click()
    page.wait_for_selector(f"#application-{staff_check_in_id} .desk-verdict--mail", timeout=10000)
    assert staff_form.locator("[data-verdict-head]").inner_text() == "郵送できます"
    assert_no_horizontal_scroll(page)
    screenshot(page, "desk-application-family-820")

    # The child: typed ID, the notice and two B documents, and the father as representative.
    child_form.locator(f"#app-{child_check_in_id}-application_id").fill("9876 5432 1098 7654 3210 987")
    for label in ("通知カード", "健康保険の資格確認書", "母子健康手帳", "暗証番号設定依頼書"):
        child_form.locator(f".desk-app__flags label:has-text('{label}'), .desk-app__docs:not([data-representative] *) label:has-text('{label}')").first.click()
    child_form.locator("input[name=representative_name]").fill("山田 誠")
    child_form.locator("input[name=representative_relation]").fill("父")
    representative = child_form.locator("[data-representative]")
    representative.locator("label:has-text('運転免許証')").click()
    representative.locator("label:has-text('旅券')").click()
    page.wait_for_selector(f"#application-{child_check_in_id} .desk-verdict--mail", timeout=10000)
    screenshot(page, "desk-application-child-820")
    with page.expect_navigation():
        child_form.locator("button[value=save]").click()
    # Saving the boy's panel saved his father's too: nothing ticked there was lost.
    assert page.locator(f"#app-{staff_check_in_id}-application_id").input_value() == "1234 5678 9012 3456 7890 123"

    # Hand in the staff member's application (the photo is on file).
    staff_form = page.locator(f"#application-{staff_check_in_id} form")
    with page.expect_navigation():
        staff_form.locator("button[value=submit]").click()
    summary = page.locator(f"#application-{staff_check_in_id} summary")
    assert "郵送" in summary.inner_text(), page.locator(".flash").all_inner_texts()
    assert_no_horizontal_scroll(page)
    screenshot(page, "desk-application-handed-in-820")
    assert errors == [], errors

    with app.app_context():
        records = {a.check_in_id: a for a in db.session.scalars(select(Application))}
        assert records[staff_check_in_id].application_id == FORM_ID
        assert (records[staff_check_in_id].delivery, records[staff_check_in_id].submitted_at is not None) == ("mail", True)
        child = records[child_check_in_id]
        assert child.submitted_at is None and child.application_id == "98765432109876543210987"
        assert (child.representative_name, child.representative_relation) == ("山田 誠", "父")
        assert applications.documents_suffice(child.identity_documents, {
            d.code: d for d in applications.identity_documents()})
