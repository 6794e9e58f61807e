"""API.md "Setting up" (role admin): every call, its answers and its refusals."""
from __future__ import annotations

from datetime import date

import pytest

from booking.extensions import db
from booking.models import Staff

HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"

ADMIN_CALLS = [
    ("post", "/api/v1/units", {"json": {"code": "B", "name": "北消防署"}}),
    ("post", "/api/v1/staff/import", {"data": HEADER + "\n", "content_type": "text/csv"}),
    ("get", "/api/v1/staff/1001/invitation", {}),
    ("post", "/api/v1/staff/1001/dependents", {"json": {
        "family_name": "佐藤", "given_name": "一郎", "family_name_kana": "サトウ",
        "given_name_kana": "イチロウ", "relation": "長男"}}),
    ("post", "/api/v1/venues", {"json": {"name": "北消防署", "address": "福島市"}}),
    ("post", "/api/v1/campaigns", {"json": {
        "title": "t", "booking_opens_at": "2030-01-01T09:00", "booking_closes_at": "2030-02-01T09:00",
        "published": False}}),
    ("post", "/api/v1/campaigns/{campaign_id}/sessions", {"json": {
        "venue_id": 1, "date": "2030-03-01", "start_time": "15:00", "end_time": "16:00",
        "slot_minutes": 10, "desks": 2}}),
]


def _call(client, world, method, path, kwargs, headers=None):
    return getattr(client, method)(path.format(campaign_id=world.campaign_id), headers=headers, **kwargs)


