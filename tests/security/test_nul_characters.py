"""A NUL character anywhere a person or program can send text: PostgreSQL cannot store or even
compare it (the JSON fuzzer found a 500 there), SQLite would keep it silently. Every way in refuses
it with a message, on both databases, and nothing is written."""
from __future__ import annotations

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Staff, Unit

EN = {"Accept-Language": "en"}
HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_json_field_with_nul_is_refused_by_name(app, client, world, admin_headers):
    before = count(app, Unit)
    response = client.post("/api/v1/units", json={"code": "B", "name": "北\x00消防署"}, headers={**admin_headers, **EN})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid" and set(body["fields"]) == {"name"}
    assert "NUL" in body["fields"]["name"]
    assert count(app, Unit) == before


def test_a_nested_json_string_with_nul_is_refused(client, world):
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number + "\x00",
        "invitation_code": world.invitation_code}, headers=EN)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"staff_number"}


def test_a_query_value_with_nul_is_refused_on_pages_and_the_api(client, world):
    page = client.get("/office/login?lang=en&next=%00")
    assert page.status_code == 400
    assert "NUL character" in page.get_data(as_text=True)
    api = client.get("/api/v1/campaigns?x=a%00b", headers=EN)
    assert api.status_code == 400 and api.get_json()["error"] == "bad_request"


def test_a_form_field_with_nul_is_refused_before_any_view(client, world):
    response = client.post("/office/login?lang=en", data={"username": "admin\x00", "password": "x"})
    assert response.status_code == 400
    assert "Remove it and send the form again" in response.get_data(as_text=True)


def test_a_staff_csv_with_nul_names_the_line_and_imports_nothing(app, client, world, admin_headers):
    before = count(app, Staff)
    lines = [HEADER, "5001,鈴木,花子,スズキ,ハナコ,A,2部,,,none", "5002,田\x00中,一郎,タナカ,イチロウ,A,2部,,,none"]
    data = "\n".join(lines) + "\n"
    response = client.post("/api/v1/staff/import", data=data.encode(), content_type="text/csv",
                           headers={**admin_headers, **EN})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(3, "family_name")]
    assert "NUL" in errors[0]["message"]
    assert count(app, Staff) == before


def test_a_nul_in_a_path_segment_matches_nothing(app, sec):
    """A NUL in a path (a staff number, a token, an import's id): on PostgreSQL the lookup
    failed with DataError, a 500; nothing can be stored under such a name, so nothing is found:
    404, JSON under /api/, on both databases (issue 17, item 8)."""
    from tests.office.conftest import sign_in

    client = app.test_client()
    sign_in(client, "admin")
    headers = sec.headers("admin")
    venue, day = sec.ids["venue"], sec.office.session_day.isoformat()
    for method, path in [
        ("get", "/api/v1/staff/20%0001/invitation"), ("post", "/api/v1/staff/10%0001/dependents"),
        ("get", "/api/v1/reservations/ab%00cd"), ("post", "/api/v1/reservations/ab%00cd/cancel"),
        ("post", "/api/v1/reservations/ab%00cd/reschedule"),
        ("get", "/office/staff/import/ab%00cd"), ("get", "/office/staff/import/ab%00cd/progress"),
        ("get", "/office/staff/import/ab%00cd/progress.json"), ("post", "/office/staff/import/ab%00cd/confirm"),
        ("post", "/office/staff/import/ab%00cd/discard"), ("get", "/office/staff/import/template.c%00sv"),
        ("get", "/i/ab%00cd"), ("get", f"/i/ab%00cd/sessions/{sec.ids['session']}"), ("get", "/r/ab%00cd"),
        ("get", "/r/ab%00cd/qr.png"), ("get", "/r/ab%00cd/calendar.ics"), ("get", "/chiefs/calendar/ab%00cd.ics"),
        ("get", f"/chiefs/venues/{venue}/{day}%00/roster"), ("get", "/reports/status.c%00sv"),
    ]:
        response = getattr(client, method)(path, headers=headers)
        assert response.status_code == 404, (path, response.status_code)
        if path.startswith("/api/"):
            assert response.get_json()["error"] == "not_found", path
