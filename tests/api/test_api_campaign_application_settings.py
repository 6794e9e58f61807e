"""The campaign API carries the application settings: the single-A-document rule and the
municipalities whose residents the desks verify for mailing."""
from __future__ import annotations

from booking.extensions import db
from booking.services import municipalities
from booking.services.actor import Actor


def payload(**extra) -> dict:
    return {"title": "広域の出張申請", "booking_opens_at": "2026-01-01T09:00:00",
            "booking_closes_at": "2030-01-01T09:00:00", **extra}


def test_a_new_campaign_keeps_the_defaults(client, app, admin_headers):
    response = client.post("/api/v1/campaigns", json=payload(), headers=admin_headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["allows_single_photo_id_with_pin"] is False
    assert body["mailing_municipality_codes"] == []


def test_the_settings_are_taken_and_returned_with_five_digit_codes_completed(client, app, admin_headers):
    with app.test_request_context():
        municipalities.save(Actor.system(), code="072010", name="福島市", is_home=True)
        municipalities.save(Actor.system(), code="073016", name="伊達市")
        db.session.commit()
    response = client.post("/api/v1/campaigns", json=payload(
        allows_single_photo_id_with_pin=True, mailing_municipality_codes=["07301", "072010"]), headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["allows_single_photo_id_with_pin"] is True
    assert body["mailing_municipality_codes"] == ["072010", "073016"]


def test_an_unlisted_municipality_is_a_field_error(client, admin_headers):
    response = client.post("/api/v1/campaigns", json=payload(mailing_municipality_codes=["013005"]),
                           headers=admin_headers)
    assert response.status_code == 422
    assert "mailing_municipality_codes" in response.get_json()["fields"]


def test_the_openapi_document_names_both_fields(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for name in ("CampaignIn", "CampaignOut"):
        assert {"allows_single_photo_id_with_pin", "mailing_municipality_codes"} <= set(schemas[name]["properties"])
