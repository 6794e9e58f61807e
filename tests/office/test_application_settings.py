"""The section's settings for the application at the desk: municipalities, identity documents,
and a campaign's single-A-document rule and mailing municipalities (pages and API)."""
from __future__ import annotations

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, Campaign, IdentityDocument, Municipality
from booking.services import applications


def events(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def add(client, code: str, name: str, home: bool = False):
    data = {"code": code, "name": name}
    if home:
        data["is_home"] = "y"
    return client.post("/office/municipalities", data=data)


def test_admin_adds_a_municipality_by_five_digits_and_gets_the_check_digit(app, login):
    client = login("admin")
    response = add(client, "07201", "福島市", home=True)
    assert response.status_code == 302
    page = client.get("/office/municipalities").get_data(as_text=True)
    assert "072010" in page and "福島市" in page
    with app.app_context():
        assert db.session.get(Municipality, "072010").is_home
    assert events(app, "municipality.created") == 1


def test_a_wrong_check_digit_is_refused_on_the_field(app, login):
    client = login("admin")
    response = add(client, "072011", "福島市")
    assert response.status_code == 422
    assert "six-digit local government code" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Municipality)) == 0


def test_renaming_and_moving_the_home_mark(app, login):
    client = login("admin")
    add(client, "072010", "福島市", home=True)
    add(client, "073016", "伊達市")
    response = client.post("/office/municipalities/073016", data={"name": "伊達市（旧）", "is_home": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Municipality, "073016").name == "伊達市（旧）"
        assert db.session.get(Municipality, "073016").is_home
        assert not db.session.get(Municipality, "072010").is_home


def test_only_admins_open_the_settings(login):
    for role in ("chief_a", "clerk"):
        client = login(role)
        assert client.get("/office/municipalities").status_code == 403
        assert client.get("/office/identity-documents").status_code == 403
        client.post("/office/logout")


def test_a_built_in_document_is_renamed_regrouped_and_switched_off(app, login):
    client = login("admin")
    page = client.get("/office/identity-documents").get_data(as_text=True)
    assert "学生証（写真付き）" in page
    response = client.post("/office/identity-documents/student_id", data={"name": "学生証", "group": "A"})
    assert response.status_code == 302
    with app.test_request_context():
        listed = {d.code: d for d in applications.identity_documents()}
        assert "student_id" not in listed  # switched off: the checkbox was not sent
        every = {d.code: d for d in applications.identity_documents(active_only=False)}
        assert every["student_id"].name == "学生証" and every["student_id"].group == "A"
    client.post("/office/identity-documents/student_id", data={"name": "学生証", "group": "A", "is_active": "y"})
    with app.test_request_context():
        listed = {d.code: d for d in applications.identity_documents()}
        assert listed["student_id"].group == "A"
        # its place in the list is kept
        codes = [d.code for d in applications.identity_documents()]
        assert codes.index("student_id") == codes.index("employee_id") + 1
    assert events(app, "identity_document.updated") == 2


def test_the_section_adds_its_own_documents_after_the_built_in_ones(app, login):
    client = login("admin")
    assert client.post("/office/identity-documents", data={"name": "消防団員証", "group": "B"}).status_code == 302
    assert client.post("/office/identity-documents", data={"name": "市職員証", "group": "A"}).status_code == 302
    with app.test_request_context():
        documents = applications.identity_documents()
        assert [(d.code, d.name, d.group) for d in documents[-2:]] == [
            ("own_1", "消防団員証", "B"), ("own_2", "市職員証", "A")]
        assert db.session.scalar(select(func.count()).select_from(IdentityDocument)) == 2
    assert events(app, "identity_document.created") == 2
    assert "消防団員証" in client.get("/office/identity-documents").get_data(as_text=True)


def test_a_document_without_a_name_or_with_an_unknown_group_is_refused(app, login):
    client = login("admin")
    assert client.post("/office/identity-documents", data={"name": "", "group": "B"}).status_code == 422
    assert client.post("/office/identity-documents", data={"name": "x", "group": "C"}).status_code == 422
    assert client.get("/office/identity-documents/nothing").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdentityDocument)) == 0


def campaign_form(client, office, **extra):
    page = client.get(f"/office/campaigns/{office.ids['campaign']}/edit")
    assert page.status_code == 200
    data = {"title": "出張申請", "booking_opens_at": "2026-01-01T09:00", "booking_closes_at": "2030-01-01T09:00",
            "cutoff_minutes": "60", "is_published": "y", "what_to_bring": "本人確認書類"}
    data.update(extra)
    return client.post(f"/office/campaigns/{office.ids['campaign']}/edit", data=data)


def test_the_campaign_page_sets_the_pin_rule_and_the_mailing_municipalities(app, login, office):
    client = login("admin")
    add(client, "072010", "福島市", home=True)
    add(client, "073016", "伊達市")
    page = client.get(f"/office/campaigns/{office.ids['campaign']}/edit").get_data(as_text=True)
    assert "伊達市 (073016)" in page and "PIN entered" in page
    before = events(app, "campaign.update")
    response = campaign_form(client, office, allows_single_photo_id_with_pin="y",
                             mailing_municipality_codes=["072010", "073016"])
    assert response.status_code == 302
    with app.app_context():
        campaign = db.session.get(Campaign, office.ids["campaign"])
        assert campaign.allows_single_photo_id_with_pin
        assert [m.code for m in campaign.mailing_municipalities] == ["072010", "073016"]
    assert events(app, "campaign.update") == before + 1
    campaign_form(client, office)
    with app.app_context():
        campaign = db.session.get(Campaign, office.ids["campaign"])
        assert not campaign.allows_single_photo_id_with_pin and campaign.mailing_municipalities == []


def test_an_unlisted_mailing_municipality_is_refused(app, login, office):
    client = login("admin")
    response = campaign_form(client, office, mailing_municipality_codes=["073016"])
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Campaign, office.ids["campaign"]).mailing_municipalities == []
