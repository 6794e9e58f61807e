"""The staff import: upload → preview → confirm → progress, CSV in UTF-8 or CP932, XLSX; nothing is
written unless the whole file is right."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, Staff, StaffImportBatch, StaffImportRows
from booking.services import staff_import
from tests.office.import_steps import batch_of, wait_for_import

HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"
GOOD = [
    "3001,山田,太郎,ヤマダ,タロウ,A,1部,,,none",
    "3002,山田,花子,やまだ,はなこ,A1,2部,,,applied",
    "3003,伊藤,誠,ｲﾄｳ,ﾏｺﾄ,B,日勤,ito@example.jp,,",
]


def csv_bytes(lines, encoding="utf-8", header=HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode(encoding)


def upload(client, data: bytes, name: str = "staff.csv"):
    return client.post("/office/staff/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def staff_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Staff.id)))


def confirm(client, preview_url: str):
    """Confirm the preview; when that started the import, wait until the background job has ended."""
    page = client.get(preview_url).get_data(as_text=True)
    batch = re.search(r'name="batch" type="hidden" value="([^"]+)"', page).group(1)
    digest = re.search(r'name="digest" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/office/staff/import/{batch}/confirm", data={"batch": batch, "digest": digest})
    if response.status_code == 302 and response.headers["Location"].endswith("/progress"):
        wait_for_import(client, batch)
    return response


@pytest.fixture
def admin(client, office, login):
    return login("admin")


def test_a_file_with_one_bad_line_shows_its_line_and_column_and_imports_nothing(app, admin):
    before = staff_count(app)
    lines = [GOOD[0], "3002,山田,,ヤマダ,ハナコ,ZZ,2部,,,none", GOOD[2]]
    response = upload(admin, csv_bytes(lines))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    # Line 3 of the file (the header is line 1): given_name is column C, unit_code column F.
    assert re.search(r"<td>3</td><td>C3</td><td>given_name</td><td>This column is required.", page)
    assert re.search(r"<td>3</td><td>F3</td><td>unit_code</td><td>No unit has the code ZZ.", page)
    assert staff_count(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffImportBatch)) == 0


def test_the_preview_lists_what_will_be_created_updated_and_left_unchanged(app, admin, office):
    lines = [*GOOD, "1001,佐藤,翔太,サトウ,ショウタ,A,3部,,090-1111-2222,none",
             "2001,高橋,健一,タカハシ,ケンイチ,B,1部,,,applied"]
    response = upload(admin, csv_bytes(lines))
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'o-total__n">3</span> to create', page)
    assert re.search(r'o-total__n">1</span> to update', page)
    assert re.search(r'o-total__n">1</span> unchanged', page)
    assert "<code>crew</code> 1部 → <strong>3部</strong>" in page
    assert staff_count(app) == 3  # nothing yet


def test_confirming_imports_exactly_the_preview_and_records_it(app, admin):
    response = upload(admin, csv_bytes(GOOD))
    response = confirm(admin, response.headers["Location"])
    assert response.status_code == 302 and response.headers["Location"].endswith("/progress")
    assert staff_count(app) == 6
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "The import is finished: 3 created, 0 updated, 0 unchanged." in page
    assert 'href="/office/staff"' in page
    with app.app_context():
        started = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.staff.started"))
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.staff"))
        assert (started.details["lines"], started.actor) == (3, "admin")
        assert (event.details["created"], event.details["updated"], event.actor) == (3, 0, "admin")
        assert event.details["filename"] == "staff.csv" and len(event.details["sha256"]) == 64
        batch = db.session.scalar(select(StaffImportBatch))
        # Kept for the progress page, without the rows.
        assert (batch.state, batch.applied, batch.total, batch.rows) == ("done", 3, 3, None)
        assert db.session.scalar(select(func.count()).select_from(StaffImportRows)) == 0


def test_the_fixed_file_imports_after_the_refused_one(app, admin):
    bad = [GOOD[0], "3002,山田,花子,ヤマダ,ハナコ,ZZ,2部,,,none"]
    assert upload(admin, csv_bytes(bad)).status_code == 422
    fixed = [GOOD[0], "3002,山田,花子,ヤマダ,ハナコ,A,2部,,,none"]
    response = upload(admin, csv_bytes(fixed))
    assert confirm(admin, response.headers["Location"]).status_code == 302
    assert staff_count(app) == 5


def test_a_confirmation_with_another_fingerprint_imports_nothing(app, admin):
    response = upload(admin, csv_bytes(GOOD))
    batch = response.headers["Location"].rsplit("/", 1)[1]
    response = admin.post(f"/office/staff/import/{batch}/confirm", data={"batch": batch, "digest": "0" * 64})
    assert response.status_code == 302 and response.headers["Location"].endswith(batch)
    assert staff_count(app) == 3


def test_a_staff_list_changed_after_the_preview_is_not_imported_blindly(app, admin, office):
    lines = [*GOOD, "1001,佐藤,翔太,サトウ,ショウタ,A,3部,,,none"]
    location = upload(admin, csv_bytes(lines)).headers["Location"]
    page = admin.get(location).get_data(as_text=True)
    batch = re.search(r'name="batch" type="hidden" value="([^"]+)"', page).group(1)
    digest = re.search(r'name="digest" type="hidden" value="([^"]+)"', page).group(1)
    with app.app_context():  # someone else moves 1001 to 3部 meanwhile
        db.session.get(Staff, office.ids["staff_a"]).crew = "3部"
        db.session.commit()
    response = admin.post(f"/office/staff/import/{batch}/confirm", data={"batch": batch, "digest": digest})
    assert response.status_code == 302
    assert "staff list changed since this preview" in admin.get(location).get_data(as_text=True)
    assert staff_count(app) == 3


def test_an_import_that_fails_inside_a_chunk_leaves_nothing_of_that_chunk(app, admin, monkeypatch):
    location = upload(admin, csv_bytes(GOOD)).headers["Location"]
    real_row = staff_import.new_staff_row
    calls = []

    def row_then_fail(values, unit_id):
        calls.append(values["staff_number"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_row(values, unit_id)

    monkeypatch.setattr(staff_import, "new_staff_row", row_then_fail)
    response = confirm(admin, location)
    assert calls == ["3001", "3002"]
    assert staff_count(app) == 3
    state = wait_for_import(admin, batch_of(response.headers["Location"]))
    assert (state["state"], state["applied"], state["created"]) == ("failed", 0, 0)
    assert "error on the server (RuntimeError)" in state["message"]


def test_only_the_admin_who_uploaded_may_confirm(app, admin, office):
    location = upload(admin, csv_bytes(GOOD)).headers["Location"]
    with app.app_context():
        from booking.services import accounts

        accounts.ensure_user("admin2", "admin", password="correct horse battery")
        db.session.commit()
    other = app.test_client()
    other.post("/office/login", data={"username": "admin2", "password": "correct horse battery"})
    assert other.get(location).status_code == 404


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig"])
def test_csv_files_in_shift_jis_and_utf_8_with_or_without_bom_are_read(app, admin, encoding):
    location = upload(admin, csv_bytes(GOOD, encoding)).headers["Location"]
    assert confirm(admin, location).status_code == 302
    with app.app_context():
        staff = db.session.scalar(select(Staff).where(Staff.staff_number == "3002"))
        assert (staff.family_name, staff.unit.code) == ("山田", "A1")


def test_full_width_digits_and_spaces_in_staff_numbers_are_folded(app, admin):
    location = upload(admin, csv_bytes(["３００１,山田,太郎,ヤマダ,タロウ,A,1部,,,", "30 02,山田,花子,ヤマダ,ハナコ,A,,,,",
                                         "３００３　,伊藤,誠,イトウ,マコト,Ａ,,,,"])).headers["Location"]
    assert confirm(admin, location).status_code == 302
    with app.app_context():
        numbers = set(db.session.scalars(select(Staff.staff_number).where(Staff.staff_number.like("300%"))))
    assert numbers == {"3001", "3002", "3003"}


def test_the_same_staff_number_twice_in_a_file_is_refused_with_both_lines(admin):
    response = upload(admin, csv_bytes([GOOD[0], GOOD[0].replace("太郎", "次郎")]))
    assert response.status_code == 422
    assert "Staff number 3001 already appears on line 2." in response.get_data(as_text=True)


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_excel_workbook_with_japanese_headings_and_numeric_staff_numbers_is_read(app, admin):
    data = _xlsx([
        ["職員番号", "姓", "名", "セイ", "メイ", "所属コード", "部", "カード状況"],
        [3001, "山田", "太郎", "ヤマダ", "タロウ", "A", "1部", "申請済"],
        [3002.0, "山田", "花子", "ヤマダ", "ハナコ", "B", None, None],
    ])
    location = upload(admin, data, "名簿.xlsx").headers["Location"]
    assert confirm(admin, location).status_code == 302
    with app.app_context():
        staff = db.session.scalar(select(Staff).where(Staff.staff_number == "3001"))
        assert (staff.card_status, staff.crew) == ("applied", "1部")
        assert db.session.scalar(select(Staff).where(Staff.staff_number == "3002")).card_status == "none"


def test_an_excel_error_names_the_cell(admin):
    data = _xlsx([HEADER.split(","), [3001, "山田", "太郎", "ヤマダ", "タロウ", "A", "", "not-an-email"]])
    response = upload(admin, data, "staff.xlsx")
    assert response.status_code == 422
    assert "<td>2</td><td>H2</td><td>email</td>" in response.get_data(as_text=True)


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused_plainly(admin):
    response = upload(admin, b"PK\x03\x04not really a zip", "staff.xlsx")
    assert response.status_code == 422
    assert "not an Excel workbook" in response.get_data(as_text=True)


def test_the_templates_download_with_the_import_columns(admin):
    csv_template = admin.get("/office/staff/import/template.csv")
    assert csv_template.data.startswith("\ufeff".encode()) and csv_template.data.decode("utf-8-sig").strip() == HEADER + ",municipality_code,joined_on,left_on"
    xlsx_template = admin.get("/office/staff/import/template.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx_template.data)).worksheets[0]
    assert [c.value for c in sheet[1]] == [*HEADER.split(","), "municipality_code", "joined_on", "left_on"]


def test_the_exported_list_is_safe_from_formulas_and_imports_back_unchanged(app, admin, office):
    with app.app_context():
        db.session.get(Staff, office.ids["staff_b"]).crew = "=HYPERLINK()"
        db.session.commit()
    export = admin.get("/office/staff/export.csv")
    text = export.data.decode("utf-8-sig")
    assert "'=HYPERLINK()" in text
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.staff")).details["rows"] == 3
    location = upload(admin, export.data).headers["Location"]
    assert re.search(r'o-total__n">3</span> unchanged', admin.get(location).get_data(as_text=True))


def test_the_json_api_keeps_its_contract(client, office, admin_headers):
    response = client.post("/api/v1/staff/import", data=csv_bytes(GOOD, "cp932"),
                           headers={**admin_headers, "Content-Type": "text/csv", "Accept-Language": "en"})
    assert response.status_code == 200
    assert response.get_json()["created"] == 3 and response.get_json()["updated"] == 0
    response = client.post("/api/v1/staff/import", data=csv_bytes([GOOD[0], "x,,,,,ZZ,,,,"]),
                           headers={**admin_headers, "Content-Type": "text/csv", "Accept-Language": "en"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"line": 3, "field": "unit_code", "message": "No unit has the code ZZ."} in errors
    assert all(set(e) == {"line", "field", "message"} for e in errors)


def test_import_staff_keeps_its_signature_and_dry_run(ctx, office):
    result = staff_import.import_staff("\n".join([HEADER, *GOOD]), dry_run=True)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert db.session.scalar(select(func.count(Staff.id))) == 3


def test_imported_staff_get_working_invitations(app, admin):
    from booking.services import invitations

    lines = [f"{4000 + n},職員,{n},ショクイン,タロウ,A,,,," for n in range(300)]
    location = upload(admin, csv_bytes(lines)).headers["Location"]
    assert confirm(admin, location).status_code == 302
    with app.test_request_context():
        imported = db.session.scalars(select(Staff).where(Staff.staff_number.like("4%"))).all()
        assert len(imported) == 300 and len({s.invitation_nonce for s in imported}) == 300
        for staff in imported[::37]:
            assert invitations.staff_for_link(invitations.link_token(staff)).id == staff.id
            assert invitations.staff_for_code(staff.staff_number, invitations.code(staff)).id == staff.id
        assert imported[0].search_kana == "ショクインタロウ"


def test_an_import_through_the_api_is_audited_too(app, client, office, admin_headers):
    client.post("/api/v1/staff/import", data=csv_bytes(GOOD), headers={**admin_headers, "Content-Type": "text/csv"})
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.staff"))
        assert (event.channel, event.details["created"], event.actor) == ("api", 3, "admin-user")


def test_a_list_without_the_optional_columns_keeps_what_existing_staff_have(app, admin):
    """A personnel list with only the required columns and the crew: e-mail, phone and card status
    are not in the file, so existing staff keep theirs, and new staff get the defaults. An optional
    column that is there but empty does clear the value."""
    upload_and_confirm = lambda data: confirm(admin, upload(admin, data).headers["Location"])
    upload_and_confirm(csv_bytes(["3001,山田,太郎,ヤマダ,タロウ,A,1部,taro@example.jp,090-1111-2222,received"]))
    short = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew"
    response = upload(admin, csv_bytes(["3001,山田,太郎,ヤマダ,タロウ,A,2部", "3004,木村,拓也,キムラ,タクヤ,B,1部"],
                                       header=short))
    preview = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "taro@example.jp" not in preview  # nothing about the e-mail address is to change
    confirm(admin, response.headers["Location"])
    with app.app_context():
        taro = db.session.scalar(select(Staff).where(Staff.staff_number == "3001"))
        assert (taro.crew, taro.email, taro.phone, taro.card_status) == (
            "2部", "taro@example.jp", "090-1111-2222", "received")
        kimura = db.session.scalar(select(Staff).where(Staff.staff_number == "3004"))
        assert (kimura.email, kimura.phone, kimura.card_status) == ("", "", "none")
    # The column there and empty: the address is cleared, on purpose.
    upload_and_confirm(csv_bytes(["3001,山田,太郎,ヤマダ,タロウ,A,2部,"],
                                 header=short + ",email"))
    with app.app_context():
        taro = db.session.scalar(select(Staff).where(Staff.staff_number == "3001"))
        assert (taro.email, taro.phone, taro.card_status) == ("", "090-1111-2222", "received")