def _is_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def csv_body(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def staff_row(number: str, unit: str = "A", *, name: str = "鈴木", card_status: str = "none", email: str = "") -> str:
    return f"{number},{name},花子,スズキ,ハナコ,{unit},2部,{email},024-000-0000,{card_status}"


def import_csv(client, headers, data, content_type="text/csv"):
    return client.post("/api/v1/staff/import", data=data, content_type=content_type, headers=headers)


# --- who may call ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "kwargs"), ADMIN_CALLS, ids=[c[1] for c in ADMIN_CALLS])
def test_admin_calls_without_a_token_answer_401(client, world, method, path, kwargs):
    _is_error(_call(client, world, method, path, kwargs), 401, "unauthorized")


@pytest.mark.parametrize(("method", "path", "kwargs"), ADMIN_CALLS, ids=[c[1] for c in ADMIN_CALLS])
def test_admin_calls_with_an_unknown_token_answer_401(client, world, method, path, kwargs):
    response = _call(client, world, method, path, kwargs, {"Authorization": "Bearer not-a-real-token"})
    _is_error(response, 401, "unauthorized")


@pytest.mark.parametrize("role", ["chief", "clerk"])
@pytest.mark.parametrize(("method", "path", "kwargs"), ADMIN_CALLS, ids=[c[1] for c in ADMIN_CALLS])
def test_admin_calls_with_another_role_answer_403(client, world, make_token, role, method, path, kwargs):
    token = make_token(role, unit_code="A" if role == "chief" else None)
    response = _call(client, world, method, path, kwargs, {"Authorization": f"Bearer {token}"})
    _is_error(response, 403, "forbidden")


def test_a_revoked_token_answers_401(app, client, world, make_token):
    from booking.localtime import utcnow
    from booking.models import ApiToken

    token = make_token("admin", username="leaver")
    with app.app_context():
        for row in db.session.scalars(db.select(ApiToken)):
            row.revoked_at = utcnow()
        db.session.commit()
    response = client.post("/api/v1/units", json={"code": "B", "name": "x"},
                           headers={"Authorization": f"Bearer {token}"})
    _is_error(response, 401, "unauthorized")


# --- units ------------------------------------------------------------------------


def test_admin_creates_a_unit_under_a_parent(client, world, admin_headers):
    response = client.post("/api/v1/units", json={"code": "A-1", "name": "天神出張所", "parent_code": "A"},
                           headers=admin_headers)
    assert response.status_code == 201
    body = response.get_json()
    assert isinstance(body["id"], int)
    assert body | {"id": 0} == {"id": 0, "code": "A-1", "name": "天神出張所", "parent_code": "A"}


def test_a_unit_code_taken_answers_409_duplicate(client, world, admin_headers):
    response = client.post("/api/v1/units", json={"code": "A", "name": "x"}, headers=admin_headers)
    _is_error(response, 409, "duplicate")


def test_an_unknown_parent_unit_is_a_field_error(client, world, admin_headers):
    response = client.post("/api/v1/units", json={"code": "Z", "name": "x", "parent_code": "NOPE"},
                           headers=admin_headers)
    body = _is_error(response, 422, "invalid")
    assert set(body["fields"]) == {"parent_code"}


def test_a_unit_without_a_name_is_a_field_error(client, world, admin_headers):
    response = client.post("/api/v1/units", json={"code": "Z"}, headers=admin_headers)
    body = _is_error(response, 422, "invalid")
    assert "name" in body["fields"]


# --- staff import -----------------------------------------------------------------


def test_import_creates_then_updates_staff(app, client, world, admin_headers):
    first = import_csv(client, admin_headers, csv_body(staff_row("3001"), staff_row("3002", card_status="applied")))
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["created"] == 2
    assert first.get_json()["updated"] == 0
    second = import_csv(client, admin_headers, csv_body(staff_row("3001", name="高橋"), staff_row("3002", card_status="applied")))
    assert second.status_code == 200
    assert (second.get_json()["created"], second.get_json()["updated"]) == (0, 1)
    with app.app_context():
        staff = db.session.scalar(db.select(Staff).where(Staff.staff_number == "3001"))
        assert staff.family_name == "高橋"


def test_import_reads_utf8_with_a_byte_order_mark(app, client, world, admin_headers):
    data = "\ufeff".encode() + csv_body(staff_row("3001", name="渡邊")).encode("utf-8")
    response = import_csv(client, admin_headers, data)
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        assert db.session.scalar(db.select(Staff.family_name).where(Staff.staff_number == "3001")) == "渡邊"


def test_import_reads_cp932_as_excel_writes_it(app, client, world, admin_headers):
    data = csv_body(staff_row("3001", name="髙橋"), staff_row("3002", name="齋藤")).replace("\n", "\r\n").encode("cp932")
    response = import_csv(client, admin_headers, data, content_type="text/csv; charset=shift_jis")
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        names = dict(db.session.execute(db.select(Staff.staff_number, Staff.family_name)).all())
    assert names["3001"] == "髙橋"
    assert names["3002"] == "齋藤"


def test_import_folds_full_width_digits_in_staff_numbers(app, client, world, admin_headers):
    response = import_csv(client, admin_headers, csv_body(staff_row("３００１")))
    assert response.status_code == 200, response.get_json()
    invitation = client.get("/api/v1/staff/3001/invitation", headers=admin_headers)
    assert invitation.status_code == 200


def test_import_with_a_duplicate_staff_number_imports_nothing(app, client, world, admin_headers):
    response = import_csv(client, admin_headers, csv_body(staff_row("3001"), staff_row("3002"), staff_row("3001")))
    body = _is_error(response, 422, "invalid_import")
    assert body["errors"] == [{"line": 4, "field": "staff_number", "message": body["errors"][0]["message"]}]
    assert "3001" in body["errors"][0]["message"]
    with app.app_context():
        assert db.session.scalar(db.select(Staff).where(Staff.staff_number.in_(["3001", "3002"]))) is None


def test_import_counts_a_full_width_duplicate_as_a_duplicate(app, client, world, admin_headers):
    response = import_csv(client, admin_headers, csv_body(staff_row("3001"), staff_row("３００１")))
    body = _is_error(response, 422, "invalid_import")
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, "staff_number")]


