"""XLSX staff lists that would exhaust a worker (issue 17, item 7) are refused before they are parsed,
or read within bounds; ordinary workbooks are read as before."""
from __future__ import annotations

import io
import sqlite3
import time

import pytest
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, StaffImportBatch
from booking.services import staff_import, xlsx_limits
from tests.office.xlsx_files import bomb, cells, sheet_xml, with_sheet

HEADER = ["staff_number", "family_name", "given_name", "family_name_kana", "given_name_kana", "unit_code"]
ROW = ["3001", "山田", "太郎", "ヤマダ", "タロウ", "A"]


def upload(client, data: bytes, name: str = "staff.xlsx"):
    return client.post("/office/staff/import?lang=en", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.fixture
def admin(client, office, login):
    return login("admin")


def staged(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StaffImportBatch))


def test_a_workbook_that_unpacks_to_65_mb_is_refused_from_its_directory(app, admin):
    data = bomb(HEADER, 65)
    assert len(data) < 1024 * 1024  # under 1 MB on the wire

    started = time.monotonic()
    response = upload(admin, data)

    assert time.monotonic() - started < 5  # nothing of it was parsed (it used to take minutes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The workbook is too large to read: 66 MB once unpacked, and at most 64 MB can be read" in page
    assert "save it as CSV" in page
    assert staged(app) == 0
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "import.staff.refused"


def test_a_sheet_packed_hundreds_to_one_is_refused_whatever_its_size(app, admin):
    # 3 MB of identical rows: small enough for the size limits, but no real sheet packs like this.
    response = upload(admin, bomb(HEADER, 3))

    assert response.status_code == 422
    assert "unpacks to" in response.get_data(as_text=True)
    assert "times its size" in response.get_data(as_text=True)
    assert staged(app) == 0


def test_a_sheet_that_declares_every_cell_of_excel_is_read_as_the_rows_it_holds(app, admin):
    # openpyxl makes every row as wide as the declared range: 10,000 empty rows (100 KB of XML)
    # became 10,000 x 16,384 values, 1.3 GB of lists and minutes of work, unless the reader bounds it.
    rows = f"<row r='1'>{cells(HEADER)}</row><row r='2'>{cells(ROW)}</row>" + "<row/>" * 10_000
    data = with_sheet([sheet_xml(rows, dimension="A1:XFD1048576")])

    started = time.monotonic()
    response = upload(admin, data)

    assert time.monotonic() - started < 5
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert "/office/staff/import/" in response.headers["Location"]
    assert staged(app) == 1


def test_a_row_past_excels_last_row_is_refused(app, admin):
    data = with_sheet([sheet_xml(f"<row r='1'>{cells(HEADER)}</row><row r='2'>{cells(ROW)}</row>"
                                 f"<row r='2000000'>{cells(['3002'])}</row>")])

    response = upload(admin, data)

    assert response.status_code == 422
    assert "last row (1,048,576), so it cannot be read" in response.get_data(as_text=True)
    assert staged(app) == 0


def test_a_sheet_with_more_rows_than_the_limit_is_refused_with_what_to_do(app, admin, monkeypatch):
    monkeypatch.setattr(xlsx_limits, "MAX_ROWS", 3)
    rows = [HEADER] + [[str(3001 + n), *ROW[1:]] for n in range(3)]
    data = with_sheet([sheet_xml("".join(f"<row>{cells(r)}</row>" for r in rows))])

    response = upload(admin, data)

    assert response.status_code == 422
    assert "The sheet has more than 3 rows. Split it into several files" in response.get_data(as_text=True)


def test_columns_past_the_64th_and_empty_rows_are_not_read(app, admin):
    rows = (f"<row r='1'>{cells(HEADER)}</row><row r='3'>{cells(ROW)}<c r='XFD3' t='inlineStr'><is><t>far"
            "</t></is></c></row><row r='4'><c r='XFD4'><v>1</v></c></row>")
    response = upload(admin, with_sheet([sheet_xml(rows)]))

    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    preview = admin.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "3001" in preview and "far" not in preview


def test_a_file_over_the_upload_limit_gets_a_page_that_says_what_to_do(app, admin):
    app.config["MAX_CONTENT_LENGTH"] = 50_000

    response = upload(admin, b"x" * 60_000, "staff.csv")

    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The file is too large" in page
    assert "larger than the server accepts" in page and "save it as CSV, or split it" in page


def test_no_write_lock_is_held_while_the_file_is_read(app, admin, monkeypatch):
    """Reading an upload took SQLite's write lock with it (the stale-batch DELETE ran first), so
    every booking waited while a big file was parsed, and a second upload got 503."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's one write lock; PostgreSQL's DELETE locks only the rows it deletes")
        path = db.engine.url.database
    seen = []
    read = staff_import.parse_upload

    def reading(filename, data):
        other = sqlite3.connect(path, timeout=0.1)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
            seen.append("free")
        except sqlite3.OperationalError:
            seen.append("locked")
        finally:
            other.close()
        return read(filename, data)

    monkeypatch.setattr(staff_import, "parse_upload", reading)
    csv = ",".join(HEADER) + "\r\n" + ",".join(ROW) + "\r\n"
    response = upload(admin, csv.encode(), "staff.csv")

    assert response.status_code == 302
    assert seen == ["free"]
    assert staged(app) == 1
