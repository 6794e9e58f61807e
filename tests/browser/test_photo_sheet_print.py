"""The session's application photos printed by Chromium (page.pdf, A4): each photo is 45 mm high
and 35 mm wide on the page, measured twice — the box Chromium lays out for print (CSS px at
96 dpi) and the image as placed in the PDF (pdfimages: pixels over pixels per inch)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from booking.extensions import db
from booking.services import confirmations, directory, reservations

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "desk"))

from photo_session import APPLICATION_ID, session_with_photos

pytestmark = pytest.mark.browser

ARTIFACTS = HERE.parents[1] / "test-artifacts"
PASSWORD = "pass-word-1"
MM_PER_CSS_PX = 25.4 / 96


class _Booked:
    def __init__(self, reservation, session_id):
        self.id, self.code, self.session_id = reservation.id, reservation.code, session_id
        self.qr = confirmations.qr_text(reservation)


@pytest.fixture
def book_for(app, world):
    def make(staff_number=None, *, slot_index=0, with_spouse=True):
        with app.test_request_context(base_url="http://localhost"):
            staff = directory.staff_by_number(staff_number or world.staff_number)
            dependents = [world.dependent_id] if with_spouse and staff.id == world.staff_id else []
            reservation = reservations.reserve(world.slot_ids[slot_index], staff, dependent_ids=dependents)
            db.session.commit()
            return _Booked(reservation, world.session_id)

    return make


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/office/login")
    page.fill("input[name=username]", "sheet-clerk")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_the_photo_sheet_prints_photos_at_45_by_35_mm_on_a4(app, live_server, new_page, book_for, screenshot):
    ids = session_with_photos(app, book_for, password=PASSWORD)
    ARTIFACTS.mkdir(exist_ok=True)
    page = new_page(viewport={"width": 1366, "height": 768}, locale="ja-JP")
    _sign_in(page, live_server)
    response = page.goto(f"{live_server}/desk/sessions/{ids['session_id']}/photos/print")
    assert response.headers["cache-control"] == "no-store"
    screenshot(page, "photo-sheet-screen")
    assert page.locator("img.photo-cell__photo").count() == 2
    assert APPLICATION_ID in page.inner_text("body")

    page.emulate_media(media="print")
    for box in page.eval_on_selector_all(
            "img.photo-cell__photo", "els => els.map(e => { const r = e.getBoundingClientRect();"
            " return {w: r.width, h: r.height}; })"):
        assert abs(box["h"] * MM_PER_CSS_PX - 45) <= 0.5, box
        assert abs(box["w"] * MM_PER_CSS_PX - 35) <= 0.5, box

    pdf = ARTIFACTS / "photo-sheet.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
        assert abs(width - 595.28) < 1 and abs(height - 841.89) < 1, info  # A4 in points
        assert re.search(r"Pages:\s+1\b", info), info
    if shutil.which("pdfimages"):
        listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                                 check=True).stdout.splitlines()[2:]
        placed = [line.split() for line in listing if line.split()[2] == "image"]
        assert len(placed) == 2, listing
        for row in placed:
            # columns: page num type width height color comp bpc enc interp object ID x-ppi y-ppi …
            w_px, h_px, x_ppi, y_ppi = int(row[3]), int(row[4]), float(row[12]), float(row[13])
            assert abs(w_px / x_ppi * 25.4 - 35) <= 0.5, row
            assert abs(h_px / y_ppi * 25.4 - 45) <= 0.5, row
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(pdf), str(ARTIFACTS / "photo-sheet-page")],
                       check=True)
