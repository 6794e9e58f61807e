"""Bad input is refused with a 4xx that says what is wrong, never a 500 (issue 17, item 8).

Found by hand and by schemathesis on the running system: a JSON body nested 30,000 deep
(RecursionError), an XLSX file with a DTD (ParseError), a NUL byte in a path segment on
PostgreSQL (DataError), session times with seconds and an offset (PostgreSQL refused them,
SQLite made slots at odd seconds) and numbers too large for any id column (OverflowError).
tests/security/test_form_crawler.py posts hostile values into every form of the office pages.
"""
from __future__ import annotations

import pytest

EN = {"Accept-Language": "en"}


def _json_posts(sec) -> list[str]:
    """Every API call that reads a JSON body (cancelling reads none)."""
    token = sec.manage["staff_a"]
    return ["/api/v1/units", "/api/v1/venues", "/api/v1/campaigns", f"/api/v1/campaigns/{sec.ids['campaign']}/sessions",
            "/api/v1/reservations", f"/api/v1/reservations/{token}/reschedule",
            "/api/v1/checkins", "/api/v1/staff/1001/dependents"]


@pytest.mark.parametrize("shape", ["arrays", "objects", "mixed", "inside a field"])
def test_deeply_nested_json_is_refused_on_every_call(client, sec, shape):
    depth = 30_000 if shape == "arrays" else 10_000
    body = {
        "arrays": "[" * depth + "]" * depth,
        "objects": '{"a":' * depth + "1" + "}" * depth,
        "mixed": '[{"a":' * (depth // 2) + "1" + "}]" * (depth // 2),
        "inside a field": '{"slot_id": 1, "staff_number": "1001", "dependent_ids": ' + "[" * depth + "]" * depth + "}",
    }[shape]
    for path in _json_posts(sec):
        response = client.post(path, data=body, content_type="application/json", headers=sec.headers("admin"))
        assert response.status_code in (413, 422), (path, response.status_code)
        if response.status_code == 422:
            answer = response.get_json()
            assert answer["error"] == "invalid" and "nested" in answer["fields"]["body"], (path, answer)


def test_json_nested_as_deep_as_any_real_call_is_still_read(client, sec):
    """The limit leaves room: a body a few levels deep is read and validated as before."""
    response = client.post("/api/v1/units", json={"code": "C", "name": "南消防署", "extra": [[[[{"a": [1]}]]]]},
                           headers=sec.headers("admin"))
    assert response.status_code == 201, response.get_json()


# --- XLSX files with a DTD ----------------------------------------------------------------------

STAFF_HEADER = ["staff_number", "family_name", "given_name", "family_name_kana", "given_name_kana", "unit_code"]
LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
          + "]>")
EXTERNAL = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
#: (what, member of the workbook, DTD, the entity to use in that member's text)
HOSTILE_XML = [
    ("billion laughs in the sheet", "xl/worksheets/sheet1.xml", LAUGHS, "&lol9;"),
    ("external entity in the sheet", "xl/worksheets/sheet1.xml", EXTERNAL, "&xxe;"),
    ("billion laughs in the shared strings", "xl/sharedStrings.xml", LAUGHS, "&lol9;"),
    ("external entity in the shared strings", "xl/sharedStrings.xml", EXTERNAL, "&xxe;"),
    ("external entity in the workbook", "xl/workbook.xml", EXTERNAL, None),
    ("external entity in the content types", "[Content_Types].xml", EXTERNAL, None),
]