def test_import_with_an_unknown_unit_names_line_and_field(app, client, world, admin_headers):
    response = import_csv(client, admin_headers, csv_body(staff_row("3001"), staff_row("3002", unit="NOPE")))
    body = _is_error(response, 422, "invalid_import")
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert (error["line"], error["field"]) == (3, "unit_code")
    assert isinstance(error["message"], str) and error["message"]
    with app.app_context():
        assert db.session.scalar(db.select(Staff).where(Staff.staff_number == "3001")) is None


def test_import_reports_every_bad_line_at_once(client, world, admin_headers):
    rows = [
        staff_row("3001", card_status="lost"),
        "3002,,花子,スズキ,ハナコ,A,2部,,,none",
        staff_row("3003", email="not-an-email"),
    ]
    body = _is_error(import_csv(client, admin_headers, csv_body(*rows)), 422, "invalid_import")
    assert [(e["line"], e["field"]) for e in body["errors"]] == [
        (2, "card_status"), (3, "family_name"), (4, "email"),
    ]


def test_import_without_a_required_column_points_at_the_header(client, world, admin_headers):
    header = HEADER.replace("unit_code,", "")
    body = _is_error(import_csv(client, admin_headers, csv_body("3001,鈴木,花子,スズキ,ハナコ,2部,,,none", header=header)),
                     422, "invalid_import")
    assert body["errors"][0]["line"] == 1
    assert body["errors"][0]["field"] == "unit_code"


def test_import_of_unreadable_bytes_is_refused(client, world, admin_headers):
    body = _is_error(import_csv(client, admin_headers, HEADER.encode() + b"\n\x81\xff\xfe,\x80\n"), 422, "invalid_import")
    assert body["errors"][0]["line"] == 1


def test_import_refuses_an_individual_number_in_any_column(app, client, world, admin_headers, my_number):
    row = f"3001,鈴木,花子,スズキ,ハナコ,A,{my_number('1234567890')},,,none"
    body = _is_error(import_csv(client, admin_headers, csv_body(row)), 422, "invalid_import")
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(2, "crew")]
    with app.app_context():
        assert db.session.scalar(db.select(Staff).where(Staff.staff_number == "3001")) is None


def test_import_keeps_existing_staff_when_a_later_line_fails(app, client, world, admin_headers):
    response = import_csv(client, admin_headers, csv_body(staff_row("1001", name="変更"), staff_row("3002", unit="NOPE")))
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(Staff.family_name).where(Staff.staff_number == "1001")) == "佐藤"


# --- invitation, dependents, venues -------------------------------------------------


