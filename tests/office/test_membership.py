"""Membership over time (issue 18): joining and leaving dates through the import and the staff
page, and the full import's departures, confirmed by the office and never deleted."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, Dependent, Staff
from booking.services import card_status
from tests.office.test_import import confirm, csv_bytes, upload

HEADER = ("staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,"
          "card_status,joined_on,left_on")


@pytest.fixture
def admin(client, office, login):
    return login("admin")


def _staff(app, number: str) -> Staff:
    with app.app_context():
        staff = db.session.scalar(select(Staff).where(Staff.staff_number == number))
        db.session.expunge(staff)
        return staff


def _status_csv(client, day: date) -> dict[str, dict[str, str]]:
    response = client.get(f"/reports/status.csv?as_of={day.isoformat()}")
    assert response.status_code == 200
    return {row["unit_code"]: row for row in csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))}


def test_the_import_reads_joining_and_leaving_dates_under_either_heading(app, admin):
    lines = ["3001,山田,太郎,ヤマダ,タロウ,A,1部,,,none,2020/4/1,",
             "3002,山田,花子,ヤマダ,ハナコ,A1,2部,,,none,2019-04-01,2026-04-01"]
    response = upload(admin, csv_bytes(lines, header=HEADER))
    assert response.status_code == 302
    confirm(admin, response.headers["Location"])
    assert (_staff(app, "3001").joined_on, _staff(app, "3001").left_on) == (date(2020, 4, 1), None)
    assert (_staff(app, "3002").joined_on, _staff(app, "3002").left_on) == (date(2019, 4, 1), date(2026, 4, 1))

    japanese = "職員番号,姓,名,セイ,メイ,所属コード,入職日,離職日"
    response = upload(admin, csv_bytes(["3001,山田,太郎,ヤマダ,タロウ,A,2020-04-01,2027-04-01"], header=japanese))
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "left_on" in page and "2027-04-01" in page  # the preview names the change
    confirm(admin, response.headers["Location"])
    assert _staff(app, "3001").left_on == date(2027, 4, 1)


def test_a_date_that_is_no_date_or_a_leaving_before_joining_is_refused_with_its_cell(app, admin):
    lines = ["3001,山田,太郎,ヤマダ,タロウ,A,1部,,,none,2020-13-01,",
             "3002,山田,花子,ヤマダ,ハナコ,A1,2部,,,none,2020-04-01,2020-04-01"]
    response = upload(admin, csv_bytes(lines, header=HEADER))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r"<td>2</td><td>K2</td><td>joined_on</td><td>Write the date as YYYY-MM-DD", page)
    assert re.search(r"<td>3</td><td>L3</td><td>left_on</td><td>The leaving date must be after", page)
    assert _staff(app, "1001").left_on is None


def test_the_staff_page_shows_and_edits_the_dates_of_staff_and_dependents(app, admin, office):
    staff_id, spouse_id = office.ids["staff_a"], office.ids["spouse"]
    page = admin.get(f"/office/staff/{staff_id}").get_data(as_text=True)
    assert 'name="joined_on"' in page and 'name="left_on"' in page and "Not recorded (counted from" in page
    form = {"family_name": "佐藤", "given_name": "翔太", "family_name_kana": "サトウ", "given_name_kana": "ショウタ",
            "unit_id": str(office.ids["A"]), "crew": "1部", "phone": "090-1111-2222", "card_status": "none",
            "joined_on": "2015-04-01", "left_on": "2015-04-01"}
    refused = admin.post(f"/office/staff/{staff_id}", data=form)
    assert refused.status_code == 422 and "The leaving date must be after the joining date." in refused.get_data(
        as_text=True)
    assert admin.post(f"/office/staff/{staff_id}", data={**form, "left_on": "2030-04-01"}).status_code == 302
    assert (_staff(app, "1001").joined_on, _staff(app, "1001").left_on) == (date(2015, 4, 1), date(2030, 4, 1))
    dependent = {"dep1-family_name": "佐藤", "dep1-given_name": "陽子", "dep1-family_name_kana": "サトウ",
                 "dep1-given_name_kana": "ヨウコ", "dep1-relation": "妻", "dep1-card_status": "none",
                 "dep1-joined_on": "2016-05-01", "dep1-left_on": "2025-01-01"}
    dependent = {k.replace("dep1-", f"dep{spouse_id}-"): v for k, v in dependent.items()}
    assert admin.post(f"/office/staff/{staff_id}/dependents/{spouse_id}", data=dependent).status_code == 302
    with app.app_context():
        spouse = db.session.get(Dependent, spouse_id)
        assert (spouse.joined_on, spouse.left_on) == (date(2016, 5, 1), date(2025, 1, 1))
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert "membership.edit" in actions
    page = admin.get(f"/office/staff/{staff_id}").get_data(as_text=True)
    assert "Not a dependent from" in page


def test_staff_missing_from_a_full_import_are_offered_as_left_and_never_deleted(app, admin, office):
    today = card_status.today()
    with app.app_context():
        for staff in db.session.scalars(select(Staff)):
            staff.joined_on = date(2010, 4, 1)
        for dependent in db.session.scalars(select(Dependent)):
            dependent.joined_on = date(2010, 4, 1)
        db.session.commit()
    # The whole staff list without 1002 (鈴木) and 2001 (高橋).
    lines = ["1001,佐藤,翔太,サトウ,ショウタ,A,1部,,,none,,", "3001,山田,太郎,ヤマダ,タロウ,A,1部,,,none,,"]
    response = upload(admin, csv_bytes(lines, header=HEADER))
    preview_url = response.headers["Location"]
    page = admin.get(preview_url).get_data(as_text=True)
    assert "2 staff on record are not in this file." in page
    confirm(admin, preview_url)
    batch = preview_url.rstrip("/").split("/")[-1]
    progress = admin.get(f"/office/staff/import/{batch}/progress").get_data(as_text=True)
    assert "Staff not in the file (2)" in progress

    page = admin.get(f"/office/staff/import/{batch}/departures").get_data(as_text=True)
    assert "1002" in page and "2001" in page and ">1001<" not in page and ">3001<" not in page
    assert f'value="{today.isoformat()}"' in page  # the day defaults to today
    assert page.count(" checked") == 2  # every missing one ticked, to untick who has not left
    # Nothing changes until the office confirms.
    assert _staff(app, "1002").left_on is None and _staff(app, "2001").left_on is None

    left_on = today - timedelta(days=10)
    before = _status_csv(admin, left_on - timedelta(days=1))
    nobody = admin.post(f"/office/staff/import/{batch}/departures", data={"left_on": left_on.isoformat()})
    assert nobody.status_code == 422 and "Tick the staff who have left." in nobody.get_data(as_text=True)
    done = admin.post(f"/office/staff/import/{batch}/departures",
                      data={"left_on": left_on.isoformat(), "staff_ids": [str(office.ids["staff_a1"])]})
    assert done.status_code == 302
    assert _staff(app, "1002").left_on == left_on and _staff(app, "2001").left_on is None
    with app.app_context():
        assert db.session.get(Staff, office.ids["staff_a1"]) is not None  # on record still
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.staff.departures"))
        assert event.details["count"] == 1 and event.details["left_on"] == left_on.isoformat()
    # Reports before the day still count 鈴木; from the day on, unit A1 has nobody.
    assert _status_csv(admin, left_on - timedelta(days=1)) == before
    assert before["A1"]["staff"] == "1"
    assert _status_csv(admin, left_on)["A1"]["staff"] == "0"
    page = admin.get(f"/office/staff/import/{batch}/departures").get_data(as_text=True)
    assert "1002" not in page and "2001" in page  # only who is still serving is offered again
