"""Issue 16, item 8: the sign-in prompt in the page's language, audit details in words, the staff
import's columns as the file named them (and a template with Japanese headings), no command-line
commands on office pages, and the status workbook's labels and indents."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from booking.extensions import db
from booking.services import directory
from booking.services.actor import Actor
from tests.office.test_import import csv_bytes, upload


@pytest.fixture
def admin(client, office, login):
    return login("admin")


def test_the_sign_in_prompt_is_in_the_pages_language(client, office):
    client.set_cookie("lang", "ja")
    page = client.get("/office/units", follow_redirects=True).get_data(as_text=True)
    assert "Please log in to access this page." not in page
    assert "このページを開くにはサインインしてください。" in page
    client.set_cookie("lang", "en")
    page = client.get("/office/units", follow_redirects=True).get_data(as_text=True)
    assert "Please sign in to open this page." in page


def test_audit_details_name_channels_fields_slots_and_copies_in_words(app, client, login, office):
    clerk = login("clerk")
    clerk.post(f"/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}",
               data={"slot_id": office.ids["slots"][1]})
    admin = login("admin")
    copy_day = office.session_day + timedelta(days=2)
    admin.post(f"/office/sessions/{office.ids['session']}/copy", data={"dates-0": copy_day.isoformat()})
    admin.post(f"/office/campaigns/{office.ids['campaign']}/edit", data={
        "title": "出張申請（改）", "booking_opens_at": "2026-01-01T09:00",
        "booking_closes_at": f"{office.session_day + timedelta(days=30)}T23:00", "cutoff_minutes": "60"})
    page = admin.get("/office/audit").get_data(as_text=True)
    details = " ".join(re.findall(r'<td class="o-details">(.*?)</td>', page, re.DOTALL))
    assert "<b>Booked through</b> Phone" in details and " phone<" not in details
    assert re.search(r"<b>Slot</b> \w{3} \d+ \w+( \d{4})? 15:10", details), details
    assert f"<b>Copied to</b> {copy_day:%a} {copy_day.day} {copy_day:%B}" in details and "中央消防署 会議室" in details
    assert "<b>Changed</b> title, booking opens, published" in details
    assert "is_published" not in details and "booking_opens_at" not in details


JA_HEADER = "職員番号,姓,名,セイ,メイ,所属コード,部,メール,電話,カード状況,住民登録地コード,入職日,離職日"


def test_import_errors_name_the_columns_as_the_file_had_them(app, admin):
    lines = ["3001,佐々木,,ササキ,ケン,ZZ,1部,,,none"]
    page = upload(admin, csv_bytes(lines, header=JA_HEADER)).get_data(as_text=True)
    assert re.search(r"<td>2</td><td>C2</td><td>名</td><td>This column is required.", page)
    assert re.search(r"<td>2</td><td>F2</td><td>所属コード</td><td>No unit has the code ZZ.", page)
    page = upload(admin, csv_bytes(lines, header="姓,名,セイ,メイ,所属コード")).get_data(as_text=True)
    assert "The header has no column 職員番号." in page and "staff_number" not in page.split("errors-title")[1][:800]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_template_offers_japanese_headings_and_the_import_reads_them(app, admin, kind):
    page = admin.get("/office/staff/import").get_data(as_text=True)
    assert f"/office/staff/import/template.{kind}?headings=ja" in page
    response = admin.get(f"/office/staff/import/template.{kind}", query_string={"headings": "ja"})
    if kind == "csv":
        header = response.get_data().decode("utf-8-sig").splitlines()[0]
    else:
        sheet = load_workbook(io.BytesIO(response.get_data())).active
        header = ",".join(c.value for c in sheet[1])
    assert header == JA_HEADER
    response = upload(admin, csv_bytes(["3001,佐々木,健,ササキ,ケン,A,1部,,,none"], header=header))
    assert response.status_code == 302


@pytest.mark.parametrize("url", ["/desk/photo-retention", "/office/personal-data", "/reports/"])
def test_office_pages_show_no_command_line_commands(admin, url):
    page = admin.get(url).get_data(as_text=True)
    assert "flask --app" not in page and "purge-personal-data" not in page and "purge-photos" not in page


def test_the_status_workbook_says_which_rates_are_whole_unit_and_indents_with_excel(app, admin, office):
    with app.test_request_context():
        directory.create_unit(Actor.system(), code="A2", name="中央消防署 西出張所", parent_code="A")
        db.session.commit()
    sheet = load_workbook(io.BytesIO(admin.get("/reports/status.xlsx").get_data())).active
    header = [c.value for c in sheet[4]]
    assert header[-2:] == ["Application rate, staff and dependents together (%)",
                           "Acquisition rate, staff and dependents together (%)"]
    units = {sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=2) for r in range(5, sheet.max_row)}
    assert all(not cell.value.startswith(("　", " ")) for cell in units.values())
    assert units["HQ"].alignment.indent == 0 and units["A"].alignment.indent == 1
    assert units["A1"].alignment.indent == units["A2"].alignment.indent == 2