def _hostile_xlsx(header: list[str], row: list[str], member: str, dtd: str, entity: str | None) -> bytes:
    """A workbook as Excel writes it (XlsxWriter: shared strings), with a DTD put into one of its XML files
    and, where there is text to put it in, its entity used in place of the first cell's text."""
    import io
    import re
    import zipfile

    import xlsxwriter

    written = io.BytesIO()
    book = xlsxwriter.Workbook(written, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, header)
    sheet.write_row(1, 0, row)
    book.close()
    source = zipfile.ZipFile(io.BytesIO(written.getvalue()))
    names = source.namelist()
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for name in names:
            text = source.read(name).decode()
            if name == member:
                text = re.sub(r"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + dtd, text, count=1)
                if entity and "<t>" in text:
                    text = text.replace("<t>", "<t>" + entity, 1)
                elif entity:
                    text = text.replace("<v>", "<v>" + entity, 1)
            target.writestr(name, text)
    return result.getvalue()


def _staff_xlsx(member, dtd, entity):
    return _hostile_xlsx(STAFF_HEADER, ["3001", "山田", "太郎", "ヤマダ", "タロウ", "A"], member, dtd, entity)


@pytest.fixture
def admin_client(app, sec):
    from tests.office.conftest import sign_in

    client = app.test_client()
    client.set_cookie("lang", "en")
    sign_in(client, "admin")
    return client


def _staff_count(app) -> int:
    from sqlalchemy import func, select

    from booking.extensions import db
    from booking.models import Staff

    with app.app_context():
        return db.session.scalar(select(func.count(Staff.id)))


@pytest.mark.parametrize("what", [case[0] for case in HOSTILE_XML])
def test_an_xlsx_with_a_dtd_is_refused_on_every_import(app, admin_client, sec, what):
    import io

    _what, member, dtd, entity = next(case for case in HOSTILE_XML if case[0] == what)
    before = _staff_count(app)
    data = _staff_xlsx(member, dtd, entity)

    page = admin_client.post("/office/staff/import", data={"file": (io.BytesIO(data), "staff.xlsx")},
                             content_type="multipart/form-data")
    assert page.status_code == 422, page.status_code
    assert "not an Excel workbook that can be read" in page.get_data(as_text=True)

    api = admin_client.post("/api/v1/staff/import", data=data, content_type="application/octet-stream",
                            headers=sec.headers("admin"))
    assert api.status_code == 422, api.status_code
    assert "root:" not in api.get_data(as_text=True)

    survey = _hostile_xlsx(["staff_number", "card_status"], ["1001", "applied"], member, dtd, entity)
    from booking.services import card_status

    status = admin_client.post("/reports/status-import", data={
        "file": (io.BytesIO(survey), "survey.xlsx"), "survey_date": card_status.today().isoformat()},
        content_type="multipart/form-data")
    assert status.status_code == 422, status.status_code
    assert "not an XLSX workbook that can be read" in status.get_data(as_text=True)
    assert _staff_count(app) == before


def test_the_hostile_workbooks_are_otherwise_ordinary(app, admin_client):
    """The same workbook without the DTD is read: the refusal is for the DTD, not the file."""
    import io

    data = _staff_xlsx("xl/worksheets/sheet1.xml", "", None)
    page = admin_client.post("/office/staff/import", data={"file": (io.BytesIO(data), "staff.xlsx")},
                             content_type="multipart/form-data")
    assert page.status_code == 302, page.get_data(as_text=True)[:3000]


# --- session times: HH:MM, no seconds, no offset -----------------------------------------------

NOT_HH_MM = ["10:00:30", "10:00:00", "10:00:35.444720-03:41", "23:53:35.444720-03:41", "10:00+09:00", "10:00Z",
             "10:00:00Z", "T10:00", "1000", "10:0", "24:00", "10:60", "１０:００", "10時00分", "", "10:00\n"]


def _session_count(app) -> int:
    from sqlalchemy import func, select

    from booking.extensions import db
    from booking.models import DeskSession

    with app.app_context():
        return db.session.scalar(select(func.count(DeskSession.id)))


def test_api_session_times_with_seconds_or_an_offset_are_refused(app, client, sec):
    """API.md: times are HH:MM. Schemathesis sent 23:53:35.444720-03:41: PostgreSQL failed on the
    offset (a 500) and SQLite made slots at odd seconds."""
    before = _session_count(app)
    path = f"/api/v1/campaigns/{sec.ids['campaign']}/sessions"
    for field in ("start_time", "end_time"):
        for value in NOT_HH_MM:
            times = {"start_time": "10:00", "end_time": "11:00", field: value}
            response = client.post(path, headers=sec.headers("admin"), json={
                "venue_id": sec.ids["venue"], "date": sec.office.session_day.isoformat(),
                "slot_minutes": 10, "desks": 1, **times})
            assert response.status_code == 422, (field, value, response.status_code)
            body = response.get_json()
            assert body["error"] == "invalid" and body["fields"] == {field: "Enter a time as HH:MM."}, (value, body)
    assert _session_count(app) == before
    response = client.post(path, headers=sec.headers("admin"), json={
        "venue_id": sec.ids["venue"], "date": sec.office.session_day.isoformat(), "start_time": "09:30",
        "end_time": "10:00", "slot_minutes": 10, "desks": 1})
    assert response.status_code == 201
    assert [slot["starts_at"][11:19] for slot in response.get_json()["slots"]] == ["09:30:00", "09:40:00", "09:50:00"]


def test_the_openapi_document_says_hh_mm(client):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["SessionIn"]
    for field in ("start_time", "end_time"):
        assert schema["properties"][field]["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9]$"
        assert "format" not in schema["properties"][field]


def test_office_session_times_with_seconds_or_an_offset_are_refused(app, admin_client, sec):
    before = _session_count(app)
    for path in (f"/office/campaigns/{sec.ids['campaign']}/sessions/new", f"/office/sessions/{sec.ids['session']}/edit"):
        for field in ("start_time", "end_time"):
            for value in NOT_HH_MM:
                if value in ("１０:００", "10:0"):
                    continue  # the form reads these as a person meant them: 10:00
                data = {"venue_id": str(sec.ids["venue"]), "date": sec.office.session_day.isoformat(),
                        "start_time": "10:00", "end_time": "11:00", "slot_minutes": "10", "desks": "1", field: value}
                response = admin_client.post(path, data=data)
                assert response.status_code == 422, (path, field, value, response.status_code)
                page = response.get_data(as_text=True)
                assert 'aria-invalid="true"' in page and f'id="{field}"' in page, (path, value)
    assert _session_count(app) == before


# --- numbers no column can hold ----------------------------------------------------------------

HUGE = ["99999999999999999999999", "2147483648", "9223372036854775808", "-99999999999999999999", "²", "١٢٣"]


def test_huge_numbers_in_the_session_form_are_refused(app, admin_client, sec):
    """venue_id=99999999999999999999999 was an OverflowError on SQLite and a DataError on
    PostgreSQL; a huge slot length on the edit page an OverflowError while previewing."""
    before = _session_count(app)
    for path in (f"/office/campaigns/{sec.ids['campaign']}/sessions/new", f"/office/sessions/{sec.ids['session']}/edit"):
        for field in ("venue_id", "slot_minutes", "desks"):
            for value in HUGE:
                data = {"venue_id": str(sec.ids["venue"]), "date": sec.office.session_day.isoformat(),
                        "start_time": "10:00", "end_time": "11:00", "slot_minutes": "10", "desks": "1", field: value}
                response = admin_client.post(path, data=data)
                assert response.status_code == 422, (path, field, value, response.status_code)
    assert _session_count(app) == before


def test_huge_numbers_in_query_strings_are_ignored_or_not_found(app, sec):
    """Ids and page numbers in query strings: a number no id column holds names nothing."""
    from tests.office.conftest import sign_in

    ids = sec.ids
    pages = {
        "admin": [f"/office/campaigns/{ids['campaign']}/sessions/new?like={{n}}", "/office/units/new?parent={n}",
                  "/office/staff?page={n}", "/office/audit?page={n}", "/desk/no-shows?campaign={n}",
                  f"/desk/reservations/{ids['reservation_staff_a']}?session={{n}}",
                  f"/desk/sessions/{ids['session']}/walk-in?staff_id={{n}}",
                  f"/office/phone/staff/{ids['staff_a']}/sessions/{ids['session']}?move={{n}}",
                  "/chiefs/unit?unit={n}&page={n}", "/chiefs/slips?staff={n}"],
    }
    client = app.test_client()
    sign_in(client, "admin")
    for template in pages["admin"]:
        for value in HUGE:
            response = client.get(template.format(n=value))
            assert response.status_code in (200, 302, 404), (template, value, response.status_code)


def test_huge_numbers_in_api_bodies_are_refused_by_field(client, sec):
    """The API's numbers were already bounded (ids to PostgreSQL's integer); kept so, on both databases."""
    day = sec.office.session_day.isoformat()
    token = sec.manage["staff_b"]
    calls = [
        ("/api/v1/campaigns", {"title": "t", "booking_opens_at": f"{day}T09:00", "booking_closes_at": f"{day}T10:00"},
         ["cutoff_minutes"]),
        (f"/api/v1/campaigns/{sec.ids['campaign']}/sessions", {"venue_id": sec.ids["venue"], "date": day,
         "start_time": "10:00", "end_time": "11:00", "slot_minutes": 10, "desks": 1}, ["venue_id", "slot_minutes", "desks"]),
        ("/api/v1/reservations", {"slot_id": sec.ids["slots"][3], "staff_number": "2002"}, ["slot_id", "dependent_ids"]),
        (f"/api/v1/reservations/{token}/reschedule", {"slot_id": sec.ids["slots"][4]}, ["slot_id"]),
        ("/api/v1/checkins", {"code": sec.codes["staff_b"]}, ["people"]),
    ]
    for path, valid, fields in calls:
        for name in fields:
            for number in (10**30, 2**63, 2**31, -(2**63)):
                value = [number] if name in ("dependent_ids", "people") else number
                response = client.post(path, json={**valid, name: value}, headers=sec.headers("admin"))
                assert response.status_code == 422, (path, name, number, response.status_code)
                body = response.get_json()
                assert body["error"] == "invalid" and any(f.startswith(name) for f in body["fields"]), (path, body)
