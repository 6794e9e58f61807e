"""HQ files and pages: status.csv (API.md), its XLSX, the report upward, the dashboard and ranking."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from openpyxl import load_workbook

from booking.extensions import db
from booking.models import Staff
from booking.services import card_status, reports

STATUS_COLUMNS = ["unit_code", "unit", "staff", "staff_applied", "staff_received", "dependents",
                  "dependents_applied", "dependents_received", "application_rate", "acquisition_rate"]


def _rows(response) -> list[list[str]]:
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def _change(app, dept, number: str, status: str, on: date) -> None:
    with app.app_context():
        card_status.record_change(db.session.get(Staff, dept.staff_ids[number]), status, on=on, source="edit")
        db.session.commit()


def test_status_csv_has_the_columns_of_api_md_and_one_row_per_unit(app, client, dept, bearer):
    _change(app, dept, "2001", "received", card_status.today())
    response = client.get("/api/v1/reports/status.csv", headers=bearer("admin"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = _rows(response)
    # API.md's columns first, keeping their meaning; the card's columns (issue 18) come after them.
    assert rows[0][:10] == STATUS_COLUMNS
    by_code = {r[0]: r[:10] for r in rows[1:]}
    assert set(by_code) == {"HQ", "A", "A1", "B"}
    assert by_code["A"] == ["A", "中央消防署", "2", "1", "1", "1", "0", "0", "33.3", "33.3"]
    assert by_code["HQ"][2:] == ["0", "0", "0", "0", "0", "0", "0.0", "0.0"]


def test_status_csv_as_of_a_day_before_a_change_does_not_count_it(app, client, dept, bearer):
    today = card_status.today()
    _change(app, dept, "2001", "applied", today - timedelta(days=10))
    url = "/api/v1/reports/status.csv?as_of="
    before = {r[0]: r for r in _rows(client.get(url + (today - timedelta(days=11)).isoformat(),
                                                headers=bearer("admin")))}
    after = {r[0]: r for r in _rows(client.get(url + (today - timedelta(days=10)).isoformat(),
                                               headers=bearer("admin")))}
    assert before["A"][3] == "0" and after["A"][3] == "1"
    assert after["A"][8] == "33.3"


def test_a_chiefs_status_csv_holds_only_their_units(client, dept, bearer):
    rows = _rows(client.get("/api/v1/reports/status.csv", headers=bearer("chief", "A")))
    assert [r[0] for r in rows[1:]] == ["A", "A1"]


def test_a_wrong_as_of_date_is_refused_with_the_field_named(client, dept, bearer):
    response = client.get("/api/v1/reports/status.csv?as_of=31-12-2026", headers=bearer("admin"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid" and "as_of" in body["fields"]


def test_clerks_get_no_status_report(client, dept, bearer):
    assert client.get("/api/v1/reports/status.csv", headers=bearer("clerk")).status_code == 403
    assert client.get("/api/v1/reports/status.csv").status_code == 401


def test_status_xlsx_matches_the_csv_with_a_total_row(app, client, dept, login):
    _change(app, dept, "3001", "applied", card_status.today())
    login("admin")
    response = client.get("/reports/status.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.freeze_panes == "A5"
    rows = {sheet.cell(row=r, column=1).value: [c.value for c in sheet[r]] for r in range(5, sheet.max_row + 1)}
    assert rows["A1"][2:5] == [1, 1, 0]
    assert rows["A1"][5] == 100.0
    total = [c.value for c in sheet[sheet.max_row]]
    assert total[2] == 4 and total[3] == 1 and total[7] == 1  # four staff, one applied, one dependent


def test_the_report_upward_has_one_sheet_per_form_with_counts_rates_and_the_date(app, client, dept, login):
    today = card_status.today()
    first, second = today - timedelta(days=30), today - timedelta(days=1)
    _change(app, dept, "2001", "applied", today - timedelta(days=40))
    _change(app, dept, "4001", "received", today - timedelta(days=5))
    login("admin")
    response = client.get(f"/reports/upward?format=xlsx&as_of={first}&as_of={second}&department=福島市消防本部")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert len(workbook.sheetnames) == 2
    one, two = workbook.worksheets
    assert one["B3"].value == "福島市消防本部"
    assert one["B4"].value.date() == first and two["B4"].value.date() == second
    staff_row = [c.value for c in one[8]]
    assert staff_row[1:4] == [4, 1, 0]
    assert staff_row[4] == 25.0
    assert [c.value for c in two[8]][1:4] == [4, 2, 1]
    assert [c.value for c in two[9]][1] == 1  # one dependent
    merge_header = [c.value for c in one[15]]
    assert merge_header[:3] == ["department", "as_of", "staff"]
    assert [c.value for c in two[16]][2:5] == [4, 2, 1]
    assert int(one.page_setup.paperSize) == 9


def test_the_report_upward_as_csv_has_one_row_per_form(app, client, dept, login):
    login("admin")
    today = card_status.today()
    response = client.get(f"/reports/upward?format=csv&as_of={today}&department=X")
    rows = _rows(response)
    assert rows[0][:5] == ["department", "as_of", "staff", "staff_applied", "staff_received"]
    assert rows[1][:3] == ["X", today.isoformat(), "4"]
    assert len(rows) == 2


def test_the_report_upward_names_the_year_and_says_when_a_date_is_refused(app, client, dept, login):
    """A future survey date is not silently replaced by last year's: the page says it was not shown,
    and every form's heading carries its year."""
    login("admin")
    today = card_status.today()
    future_december = date(today.year + 1, 12, 31)  # after the coming surveys
    html = client.get(f"/reports/upward?lang=en&as_of={future_december}").get_data(as_text=True)
    assert f"Not shown: {future_december.isoformat()}" in html
    coming_march = reports.default_report_dates(today)[-1]
    assert f"end of March {coming_march.year}" in html
    december = max(d for d in (date(today.year - 1, 12, 31), date(today.year, 12, 31)) if d <= today)
    html = client.get(f"/reports/upward?lang=ja&as_of={december}").get_data(as_text=True)
    assert f"{december.year}年12月末" in html and "Not shown" not in html and "表示していません" not in html


def test_the_department_name_cannot_smuggle_a_formula_into_the_files(app, client, dept, login):
    login("admin")
    rows = _rows(client.get(f"/reports/upward?format=csv&as_of={card_status.today()}&department=@SUM(A1)"))
    assert rows[1][0] == "'@SUM(A1)"


def test_the_dashboard_shows_rates_charts_and_fill(app, client, dept, login):
    _change(app, dept, "2001", "applied", card_status.today())
    login("admin")
    response = client.get("/reports/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<svg") >= 3
    assert "中央消防署" in html and "北消防署" in html
    assert "5 / 12" in html  # seats taken / capacity of the world's session


def test_the_dashboard_is_for_admins_and_the_ranking_for_everyone(client, dept, login):
    login("chief", "A")
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/ranking").status_code == 200
    client.post("/office/logout")
    login("clerk")
    html = client.get("/reports/ranking").get_data(as_text=True)
    assert "北消防署" in html and "東出張所" in html


def test_a_dashboard_for_a_past_day(app, client, dept, login):
    login("admin")
    past = card_status.today() - timedelta(days=100)
    html = client.get(f"/reports/?as_of={past.isoformat()}").get_data(as_text=True)
    assert past.isoformat() in html
