"""The printed roster, as Chromium prints it: A4 pages, a header and "n / N" on each, Japanese glyphs.

The PDF is made by Chromium itself (page.pdf, format A4) and cut into PNG pages
with pdftoppm (Debian's poppler-utils), saved under test-artifacts/ for a person
to look at; pdftotext and pdffonts check each page's text and the fonts used.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from booking.extensions import db
from booking.models import DeskSession
from booking.services import accounts, directory, reservations, slots
from booking.services.actor import Actor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "chiefs"))

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"
PEOPLE = 50  # staff booked; with dependents the roster has 58 rows: 3 pages of 22


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not found: install Debian's poppler-utils (as .ci/run does)")


@pytest.fixture
def big_roster(app, world):
    """A morning session with 50 staff booked, every sixth with a dependent, and an admin to sign in."""
    pairs = world.add_staff(PEOPLE, start=6000)
    with app.test_request_context(base_url="http://localhost"):
        session = db.session.get(DeskSession, world.session_id)
        big = slots.create_session(session.campaign, session.venue_id, session.date, time(9), time(13), 10, 3)
        free = [slot.capacity for slot in big.slots]
        for index, (number, _code) in enumerate(pairs):
            staff = directory.staff_by_number(number)
            dependents = []
            if index % 6 == 0:
                dependents = [directory.add_dependent(Actor.system(),
                    staff, family_name="田中", given_name="美咲", family_name_kana="タナカ",
                    given_name_kana="ミサキ", relation="妻").id]
            at = next(i for i, seats in enumerate(free) if seats >= 1 + len(dependents))
            free[at] -= 1 + len(dependents)
            reservations.reserve(big.slots[at].id, staff, dependent_ids=dependents)
        accounts.ensure_user("roster-admin", "admin", password=PASSWORD)
        db.session.commit()
        return big.id


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/office/login")
    page.fill("input[name=username]", "roster-admin")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_the_roster_prints_on_numbered_a4_pages_with_a_header_on_each(
        app, live_server, new_page, big_roster, screenshot):
    _need("pdftoppm")
    _need("pdftotext")
    ARTIFACTS.mkdir(exist_ok=True)
    with app.app_context():
        session_year = db.session.get(DeskSession, big_roster).date.year
    page = new_page(viewport={"width": 1100, "height": 900}, locale="ja-JP")
    _sign_in(page, live_server)
    page.goto(f"{live_server}/chiefs/sessions/{big_roster}/roster")
    screenshot(page, "roster-screen")
    assert page.locator("section.sheet").count() == 3

    pdf = ARTIFACTS / "roster.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4", print_background=True)

    for old in ARTIFACTS.glob("roster-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(ARTIFACTS / "roster-page")], check=True)
    pngs = sorted(ARTIFACTS.glob("roster-page-*.png"))
    assert len(pngs) == 3, [p.name for p in pngs]

    for n in (1, 2, 3):
        text = subprocess.run(["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        flat = " ".join(text.split())
        assert "受付名簿" in flat or ("Reception" in flat and "roster" in flat) or "Reception roster" in text, f"page {n} has no header"
        assert "中央消防署 会議室" in text and "出張申請" in text, f"page {n} lacks venue or campaign"
        assert "09:00–13:00" in text, f"page {n} lacks the session time"
        # Printed pages always carry the year (issue 16 item 5), even in the current one.
        assert f"{session_year}年" in text, f"page {n} has no year"
        assert re.search(rf"\b{n}\s*/\s*3\b", text), f"page {n} has no page number"
        assert "受付" in text and "写真" in text and "申請" in text, f"page {n} lacks the table header"
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert "田中" in first and "タナカ" in first


def test_the_roster_names_a_japanese_font_that_chromium_has():
    """The glyphs come from Noto Sans CJK JP (Debian's fonts-noto-cjk), first in the printed pages' font stack (print-base.css).

    Chromium embeds CFF fonts as Type 3, so pdffonts cannot name it; fontconfig can.
    """
    _need("fc-list")
    css = (Path(__file__).resolve().parents[2] / "static/css/print-base.css").read_text()
    assert 'font-family: "Noto Sans CJK JP"' in css
    families = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True,
                              check=False).stdout
    assert "Noto Sans CJK JP" in families, "install Debian's fonts-noto-cjk (as .ci/run does)"


def test_invitation_slips_print_eight_to_an_a4_page(app, live_server, new_page, world, screenshot):
    _need("pdftoppm")
    world.add_staff(9, start=7000)
    with app.app_context():
        accounts.ensure_user("roster-admin", "admin", password=PASSWORD)
        db.session.commit()
    ARTIFACTS.mkdir(exist_ok=True)
    page = new_page(viewport={"width": 1100, "height": 900}, locale="ja-JP")
    _sign_in(page, live_server)
    page.goto(f"{live_server}/chiefs/slips?filter=all")
    screenshot(page, "slips-screen")
    assert page.locator("article.slip").count() == 10
    # The printed QR code says the slip's own link: decode it with the desk's vendored jsQR.
    page.add_script_tag(url=f"{live_server}/static/js/vendor/jsQR.js")
    decoded = page.evaluate("""async () => {
        const svg = document.querySelector("article.slip svg.slip__qr");
        const size = svg.viewBox.baseVal.width * 8;
        const image = new Image();
        image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(new XMLSerializer().serializeToString(svg));
        await image.decode();
        const canvas = Object.assign(document.createElement("canvas"), {width: size, height: size});
        const context = canvas.getContext("2d");
        context.imageSmoothingEnabled = false;
        context.drawImage(image, 0, 0, size, size);
        const found = jsQR(context.getImageData(0, 0, size, size).data, size, size);
        return found && found.data;
    }""")
    link = page.locator("article.slip .slip__url").first.inner_text()
    assert decoded and decoded in link and "/i/" in decoded
    pdf = ARTIFACTS / "slips.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    for old in ARTIFACTS.glob("slips-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(ARTIFACTS / "slips-page")], check=True)
    assert len(sorted(ARTIFACTS.glob("slips-page-*.png"))) == 2


def test_the_hq_dashboard_prints_its_charts_and_the_unit_page_fits_an_office_screen(
        app, live_server, new_page, world, screenshot):
    _need("pdftoppm")
    from dept_world import build_dept

    dept = build_dept(app, world)
    from datetime import timedelta

    from booking.models import Staff
    from booking.services import card_status

    with app.app_context():
        today = card_status.today()
        for offset, (number, status) in enumerate([("2001", "applied"), ("3001", "received"), ("4001", "applied")]):
            card_status.record_change(db.session.get(Staff, dept.staff_ids[number]), status,
                                      on=today - timedelta(days=10 * offset), source="edit")
        accounts.ensure_user("roster-admin", "admin", password=PASSWORD)
        db.session.commit()
    ARTIFACTS.mkdir(exist_ok=True)
    page = new_page(viewport={"width": 1366, "height": 768}, locale="ja-JP")
    _sign_in(page, live_server)
    page.goto(f"{live_server}/chiefs/unit")
    screenshot(page, "chiefs-unit")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.goto(f"{live_server}/chiefs/staff/{dept.staff_ids['2001']}")
    screenshot(page, "chiefs-staff")
    page.goto(f"{live_server}/chiefs/")
    screenshot(page, "chiefs-sessions")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.goto(f"{live_server}/reports/")
    screenshot(page, "reports-dashboard")
    assert page.locator("svg.chart").count() == 4  # the rates over time, and the expiring cards
    pdf = ARTIFACTS / "dashboard.pdf"
    page.pdf(path=str(pdf), format="A4")
    for old in ARTIFACTS.glob("dashboard-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / "dashboard-page")], check=True)
    assert sorted(ARTIFACTS.glob("dashboard-page-*.png"))
    page.goto(f"{live_server}/reports/ranking")
    screenshot(page, "reports-ranking")
