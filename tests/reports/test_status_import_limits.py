"""The card status survey refuses an XLSX file that would exhaust a worker (issue 17, item 7), on the
page, with a message that says what to do; the rows of an ordinary survey are read as before."""
from __future__ import annotations

import io
import time

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import CardStatusEvent
from booking.services import card_status
from tests.office.xlsx_files import bomb, cells, sheet_xml, with_sheet


def _upload(client, data: bytes, name: str = "survey.xlsx"):
    return client.post("/reports/status-import?lang=en", data={
        "file": (io.BytesIO(data), name), "survey_date": card_status.today().isoformat()},
        content_type="multipart/form-data")


def test_a_survey_that_unpacks_to_65_mb_is_refused_on_the_page(app, client, dept, login):
    login("admin")

    response = _upload(client, bomb(["staff_number", "card_status"], 65))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported." in page
    assert "The workbook is too large to read: 66 MB once unpacked" in page and "save it as CSV" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CardStatusEvent)) == 0


def test_a_survey_declaring_every_cell_of_excel_is_read_as_the_rows_it_holds(app, client, dept, login):
    login("admin")
    # 10,000 empty rows in a sheet that declares all of Excel's columns: 16,384 values each
    # (1.3 GB of lists) unless the reader bounds the columns and leaves empty rows out.
    rows = (f"<row r='1'>{cells(['staff_number', 'card_status'])}</row><row r='3'>{cells(['2001', '取得済'])}</row>"
            + "<row/>" * 10_000)

    started = time.monotonic()
    response = _upload(client, with_sheet([sheet_xml(rows, dimension="A1:XFD1048576")]))

    assert time.monotonic() - started < 5
    assert response.status_code == 200, response.get_data(as_text=True)[-3000:]
    assert "2001" in response.get_data(as_text=True)