def test_invitation_gives_the_code_and_the_link(client, world, admin_headers):
    response = client.get(f"/api/v1/staff/{world.staff_number}/invitation", headers=admin_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["code"] == world.invitation_code
    assert body["url"].endswith(f"/i/{world.invitation_token}")
    assert client.get(body["url"].replace("http://localhost", "")).status_code == 200


def test_invitation_of_an_unknown_staff_number_is_404(client, world, admin_headers):
    _is_error(client.get("/api/v1/staff/99999/invitation", headers=admin_headers), 404, "not_found")


def test_admin_adds_a_dependent(client, world, admin_headers):
    payload = {"family_name": "佐藤", "given_name": "一郎", "family_name_kana": "サトウ",
               "given_name_kana": "イチロウ", "relation": "長男", "card_status": "applied"}
    response = client.post(f"/api/v1/staff/{world.staff_number}/dependents", json=payload, headers=admin_headers)
    assert response.status_code == 201
    body = response.get_json()
    assert isinstance(body.pop("id"), int)
    # The card's finer state and dates (issue 18) come beside card_status.
    assert body == {**payload, "birth_date": None, "municipality_code": None, "card_stage": payload["card_status"],
                    "card_stage_on": None, "card_returned_on": None, "card_expires_on": None,
                    "certificates_expire_on": None}


def test_a_dependent_of_an_unknown_staff_member_is_404(client, world, admin_headers):
    payload = {"family_name": "a", "given_name": "b", "family_name_kana": "c", "given_name_kana": "d",
               "relation": "e"}
    _is_error(client.post("/api/v1/staff/99999/dependents", json=payload, headers=admin_headers), 404, "not_found")


def test_a_dependent_with_an_unknown_card_status_is_a_field_error(client, world, admin_headers):
    payload = {"family_name": "a", "given_name": "b", "family_name_kana": "c", "given_name_kana": "d",
               "relation": "e", "card_status": "lost"}
    response = client.post(f"/api/v1/staff/{world.staff_number}/dependents", json=payload, headers=admin_headers)
    assert set(_is_error(response, 422, "invalid")["fields"]) == {"card_status"}


def test_admin_creates_a_venue(client, world, admin_headers):
    payload = {"name": "北消防署 講堂", "address": "福島市北町1-1", "unit_code": "A", "notes": "裏口から"}
    response = client.post("/api/v1/venues", json=payload, headers=admin_headers)
    assert response.status_code == 201
    body = response.get_json()
    assert isinstance(body.pop("id"), int)
    assert body == payload


def test_a_venue_of_an_unknown_unit_is_a_field_error(client, world, admin_headers):
    response = client.post("/api/v1/venues", json={"name": "x", "address": "y", "unit_code": "NOPE"},
                           headers=admin_headers)
    assert set(_is_error(response, 422, "invalid")["fields"]) == {"unit_code"}


# --- campaigns and sessions ---------------------------------------------------------


def test_naive_campaign_datetimes_mean_tokyo(client, world, admin_headers):
    response = client.post("/api/v1/campaigns", json={
        "title": "第2期", "booking_opens_at": "2030-06-01T09:00:00", "booking_closes_at": "2030-06-30T17:00",
        "published": True,
    }, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert isinstance(body["id"], int)
    assert body["title"] == "第2期"
    assert body["booking_opens_at"] == "2030-06-01T09:00:00+09:00"
    assert body["booking_closes_at"] == "2030-06-30T17:00:00+09:00"


def test_campaign_datetimes_with_an_offset_keep_their_instant(client, world, admin_headers):
    response = client.post("/api/v1/campaigns", json={
        "title": "UTC", "booking_opens_at": "2030-06-01T00:00:00Z", "booking_closes_at": "2030-06-02T00:00:00-05:00",
        "published": False,
    }, headers=admin_headers)
    assert response.status_code == 201
    assert response.get_json()["booking_opens_at"] == "2030-06-01T09:00:00+09:00"
    assert response.get_json()["booking_closes_at"] == "2030-06-02T14:00:00+09:00"


def test_a_campaign_closing_before_it_opens_is_a_field_error(client, world, admin_headers):
    response = client.post("/api/v1/campaigns", json={
        "title": "x", "booking_opens_at": "2030-06-02T00:00", "booking_closes_at": "2030-06-01T00:00",
        "published": True}, headers=admin_headers)
    assert set(_is_error(response, 422, "invalid")["fields"]) == {"booking_closes_at"}


def test_a_draft_campaign_is_not_listed_until_published(client, world, admin_headers):
    created = client.post("/api/v1/campaigns", json={
        "title": "下書き", "booking_opens_at": "2030-06-01T09:00", "booking_closes_at": "2030-06-30T17:00",
        "published": False}, headers=admin_headers).get_json()
    listed = [c["id"] for c in client.get("/api/v1/campaigns").get_json()]
    assert created["id"] not in listed
    assert world.campaign_id in listed


def test_admin_adds_a_session_with_its_slots(client, world, admin_headers):
    response = client.post(f"/api/v1/campaigns/{world.campaign_id}/sessions", json={
        "venue_id": world.venue_id, "date": "2030-07-10", "start_time": "15:00", "end_time": "19:00",
        "slot_minutes": 10, "desks": 2,
    }, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["venue"] == {"id": world.venue_id, "name": "中央消防署 会議室", "address": "福島市天神町11-28"}
    assert (body["date"], body["start_time"], body["end_time"]) == ("2030-07-10", "15:00", "19:00")
    assert (body["slot_minutes"], body["desks"]) == (10, 2)
    assert len(body["slots"]) == 24
    first, last = body["slots"][0], body["slots"][-1]
    assert first["starts_at"] == "2030-07-10T15:00:00+09:00"
    assert first["ends_at"] == "2030-07-10T15:10:00+09:00"
    assert last["ends_at"] == "2030-07-10T19:00:00+09:00"
    assert {(s["capacity"], s["remaining"]) for s in body["slots"]} == {(2, 2)}
    assert len({s["id"] for s in body["slots"]}) == 24


def test_a_session_of_an_unknown_campaign_is_404(client, world, admin_headers):
    response = client.post("/api/v1/campaigns/9999/sessions", json={
        "venue_id": world.venue_id, "date": "2030-07-10", "start_time": "15:00", "end_time": "19:00",
        "slot_minutes": 10, "desks": 2}, headers=admin_headers)
    _is_error(response, 404, "not_found")


def test_a_session_at_an_unknown_venue_is_a_field_error(client, world, admin_headers):
    response = client.post(f"/api/v1/campaigns/{world.campaign_id}/sessions", json={
        "venue_id": 9999, "date": "2030-07-10", "start_time": "15:00", "end_time": "19:00",
        "slot_minutes": 10, "desks": 2}, headers=admin_headers)
    assert set(_is_error(response, 422, "invalid")["fields"]) == {"venue_id"}


@pytest.mark.parametrize(("field", "value"), [
    ("date", "10/07/2030"), ("start_time", "3pm"), ("slot_minutes", "10"), ("desks", 0), ("venue_id", "one"),
])
def test_a_session_with_a_malformed_field_names_it(client, world, admin_headers, field, value):
    payload = {"venue_id": world.venue_id, "date": "2030-07-10", "start_time": "15:00", "end_time": "19:00",
               "slot_minutes": 10, "desks": 2, field: value}
    response = client.post(f"/api/v1/campaigns/{world.campaign_id}/sessions", json=payload, headers=admin_headers)
    assert field in _is_error(response, 422, "invalid")["fields"]


def test_the_session_date_is_returned_as_sent(client, world, admin_headers):
    day = date(2030, 12, 31)
    response = client.post(f"/api/v1/campaigns/{world.campaign_id}/sessions", json={
        "venue_id": world.venue_id, "date": day.isoformat(), "start_time": "23:00", "end_time": "01:00",
        "slot_minutes": 30, "desks": 1}, headers=admin_headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["date"] == "2030-12-31"
    assert [s["starts_at"] for s in body["slots"]][-1] == "2031-01-01T00:30:00+09:00"


def test_import_without_the_optional_columns_keeps_them(app, client, world, admin_headers):
    first = import_csv(client, admin_headers, csv_body(staff_row("3001", card_status="received", email="a@example.jp")))
    assert first.status_code == 200, first.get_json()
    short = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew"
    second = import_csv(client, admin_headers, csv_body("3001,鈴木,花子,スズキ,ハナコ,A,1部", header=short))
    assert second.status_code == 200 and second.get_json()["updated"] == 1, second.get_json()
    with app.app_context():
        staff = db.session.scalar(db.select(Staff).where(Staff.staff_number == "3001"))
        assert (staff.crew, staff.email, staff.phone, staff.card_status) == ("1部", "a@example.jp", "024-000-0000",
                                                                              "received")


@pytest.mark.parametrize(("written", "status"), [("取得済み", "received"), ("受取済", "received"), ("申請済み", "applied"),
                                                 ("未申請", "none"), ("ＲＥＣＥＩＶＥＤ", "received"), ("", "none")])
def test_import_reads_the_card_status_as_the_app_and_the_section_write_it(app, client, world, admin_headers,
                                                                         written, status):
    response = import_csv(client, admin_headers, csv_body(staff_row("3001", card_status=written)))
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        assert db.session.scalar(db.select(Staff.card_status).where(Staff.staff_number == "3001")) == status
