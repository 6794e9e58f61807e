"""Where staff and dependents are registered (住民登録地), on the staff page and the dependent API."""
from __future__ import annotations

from booking.extensions import db
from booking.models import Dependent, Staff
from booking.services import municipalities
from booking.services.actor import Actor


def towns(app) -> None:
    with app.test_request_context():
        municipalities.save(Actor.system(), code="072010", name="福島市", is_home=True)
        municipalities.save(Actor.system(), code="073016", name="伊達市")
        db.session.commit()


def staff_form(office, **extra) -> dict:
    return {"family_name": "佐藤", "given_name": "翔太", "family_name_kana": "サトウ", "given_name_kana": "ショウタ",
            "unit_id": str(office.ids["A"]), "crew": "1部", "phone": "090-1111-2222", "card_status": "none", **extra}


def test_the_staff_page_sets_and_clears_where_they_are_registered(app, login, office):
    towns(app)
    client = login("admin")
    page = client.get(f"/office/staff/{office.ids['staff_a']}").get_data(as_text=True)
    assert "伊達市 (073016)" in page and "Not known" in page
    response = client.post(f"/office/staff/{office.ids['staff_a']}", data=staff_form(office, municipality_code="073016"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Staff, office.ids["staff_a"]).municipality_code == "073016"
    page = client.get(f"/office/staff/{office.ids['staff_a']}").get_data(as_text=True)
    assert '<option selected value="073016">' in page or 'value="073016" selected' in page
    client.post(f"/office/staff/{office.ids['staff_a']}", data=staff_form(office, municipality_code=""))
    with app.app_context():
        assert db.session.get(Staff, office.ids["staff_a"]).municipality_code is None


def test_an_unlisted_town_is_refused_on_the_field(app, login, office):
    towns(app)
    client = login("admin")
    response = client.post(f"/office/staff/{office.ids['staff_a']}", data=staff_form(office, municipality_code="013005"))
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Staff, office.ids["staff_a"]).municipality_code is None


def test_a_dependent_registered_elsewhere_is_saved_and_shown(app, login, office):
    towns(app)
    client = login("admin")
    data = {"dep-family_name": "佐藤", "dep-given_name": "花", "dep-family_name_kana": "サトウ",
            "dep-given_name_kana": "ハナ", "dep-relation": "母", "dep-card_status": "none",
            "dep-municipality_code": "073016"}
    response = client.post(f"/office/staff/{office.ids['staff_a']}/dependents", data=data)
    assert response.status_code == 302
    with app.app_context():
        mother = db.session.query(Dependent).filter_by(given_name="花").one()
        assert mother.municipality_code == "073016"
    page = client.get(f"/office/staff/{office.ids['staff_a']}").get_data(as_text=True)
    assert "Registered in 伊達市" in page


def test_the_dependent_api_takes_and_returns_the_code(app, client, office, admin_headers):
    towns(app)
    body = {"family_name": "佐藤", "given_name": "花", "family_name_kana": "サトウ", "given_name_kana": "ハナ",
            "relation": "母", "municipality_code": "07301"}
    response = client.post("/api/v1/staff/1001/dependents", json=body, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["municipality_code"] == "073016"
    response = client.post("/api/v1/staff/1001/dependents", json={**body, "municipality_code": "999999"},
                           headers=admin_headers)
    assert response.status_code == 422
    assert "municipality_code" in response.get_json()["fields"]
