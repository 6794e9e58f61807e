"""POST /api/v1/checkins as API.md's Desk section says."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, CheckIn, Reservation
from booking.services import reservations


def test_a_clerk_checks_in_everyone_on_a_reservation_by_its_qr_text(app, client, clerk_headers, booked):
    response = client.post("/api/v1/checkins", json={"qr": booked.qr}, headers=clerk_headers)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) >= {"id", "reservation", "checked_in_at"}
    assert body["reservation"]["status"] == "checked_in"
    assert body["reservation"]["code"] == booked.code
    assert body["checked_in_at"].endswith("+09:00")
    assert [c["person"]["kind"] for c in body["check_ins"]] == ["staff", "dependent"]
    assert body["id"] == body["check_ins"][0]["id"]
    with app.app_context():
        assert db.session.get(Reservation, booked.id).status == "checked_in"
        rows = db.session.scalars(select(CheckIn)).all()
        assert {r.clerk.username for r in rows} == {"desk-1"}


def test_a_typed_code_works_in_any_form_the_clerk_types_it(client, clerk_headers, booked):
    typed = f"{booked.code[:3].lower()}-{booked.code[3:].lower()}"
    response = client.post("/api/v1/checkins", json={"code": typed}, headers=clerk_headers)
    assert response.status_code == 201, response.get_json()


def test_only_the_people_present_are_checked_in(app, client, clerk_headers, booked):
    staff_person = booked.person_ids[0]
    response = client.post("/api/v1/checkins", json={"code": booked.code, "people": [staff_person]},
                           headers=clerk_headers)

    assert response.status_code == 201
    assert [c["person"]["id"] for c in response.get_json()["check_ins"]] == [staff_person]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 1


def test_the_second_check_in_says_when_and_by_whom(client, clerk_headers, make_token, booked):
    first = client.post("/api/v1/checkins", json={"qr": booked.qr}, headers=clerk_headers)
    other_desk = {"Authorization": f"Bearer {make_token('clerk', username='desk-2')}"}

    second = client.post("/api/v1/checkins", json={"qr": booked.qr}, headers=other_desk)

    assert second.status_code == 409
    body = second.get_json()
    assert body["error"] == "already_checked_in"
    hhmm = first.get_json()["checked_in_at"][11:16]
    assert f"{hhmm}" in body["message"] and "desk-1" in body["message"]
    assert body["checked_in_by"] == "desk-1"


def test_a_cancelled_reservation_is_refused(app, client, clerk_headers, booked):
    with app.test_request_context():
        reservations.cancel(db.session.get(Reservation, booked.id))
        db.session.commit()

    response = client.post("/api/v1/checkins", json={"qr": booked.qr}, headers=clerk_headers)

    assert response.status_code == 409
    assert response.get_json()["error"] == "cancelled"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 0


@pytest.mark.parametrize("tamper", [
    lambda qr: qr[:-1] + ("A" if qr[-1] != "A" else "B"),  # one character of the token changed
    lambda qr: qr.rsplit("/", 1)[0] + "/" + "x" * 22,         # a token of the right shape, not ours
    lambda qr: "https://example.com/some/other/thing",        # not a manage link at all
    lambda qr: "WIFI:S:venue;T:WPA;P:secret;;",                # another kind of QR code
])
def test_a_tampered_or_foreign_qr_is_invalid_qr(client, clerk_headers, booked, tamper):
    response = client.post("/api/v1/checkins", json={"qr": tamper(booked.qr)}, headers=clerk_headers)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_qr"


def test_an_unknown_code_is_not_found(client, clerk_headers, booked):
    response = client.post("/api/v1/checkins", json={"code": "AAAAAA"}, headers=clerk_headers)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_neither_qr_nor_code_is_invalid(client, clerk_headers, booked):
    response = client.post("/api/v1/checkins", json={}, headers=clerk_headers)
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid"


@pytest.mark.parametrize("role, status", [(None, 401), ("chief", 403), ("clerk", 201), ("admin", 201)])
def test_only_clerks_and_admins_may_check_in(client, make_token, booked, role, status):
    headers = {}
    if role:
        unit = "A" if role == "chief" else None
        headers = {"Authorization": f"Bearer {make_token(role, username=f'{role}-x', unit_code=unit)}"}
    response = client.post("/api/v1/checkins", json={"code": booked.code}, headers=headers)
    assert response.status_code == status


def test_check_in_is_audited(app, client, clerk_headers, booked):
    client.post("/api/v1/checkins", json={"code": booked.code}, headers=clerk_headers)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "checkin"))
        assert event is not None and event.target_id == str(booked.id) and event.details["people"] == 2


def test_application_submitted_marks_the_person_applied_today(
        app, client, clerk_headers, check_in_ids, world, jpeg):
    from booking.models import Dependent, Staff
    from booking.services.checkin import local_today

    client.post(f"/api/v1/checkins/{check_in_ids[1]}/photo", headers=clerk_headers,
                data={"photo": (io.BytesIO(jpeg(600, 800)), "p.jpg")}, content_type="multipart/form-data")
    response = client.post(f"/api/v1/checkins/{check_in_ids[1]}/application", headers=clerk_headers,
                           json={"application_id": "12345678901234567890123", "submitted": True})

    assert response.status_code == 200
    assert response.get_json()["card_status"] == "applied"
    with app.app_context():
        spouse = db.session.get(Dependent, world.dependent_id)
        assert (spouse.card_status, spouse.card_status_on) == ("applied", local_today())
        assert db.session.get(Staff, world.staff_id).card_status == "none"
        assert db.session.get(CheckIn, check_in_ids[1]).is_application_submitted


def test_the_openapi_document_describes_the_desk(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/checkins"]["post"]["responses"]) >= {"201", "400", "404", "409", "401", "403"}
    photo = paths["/api/v1/checkins/{check_in_id}/photo"]["post"]
    assert set(photo["responses"]) >= {"201", "413", "422"}
    assert "multipart/form-data" in photo["requestBody"]["content"]


def _documented(client, path: str, method: str, status: str) -> tuple[dict, dict]:
    document = client.get("/api/v1/openapi.json").get_json()
    content = document["paths"][path][method]["responses"][status]["content"]["application/json"]
    return content["schema"], document["components"]


def test_a_real_check_in_matches_its_documented_schema(client, clerk_headers, booked):
    from openapi_schema_validator import OAS31Validator

    body = client.post("/api/v1/checkins", json={"qr": booked.qr}, headers=clerk_headers).get_json()
    schema, components = _documented(client, "/api/v1/checkins", "post", "201")
    OAS31Validator({**schema, "components": components}).validate(body)


def test_a_real_already_checked_in_matches_its_documented_schema(client, clerk_headers, booked):
    from openapi_schema_validator import OAS31Validator

    client.post("/api/v1/checkins", json={"qr": booked.qr}, headers=clerk_headers)
    body = client.post("/api/v1/checkins", json={"qr": booked.qr}, headers=clerk_headers).get_json()
    schema, components = _documented(client, "/api/v1/checkins", "post", "409")
    OAS31Validator({**schema, "components": components}).validate(body)
    assert set(body) >= {"error", "message", "checked_in_at", "checked_in_by"}
