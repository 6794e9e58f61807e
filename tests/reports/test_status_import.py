"""The monthly status survey import: preview, then confirm, all or nothing; CSV (UTF-8 / CP932) and XLSX."""
from __future__ import annotations

import base64
import io
import re
from datetime import timedelta

from openpyxl import Workbook
from sqlalchemy import event, func, select

from booking.extensions import db
from booking.models import CardStatusEvent, Dependent, Staff
from booking.services import card_status, directory


def _upload(client, data: bytes, name: str, survey_date):
    return client.post("/reports/status-import", data={
        "file": (io.BytesIO(data), name), "survey_date": survey_date.isoformat()},
        content_type="multipart/form-data")


def _payload(html: str) -> dict:
    fields = dict(re.findall(r'name="(payload|filename|survey_date)" type="hidden" value="([^"]*)"', html))
    if not fields:
        fields = {m[1]: m[0] for m in re.findall(r'type="hidden" value="([^"]*)" name="(payload|filename|survey_date)"', html)}
    return fields


def _events(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CardStatusEvent))


def test_a_preview_shows_the_changes_and_saves_nothing(app, client, dept, login):
    login("admin")
    today = card_status.today()
    text = "staff_number,dependent_name,card_status,status_date\n2001,,applied,\n3001,,received,\n4001,,none,\n"
    response = _upload(client, text.encode(), "survey.csv", today)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "高橋 大輔" in html and "山田 花子" in html
    assert "鈴木 一郎" not in html  # already none: unchanged
    assert _events(app) == 0


def test_confirming_records_dated_events_from_the_import(app, client, dept, login):
    login("admin")
    today = card_status.today()
    earlier = today - timedelta(days=12)
    text = f"staff_number,dependent_name,card_status,status_date\n2001,,申請済,{earlier}\n1001,陽子,received,\n"
    preview = _upload(client, text.encode("cp932"), "survey.csv", today).get_data(as_text=True)
    fields = _payload(preview)
    assert set(fields) == {"payload", "filename", "survey_date"}
    response = client.post("/reports/status-import/confirm", data=fields)
    assert response.status_code == 302
    with app.app_context():
        staff = db.session.get(Staff, dept.staff_ids["2001"])
        spouse = db.session.get(Dependent, dept.world.dependent_id)
        assert (staff.card_status, staff.card_status_on) == ("applied", earlier)
        assert (spouse.card_status, spouse.card_status_on) == ("received", today)
        sources = db.session.scalars(select(CardStatusEvent.source)).all()
        assert sources == ["import", "import"]


def test_one_bad_line_stops_the_whole_import_and_names_line_and_column(app, client, dept, login):
    login("admin")
    text = "staff_number,card_status\n2001,applied\n9999,applied\n3001,maybe\n"
    response = _upload(client, text.encode(), "survey.csv", card_status.today())
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<td>3</td><td>staff_number</td>" in html
    assert "<td>4</td><td>card_status</td>" in html
    assert _events(app) == 0


def test_a_confirmation_is_checked_again_and_refused_when_the_file_went_bad(app, client, dept, login):
    login("admin")
    bad = base64.b64encode(b"staff_number,card_status\n2001,weird\n").decode()
    response = client.post("/reports/status-import/confirm", data={
        "payload": bad, "filename": "x.csv", "survey_date": card_status.today().isoformat()})
    assert response.status_code == 422
    assert _events(app) == 0


def test_an_xlsx_survey_is_read_from_its_first_sheet(app, client, dept, login):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["staff_number", "card_status", "status_date"])
    sheet.append([2001, "取得済", None])
    sheet.append(["4001", "applied", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    login("admin")
    preview = _upload(client, buffer.getvalue(), "survey.xlsx", card_status.today())
    assert preview.status_code == 200
    assert client.post("/reports/status-import/confirm", data=_payload(preview.get_data(as_text=True))).status_code == 302
    with app.app_context():
        assert db.session.get(Staff, dept.staff_ids["2001"]).card_status == "received"
        assert db.session.get(Staff, dept.staff_ids["4001"]).card_status == "applied"


def test_an_individual_number_in_the_file_is_refused(app, client, dept, login):
    login("admin")
    text = "staff_number,dependent_name,card_status\n2001,123456789018,applied\n"
    response = _upload(client, text.encode(), "survey.csv", card_status.today())
    assert response.status_code == 422
    assert "<td>2</td><td>dependent_name</td>" in response.get_data(as_text=True)


def test_only_admins_import_the_survey(client, dept, login):
    login("chief", "A")
    assert client.get("/reports/status-import").status_code == 403


def test_a_survey_file_with_a_nul_character_is_refused_with_its_line(app, client, dept, login):
    # A UTF-16 or damaged file: PostgreSQL could not even look its staff numbers up.
    login("admin")
    before = _events(app)
    text = "staff_number,dependent_name,card_status,status_date\n2001,,applied,\n30\x0001,,received,\n"
    response = _upload(client, text.encode(), "survey.csv", card_status.today())
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:300]
    assert "<td>3</td><td></td>" in page  # the line with the NUL, no single column to blame
    assert _events(app) == before


def test_a_large_survey_is_read_and_written_in_a_few_statements_whatever_its_length(app, client, dept, login):
    """Hundreds of lines, each person's history consulted: the statements do not grow with the
    lines (one query per person made a department's survey take seconds), and a change dated
    before a person's latest one is slotted into the history without changing their row."""
    login("admin")
    today = card_status.today()
    with app.test_request_context():
        unit = directory.unit_by_code("B")
        for n in range(300):
            staff = directory.add_staff(staff_number=str(70000 + n), family_name="消防", given_name=str(n),
                                           family_name_kana="ショウボウ", given_name_kana="タロウ", unit=unit)
            if n % 3 == 0:  # a history that the import has to respect
                db.session.flush()
                card_status.record_change(staff, "received", on=today - timedelta(days=2), source="edit")
        db.session.commit()
    early = today - timedelta(days=20)
    text = "staff_number,card_status,status_date\n" + "".join(
        f"{70000 + n},applied,{early}\n" for n in range(300))
    fields = _payload(_upload(client, text.encode(), "survey.csv", today).get_data(as_text=True))

    statements = []
    listener = lambda *args: statements.append(args[2])
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.post("/reports/status-import/confirm", data=fields)
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 302
    assert len(statements) < 40, f"{len(statements)} statements for 300 lines"

    with app.app_context():
        rows = {s.staff_number: (s.card_status, s.card_status_on) for s in db.session.scalars(
            select(Staff).where(Staff.staff_number.like("7____")))}
        assert rows["70000"] == ("received", today - timedelta(days=2))  # the later change stays latest
        assert rows["70001"] == ("applied", early)
        assert len(rows) == 300
        assert db.session.scalar(select(func.count()).select_from(CardStatusEvent).where(
            CardStatusEvent.source == "import")) == 300
        staff = db.session.scalar(select(Staff).where(Staff.staff_number == "70000"))
        timeline = card_status.timeline_of(staff)
        assert [timeline.on(early - timedelta(days=1)), timeline.on(early), timeline.on(today)] == [
            "none", "applied", "received"]


def test_a_survey_dated_in_the_future_is_refused_at_the_upload_with_the_date_field_marked(app, client, dept, login):
    login("admin")
    response = _upload(client, b"staff_number,card_status\n2001,applied\n", "survey.csv",
                       card_status.today() + timedelta(days=3))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "調査日に未来の日付は指定できません。" in html
    assert 'name="payload"' not in html  # no preview to confirm
    assert _events(app) == 0
