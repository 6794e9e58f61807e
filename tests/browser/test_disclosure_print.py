"""A person's data as Chromium prints it: an A4 document with labelled fields and Tokyo times.

The page is printed to PDF by Chromium (print media, A4), cut into PNG pages with
pdftoppm and saved under test-artifacts/ for a person to look at; pdftotext checks
what the document says and that the office chrome and the deletion form stay off paper.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from booking.extensions import db
from booking.services import accounts
from tests.browser.conftest import DESKTOP

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "faults"))

from fault_world import populate

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "pass-word-1"


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not found: install Debian's poppler-utils (as .ci/run does)")


@pytest.fixture
def disclosed(app, world):
    """Staff member 1001, checked in with a dependent, photo taken, card applied; an admin to sign in."""
    populate(app, world)
    with app.app_context():
        accounts.ensure_user("disclosure-admin", "admin", password=PASSWORD)
        db.session.commit()
    return world


def _print(page, name: str) -> list[str]:
    """The page printed to A4 PDF, its pages as PNGs under test-artifacts/, and each page's text."""
    pdf = ARTIFACTS / f"{name}.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4", print_background=True)
    for old in ARTIFACTS.glob(f"{name}-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / f"{name}-page")], check=True)
    count = len(list(ARTIFACTS.glob(f"{name}-page-*.png")))
    return [subprocess.run(["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout for n in range(1, count + 1)]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_disclosure_prints_as_a_readable_a4_document(live_server, new_page, disclosed, screenshot, lang):
    _need("pdftoppm")
    _need("pdftotext")
    ARTIFACTS.mkdir(exist_ok=True)
    page = new_page(viewport=DESKTOP, locale="ja-JP")
    page.goto(f"{live_server}/office/login?lang={lang}")
    page.fill("input[name=username]", "disclosure-admin")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form.o-form button[type=submit]")
    page.goto(f"{live_server}/office/personal-data/staff/{disclosed.staff_id}?lang={lang}")
    screenshot(page, f"disclosure-{lang}-screen")

    pages = _print(page, f"disclosure-{lang}")
    assert 1 <= len(pages) <= 2, f"{len(pages)} A4 pages"
    text = "\n".join(pages)
    flat = " ".join(text.split())
    day = disclosed.session_day
    if lang == "ja":
        for words in ("職員番号", "氏名", "カード状況", "申請済み", "予約番号", "受付済み", "被扶養者"):
            assert words in flat, words
        assert f"{day.year}年{day.month}月{day.day}日" in flat
    else:
        for words in ("Staff number", "Card status", "Applied", "Reservation code", "Checked in", "Dependent",
                      "At the application desk"):
            assert words in flat, words
        assert f"{day.day} {day.strftime('%B')} {day.year}" in flat
    assert "15:00–15:10" in flat  # the 15:00 slot in Tokyo time (06:00 UTC)
    assert "佐藤 翔太" in flat and "サトウ ショウタ" in flat and "陽子" in flat
    for raw in ("card_status", "staff_number", "checked_in", "+00:00"):
        assert raw not in text, raw
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text)
    # On paper: the document only, not the office's header, menu, buttons or the deletion form.
    for chrome in ("Download JSON", "JSONをダウンロード", "Delete everything", "すべて削除する",
                   "Outreach Desk office", "管理画面"):
        assert chrome not in flat, chrome
