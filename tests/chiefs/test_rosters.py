"""Rosters: rows in time order, the unit boundary, the CSV/XLSX files and the paginated print view."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from booking.extensions import db
from booking.models import Reservation
from booking.services import reports, reservations
from booking.services.actor import Actor

API_COLUMNS = ["time", "code", "staff_number", "name", "kana", "unit", "crew", "kind", "status"]


def _csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_roster_rows_come_in_time_order_with_dependents_after_their_staff(app, ctx, dept):
    rows = reports.roster_rows([dept.world.session_id])
    assert [(r.time, r.staff_number, r.kind) for r in rows] == [
        ("15:00", "1001", "staff"),
        ("15:00", "1001", "dependent"),
        ("15:10", "3001", "staff"),
        ("15:10", "4001", "staff"),
        ("15:20", "2001", "staff"),
    ]
    spouse = rows[1]
    assert (spouse.name, spouse.kana, spouse.relation, spouse.unit) == ("佐藤 陽子", "サトウ ヨウコ", "妻", "中央消防署")


def test_a_chiefs_roster_stops_at_the_boundary_of_their_units(app, ctx, dept):
    a_and_below = {dept.unit_ids["A"], dept.unit_ids["A1"]}
    numbers = [r.staff_number for r in reports.roster_rows([dept.world.session_id], a_and_below)]
    assert numbers == ["1001", "1001", "3001", "2001"]
    assert [r.staff_number for r in reports.roster_rows([dept.world.session_id], {dept.unit_ids["B"]})] == ["4001"]


def test_cancelled_bookings_leave_the_roster(app, ctx, dept):
    reservation = db.session.get(Reservation, dept.reservation_ids["2001"])
    reservations.cancel(reservation)
    db.session.commit()
    assert "2001" not in [r.staff_number for r in reports.roster_rows([dept.world.session_id])]


def test_roster_csv_from_the_api_has_a_bom_and_the_columns_of_api_md(client, dept, bearer):
    response = client.get(f"/api/v1/sessions/{dept.world.session_id}/roster.csv", headers=bearer("admin"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = _csv(response)
    assert rows[0] == API_COLUMNS
    assert rows[1][0] == "15:00" and rows[1][2] == "1001" and rows[1][7] == "staff" and rows[1][8] == "booked"
    assert rows[2][3] == "佐藤 陽子" and rows[2][7] == "dependent"
    assert re.fullmatch(r"[A-Z0-9]{6,12}", rows[1][1])
    assert len(rows) == 6


def test_a_chief_gets_only_their_units_rows_from_the_api(client, dept, bearer):
    url = f"/api/v1/sessions/{dept.world.session_id}/roster.csv"
    rows_a = _csv(client.get(url, headers=bearer("chief", "A")))
    rows_b = _csv(client.get(url, headers=bearer("chief", "B")))
    assert [r[2] for r in rows_a[1:]] == ["1001", "1001", "3001", "2001"]
    assert [r[2] for r in rows_b[1:]] == ["4001"]


def test_a_clerk_or_a_stranger_gets_no_roster(client, dept, bearer):
    url = f"/api/v1/sessions/{dept.world.session_id}/roster.csv"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get(url, headers=bearer("clerk"))
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_an_unknown_session_has_no_roster(client, dept, bearer):
    response = client.get("/api/v1/sessions/99999/roster.csv", headers=bearer("admin"))
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_roster_xlsx_has_a_title_a_frozen_header_widths_and_a4_setup(client, dept, login):
    login("chief", "A")
    response = client.get(f"/chiefs/sessions/{dept.world.session_id}/roster?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert "出張申請" in sheet["A1"].value
    assert "中央消防署 会議室" in sheet["A2"].value
    assert sheet.freeze_panes == "A5"
    assert sheet.print_title_rows == "$4:$4"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.column_dimensions["D"].width >= 14
    header = [c.value for c in sheet[4]]
    assert len(header) == 12
    names = [sheet.cell(row=r, column=4).value for r in range(5, sheet.max_row + 1)]
    assert names == ["佐藤 翔太", "佐藤 陽子", "山田 花子", "高橋 大輔"]
    assert sheet.cell(row=5, column=1).value == "15:00"


def test_roster_csv_page_download_matches_the_api(client, dept, login):
    login("admin")
    response = client.get(f"/chiefs/sessions/{dept.world.session_id}/roster?format=csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert _csv(response)[0] == API_COLUMNS


def test_print_view_cuts_rows_into_numbered_a4_pages(app, client, dept, login):
    pairs = dept.world.add_staff(45, start=5000)
    from datetime import time

    from booking.models import DeskSession
    from booking.services import campaigns, directory

    with app.test_request_context(base_url="http://localhost"):
        session = db.session.get(DeskSession, dept.world.session_id)
        big = campaigns.create_session(Actor.system(), session.campaign, venue_id=session.venue_id, day=session.date, start=time(9), end=time(12), slot_minutes=10, desks=3)
        for index, (number, _code) in enumerate(pairs):
            reservations.reserve(big.slots[index // 3].id, directory.staff_by_number(number))
        db.session.commit()
        big_id = big.id
    login("admin")
    html = client.get(f"/chiefs/sessions/{big_id}/roster").get_data(as_text=True)
    assert html.count('class="sheet roster"') == 3  # 45 rows, 22 per page
    for n in (1, 2, 3):
        assert f"{n} / 3" in html
    assert html.count("<thead>") == 3
    assert html.count("受付名簿") + html.count("Reception roster") >= 3


def test_day_roster_holds_every_session_at_the_venue_that_day(app, client, dept, login):
    from datetime import time

    from booking.models import DeskSession
    from booking.services import campaigns, directory

    [(number, _code)] = dept.world.add_staff(1, unit="B", start=4100)
    with app.test_request_context(base_url="http://localhost"):
        session = db.session.get(DeskSession, dept.world.session_id)
        evening = campaigns.create_session(Actor.system(), session.campaign, venue_id=session.venue_id, day=session.date, start=time(18), end=time(19), slot_minutes=10, desks=1)
        reservations.reserve(evening.slots[0].id, directory.staff_by_number(number))
        db.session.commit()
        venue_id, day = session.venue_id, session.date.isoformat()
    login("chief", "B")
    rows = _csv(client.get(f"/chiefs/venues/{venue_id}/{day}/roster?format=csv"))
    assert [(r[0], r[2]) for r in rows[1:]] == [("15:10", "4001"), ("18:00", "4100")]
    html = client.get(f"/chiefs/venues/{venue_id}/{day}/roster").get_data(as_text=True)
    assert "15:00–16:00, 18:00–19:00" in html


def test_formula_like_names_are_neutralised_in_roster_files(app, client, dept, login):
    from booking.models import Staff

    with app.app_context():
        staff = db.session.get(Staff, dept.staff_ids["2001"])
        staff.family_name = "=HYPERLINK(\"http://evil\")"
        staff.crew = "+1部"
        db.session.commit()
    login("admin")
    rows = _csv(client.get(f"/chiefs/sessions/{dept.world.session_id}/roster?format=csv"))
    takahashi = next(r for r in rows if r[2] == "2001")
    assert takahashi[3].startswith("'=HYPERLINK")
    assert takahashi[6] == "'+1部"
    sheet = load_workbook(io.BytesIO(client.get(
        f"/chiefs/sessions/{dept.world.session_id}/roster?format=xlsx").get_data())).active
    values = [c.value for row in sheet.iter_rows(min_row=5) for c in row]
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK") for v in values)
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)


def test_the_rosters_page_lists_sessions_with_a_chiefs_people(client, dept, login):
    login("chief", "B")
    html = client.get("/chiefs/").get_data(as_text=True)
    assert "中央消防署 会議室" in html
    assert f"/chiefs/sessions/{dept.world.session_id}/roster" in html


def test_clerks_cannot_open_the_chiefs_pages(client, dept, login):
    login("clerk")
    assert client.get("/chiefs/").status_code == 403
    assert client.get(f"/chiefs/sessions/{dept.world.session_id}/roster").status_code == 403
