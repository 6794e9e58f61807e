"""The office page and the API create units and campaigns by the same rules (the stricter of the two).

- A unit code is 1 to 32 letters, digits and hyphens; full-width characters are folded (NFKC).
- A booking cut-off is at most 7 days (10,080 minutes).
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Campaign, Unit


@pytest.fixture
def admin(client, office, login):
    return login("admin")


@pytest.fixture
def api_headers(office, make_token):
    return {"Authorization": f"Bearer {make_token('admin', username='api-admin')}"}


def campaign_form(cutoff: str) -> dict:
    return {"title": "第2回 出張申請", "booking_opens_at": "2030-06-01T09:00",
            "booking_closes_at": "2030-07-20T17:00", "cutoff_minutes": cutoff}


def campaign_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Campaign))


def unit_codes(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Unit.code)))


# --- the booking cut-off ------------------------------------------------------------------------


def test_the_page_refuses_a_cutoff_longer_than_seven_days(app, admin, office):
    before = campaign_count(app)
    response = admin.post("/office/campaigns/new", data=campaign_form("10081"))
    assert response.status_code == 422
    assert "Use 0 to 10080 minutes (7 days)." in response.get_data(as_text=True)
    assert campaign_count(app) == before


def test_the_page_accepts_a_cutoff_of_exactly_seven_days(app, admin, office):
    response = admin.post("/office/campaigns/new", data=campaign_form("10080"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Campaign.cutoff_minutes).where(Campaign.title == "第2回 出張申請")) == 10080


def test_the_page_refuses_a_negative_cutoff(app, admin, office):
    response = admin.post("/office/campaigns/new", data=campaign_form("-1"))
    assert response.status_code == 422


def test_editing_a_campaign_refuses_a_cutoff_longer_than_seven_days(app, admin, office):
    response = admin.post(f"/office/campaigns/{office.ids['campaign']}/edit", data=campaign_form("20160"))
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Campaign, office.ids["campaign"]).cutoff_minutes == 60


def test_the_api_refuses_a_cutoff_longer_than_seven_days_naming_the_field(client, office, api_headers):
    response = client.post("/api/v1/campaigns", headers=api_headers, json={
        "title": "t", "booking_opens_at": "2030-06-01T09:00", "booking_closes_at": "2030-07-01T09:00",
        "published": False, "cutoff_minutes": 10081})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid" and "cutoff_minutes" in body["fields"]


# --- unit codes ---------------------------------------------------------------------------------


def test_the_page_refuses_a_unit_code_with_a_space_or_other_characters(app, admin, office):
    for code in ("第1 署", "第1署", "A 1", "A_1"):
        response = admin.post("/office/units/new", data={"code": code, "name": "第1消防署"})
        assert response.status_code == 422, code
        assert "Use 1 to 32 letters, digits and hyphens, without spaces." in response.get_data(as_text=True)
    assert unit_codes(app) == {"HQ", "A", "A1", "B"}


def test_the_page_folds_a_full_width_unit_code(app, admin, office):
    response = admin.post("/office/units/new", data={"code": "Ｈ-１", "name": "東出張所", "parent_id": office.ids["A"]})
    assert response.status_code == 302
    assert "H-1" in unit_codes(app)


def test_a_unit_made_before_the_rule_can_still_be_renamed(app, admin, office):
    with app.app_context():
        db.session.get(Unit, office.ids["B"]).code = "B_OLD"
        db.session.commit()
    response = admin.post(f"/office/units/{office.ids['B']}", data={
        "code": "B_OLD", "name": "北消防署（改）", "parent_id": office.ids["HQ"]})
    assert response.status_code == 302
    response = admin.post(f"/office/units/{office.ids['B']}", data={
        "code": "B_NEW", "name": "北消防署（改）", "parent_id": office.ids["HQ"]})
    assert response.status_code == 422


def test_the_api_folds_a_full_width_unit_code(client, office, api_headers):
    response = client.post("/api/v1/units", headers=api_headers, json={"code": "Ｈ-1", "name": "東出張所",
                                                                        "parent_code": "Ａ"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["code"] == "H-1"


def test_the_api_refuses_a_unit_code_with_a_space_naming_the_field(app, client, office, api_headers):
    response = client.post("/api/v1/units", headers=api_headers, json={"code": "第1 署", "name": "第1消防署"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid" and "code" in body["fields"]
    assert unit_codes(app) == {"HQ", "A", "A1", "B"}


def test_a_folded_code_that_is_taken_is_a_duplicate_on_both_channels(app, admin, client, office, api_headers):
    assert admin.post("/office/units/new", data={"code": "Ａ", "name": "重複"}).status_code == 409
    response = client.post("/api/v1/units", headers=api_headers, json={"code": "Ａ", "name": "重複"})
    assert response.status_code == 409 and response.get_json()["error"] == "duplicate"
