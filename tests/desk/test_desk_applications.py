"""The application at the desk (API.md "The application at the desk"; DESIGN rule 11): what the
clerk records, what handing in needs, and mail or counter with the reasons, through the JSON API."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import Application, AuditEvent, Campaign, CardStatusEvent, Dependent, Municipality, Staff
from booking.services.guard import is_individual_number

FORM_ID = "12345678901234567890123"
#: Two A documents: enough for mailing on their own.
TWO_A = ["drivers_license", "passport"]


@pytest.fixture
def desk_api(app, client, clerk_headers, booked, jpeg):
    """The world's staff member and spouse checked in; helpers to record and photograph."""
    response = client.post("/api/v1/checkins", json={"code": booked.code}, headers=clerk_headers)
    assert response.status_code == 201, response.get_json()
    ids = [row["id"] for row in response.get_json()["check_ins"]]

    class Desk:
        staff_check_in, spouse_check_in = ids

        @staticmethod
        def record(check_in_id: int, **fields):
            return client.post(f"/api/v1/checkins/{check_in_id}/application", json=fields, headers=clerk_headers)

        @staticmethod
        def photo(check_in_id: int) -> None:
            response = client.post(f"/api/v1/checkins/{check_in_id}/photo", headers=clerk_headers,
                                   data={"photo": (io.BytesIO(jpeg(600, 800)), "p.jpg")},
                                   content_type="multipart/form-data")
            assert response.status_code == 201, response.get_json()

    return Desk


def everything_for_mail(**overrides) -> dict:
    fields = {"application_id": FORM_ID, "identity_documents": TWO_A, "pin_form": True}
    fields.update(overrides)
    return fields


# --- the list of identity documents ------------------------------------------------------------


def test_the_identity_documents_come_in_three_groups(client, clerk_headers, make_token, world):
    response = client.get("/api/v1/identity-documents", headers=clerk_headers)
    assert response.status_code == 200
    documents = response.get_json()
    assert {d["group"] for d in documents} == {"A", "B", "notice"}
    codes = {d["code"]: d for d in documents}
    assert codes["drivers_license"]["group"] == "A" and codes["health_insurance"]["group"] == "B"
    assert codes["notification_card"]["group"] == "notice"
    chief = {"Authorization": f"Bearer {make_token('chief', username='chief-docs', unit_code='A')}"}
    assert client.get("/api/v1/identity-documents", headers=chief).status_code == 403


# --- recording ----------------------------------------------------------------------------------


def test_each_call_records_what_it_is_given_and_keeps_the_rest_and_never_hands_in(app, world, desk_api):
    first = desk_api.record(desk_api.staff_check_in, application_id=FORM_ID, identity_documents=["passport"])
    assert first.status_code == 200, first.get_json()
    second = desk_api.record(desk_api.staff_check_in, pin_form=True)
    body = second.get_json()
    assert body["application_id"] == FORM_ID and body["identity_documents"] == ["passport"] and body["pin_form"]
    assert body["submitted"] is False and body["application_submitted"] is False
    assert body["delivery"] == "counter" and body["delivery_reasons"] == ["identity_documents"]
    with app.app_context():
        assert db.session.get(Staff, world.staff_id).card_status == "none"
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("application.%"))).all()
        assert actions == ["application.recorded", "application.recorded"]


@pytest.mark.parametrize("typed", [
    "12345678901234567890123",
    "１２３４５６７８９０１２３４５６７８９０１２３",
    "1234 5678 9012 3456 7890 123",
    "1234-5678-9012-3456-7890-123",
])
def test_the_application_id_is_normalised(desk_api, typed):
    response = desk_api.record(desk_api.staff_check_in, application_id=typed)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["application_id"] == FORM_ID


@pytest.mark.parametrize("typed", ["1234567890123456789012", "123456789012345678901234", "1234567890123456789012X",
                                   "https://example.org/?id=12345678901234567890123"])
def test_anything_else_is_refused_naming_the_field(desk_api, typed):
    response = desk_api.record(desk_api.staff_check_in, application_id=typed)
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid" and "application_id" in response.get_json()["fields"]


def test_one_application_id_belongs_to_one_person(desk_api):
    assert desk_api.record(desk_api.staff_check_in, application_id=FORM_ID).status_code == 200
    response = desk_api.record(desk_api.spouse_check_in, application_id=FORM_ID)
    assert response.status_code == 422 and "application_id" in response.get_json()["fields"]


def test_unknown_documents_and_cards_are_refused(desk_api):
    response = desk_api.record(desk_api.staff_check_in, identity_documents=["library_card"])
    assert response.status_code == 422 and "identity_documents" in response.get_json()["fields"]
    response = desk_api.record(desk_api.staff_check_in, surrendered=["credit_card"])
    assert response.status_code == 422 and any(f.startswith("surrendered") for f in response.get_json()["fields"])


# --- handing in -------------------------------------------------------------------------------------


def test_handing_in_needs_the_application_id_and_a_photo(app, desk_api):
    response = desk_api.record(desk_api.staff_check_in, submitted=True)
    assert response.status_code == 409
    assert response.get_json()["error"] == "application_incomplete"
    assert response.get_json()["missing"] == ["application_id", "photo"]

    response = desk_api.record(desk_api.staff_check_in, application_id=FORM_ID, submitted=True)
    assert response.status_code == 409 and response.get_json()["missing"] == ["photo"]
    with app.app_context():
        # A refused call changes nothing, not even the fields it carried.
        assert db.session.scalar(select(Application)) is None

    desk_api.photo(desk_api.staff_check_in)
    response = desk_api.record(desk_api.staff_check_in, application_id=FORM_ID, submitted=True)
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["submitted"] and body["application_submitted"] and body["card_status"] == "applied"
    # What mailing needs decides the delivery, never a refusal.
    assert body["delivery"] == "counter" and set(body["delivery_reasons"]) == {"identity_documents", "pin_form"}
    with app.app_context():
        application = db.session.scalar(select(Application))
        assert application.delivery == "counter" and application.submitted_at is not None
        event = db.session.scalar(select(CardStatusEvent))
        assert (event.to_status, event.source) == ("applied", "desk")
        submitted = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "application.submitted"))
        assert submitted.details["delivery"] == "counter" and submitted.details["status"] == "applied"


def test_everything_checked_means_the_card_is_mailed(desk_api):
    desk_api.photo(desk_api.staff_check_in)
    response = desk_api.record(desk_api.staff_check_in, **everything_for_mail(), submitted=True)
    body = response.get_json()
    assert (body["delivery"], body["delivery_reasons"], body["missing"]) == ("mail", [], [])


@pytest.mark.parametrize(("documents", "mail"), [
    (["drivers_license", "passport"], True),                         # two A
    (["drivers_license", "health_insurance"], True),                 # one A and one B
    (["notification_card", "health_insurance", "pension_book"], True),  # the notice and two B
    (["drivers_license"], False),                                    # one A alone (no PIN)
    (["health_insurance", "pension_book"], False),                   # two B
    (["notification_card", "health_insurance"], False),              # the notice and one B
    (["notification_card", "number_notice"], False),                 # notices only
    (["drivers_license", "notification_card"], False),               # one A and the notice
    ([], False),
])
def test_the_combinations_of_identity_documents(desk_api, documents, mail):
    response = desk_api.record(desk_api.staff_check_in, **everything_for_mail(identity_documents=documents))
    body = response.get_json()
    assert body["delivery"] == ("mail" if mail else "counter"), body
    assert ("identity_documents" in body["delivery_reasons"]) is not mail


def test_one_a_document_with_the_pin_is_enough_only_where_the_section_allows_it(app, world, desk_api):
    fields = everything_for_mail(identity_documents=["drivers_license"], pin_entered=True)
    assert desk_api.record(desk_api.staff_check_in, **fields).get_json()["delivery"] == "counter"
    with app.app_context():
        db.session.get(Campaign, world.campaign_id).allows_single_photo_id_with_pin = True
        db.session.commit()
    assert desk_api.record(desk_api.staff_check_in, **fields).get_json()["delivery"] == "mail"
    body = desk_api.record(desk_api.staff_check_in, pin_entered=False).get_json()
    assert body["delivery"] == "counter" and body["delivery_reasons"] == ["identity_documents"]


def test_a_planned_move_sends_the_card_to_the_counter(desk_api):
    body = desk_api.record(desk_api.staff_check_in, **everything_for_mail(address_change_planned=True)).get_json()
    assert body["delivery"] == "counter" and body["delivery_reasons"] == ["address_change_planned"]


def test_a_renewal_needs_the_old_card_handed_in(app, world, desk_api):
    with app.app_context():
        db.session.get(Staff, world.staff_id).card_status = "received"
        db.session.commit()
    body = desk_api.record(desk_api.staff_check_in, **everything_for_mail()).get_json()
    assert body["delivery_reasons"] == ["surrendered"]
    body = desk_api.record(desk_api.staff_check_in, surrendered=["my_number_card"]).get_json()
    assert body["delivery"] == "mail" and body["surrendered"] == ["my_number_card"]


# --- children, babies, adult wards and unknown ages ---------------------------------------------------


def _child(app, world, birth_date: date | None) -> None:
    with app.app_context():
        db.session.get(Dependent, world.dependent_id).birth_date = birth_date
        db.session.commit()


def test_a_child_under_15_needs_the_legal_representative(app, world, desk_api):
    _child(app, world, world.session_day - timedelta(days=365 * 8))
    body = desk_api.record(desk_api.spouse_check_in, **everything_for_mail()).get_json()
    assert body["age_group"] == "under_15" and body["delivery_reasons"] == ["legal_representative"]
    # A name without documents is not enough; the representative shows documents of their own.
    body = desk_api.record(desk_api.spouse_check_in, legal_representative={"name": "佐藤 翔太", "relation": "父"}).get_json()
    assert body["delivery_reasons"] == ["legal_representative"]
    body = desk_api.record(desk_api.spouse_check_in, legal_representative={
        "name": "佐藤 翔太", "relation": "父", "identity_documents": ["drivers_license", "health_insurance"]}).get_json()
    assert body["delivery"] == "mail"
    assert body["legal_representative"] == {"name": "佐藤 翔太", "relation": "父",
                                            "identity_documents": ["drivers_license", "health_insurance"]}


def test_a_baby_under_1_is_handed_in_without_a_photo(app, world, desk_api):
    _child(app, world, world.session_day - timedelta(days=100))
    response = desk_api.record(desk_api.spouse_check_in, application_id=FORM_ID, submitted=True)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["age_group"] == "under_1" and response.get_json()["missing"] == []


def test_the_clerk_confirms_the_age_group_of_a_dependent_without_a_birth_date(desk_api):
    body = desk_api.record(desk_api.spouse_check_in, **everything_for_mail()).get_json()
    assert body["age_group"] is None and body["delivery_reasons"] == ["age_group"]
    # Without a known age a photo is needed.
    assert desk_api.record(desk_api.spouse_check_in, submitted=True).get_json()["missing"] == ["photo"]
    body = desk_api.record(desk_api.spouse_check_in, age_group="adult").get_json()
    assert body["age_group"] == "adult" and body["delivery"] == "mail"
    body = desk_api.record(desk_api.spouse_check_in, age_group="under_1", submitted=True).get_json()
    assert body["submitted"] and body["delivery_reasons"] == ["legal_representative"]


def test_an_adult_ward_applies_through_a_legal_representative(desk_api):
    body = desk_api.record(desk_api.staff_check_in, **everything_for_mail(adult_ward=True)).get_json()
    assert body["delivery_reasons"] == ["legal_representative"]
    body = desk_api.record(desk_api.staff_check_in, legal_representative={
        "name": "佐藤 一郎", "relation": "成年後見人", "identity_documents": TWO_A}).get_json()
    assert body["delivery"] == "mail"


# --- where people are registered -----------------------------------------------------------------------


def test_residents_of_other_municipalities_collect_at_the_counter(app, world, desk_api):
    with app.app_context():
        db.session.add_all([Municipality(code="072010", name="福島市", is_home=True),
                            Municipality(code="073083", name="伊達市", is_home=False)])
        db.session.get(Staff, world.staff_id).municipality_code = "073083"
        db.session.commit()
    staff = desk_api.record(desk_api.staff_check_in, **everything_for_mail()).get_json()
    assert staff["delivery_reasons"] == ["municipality"]
    # The spouse has no municipality of her own: she lives with him.
    spouse = desk_api.record(desk_api.spouse_check_in, **everything_for_mail(
        application_id="98765432109876543210987", age_group="adult")).get_json()
    assert spouse["delivery_reasons"] == ["municipality"]
    # The campaign's desks verify both towns (as Tochigi's joint desks did).
    with app.app_context():
        campaign = db.session.get(Campaign, world.campaign_id)
        campaign.mailing_municipalities = list(db.session.scalars(select(Municipality)))
        db.session.commit()
    assert desk_api.record(desk_api.staff_check_in).get_json()["delivery"] == "mail"


# --- the individual-number guard -------------------------------------------------------------------------


def test_an_application_id_is_never_taken_for_an_individual_number(desk_api):
    first_twelve = "123456789018"
    assert is_individual_number(first_twelve)
    typed = "1234-5678-9018-0000-0000-001"
    response = desk_api.record(desk_api.staff_check_in, application_id=typed)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["application_id"] == "12345678901800000000001"


@pytest.mark.parametrize("field", ["name", "relation"])
def test_an_individual_number_in_free_text_is_still_refused(desk_api, field):
    representative = {"name": "佐藤 翔太", "relation": "父", "identity_documents": [], field: "佐藤 1234 5678 9018"}
    response = desk_api.record(desk_api.spouse_check_in, legal_representative=representative)
    assert response.status_code == 422 and response.get_json()["error"] == "individual_number_refused"


@pytest.mark.parametrize("field", ["representative_name", "representative_relation"])
def test_the_page_refuses_an_individual_number_and_saves_nothing(app, login, booked, field):
    clerk = login("clerk")
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    with app.app_context():
        from booking.models import CheckIn

        check_in_id = db.session.scalars(select(CheckIn.id).order_by(CheckIn.id)).first()
    response = clerk.post(f"/desk/check-ins/{check_in_id}/application?lang=en",
                          data={field: "1234-5678-9018", "action": "save"}, follow_redirects=True)
    assert "individual number" in response.get_data(as_text=True).lower()
    with app.app_context():
        assert db.session.scalar(select(Application)) is None


# --- the two QR codes at the desk ----------------------------------------------------------------------------


def test_the_forms_qr_is_told_apart_from_a_bookings(client, clerk_headers, booked):
    response = client.post("/api/v1/checkins", headers=clerk_headers,
                           json={"qr": f"https://www.kojinbango-card.go.jp/apply/?id={FORM_ID}"})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_qr"
    assert "application form" in response.get_json()["message"]


def test_the_answer_after_handing_in_stays_readable(app, client, clerk_headers, desk_api):
    desk_api.photo(desk_api.staff_check_in)
    desk_api.record(desk_api.staff_check_in, **everything_for_mail(), submitted=True)
    response = client.get(f"/api/v1/checkins/{desk_api.staff_check_in}/application", headers=clerk_headers)
    body = response.get_json()
    assert body["submitted"] and body["delivery"] == "mail" and body["submitted_at"]
    # A correction after handing in keeps the delivery up to date.
    body = desk_api.record(desk_api.staff_check_in, address_change_planned=True).get_json()
    assert body["delivery"] == "counter"
    with app.app_context():
        assert db.session.scalar(select(Application.delivery)) == "counter"


# --- the desk's page ----------------------------------------------------------------------------------------


def test_the_page_keeps_what_was_typed_when_handing_in_is_refused(app, login, booked):
    clerk = login("clerk")
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    with app.app_context():
        from booking.models import CheckIn

        check_in_id = db.session.scalars(select(CheckIn.id).order_by(CheckIn.id)).first()
    response = clerk.post(f"/desk/check-ins/{check_in_id}/application", data={
        "application_id": "1234 5678", "identity_documents": ["passport", "drivers_license"], "pin_form": "y",
        "action": "submit"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#application-{check_in_id}")
    page = clerk.get(response.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert 'value="1234 5678"' in page and 'aria-invalid="true"' in page
    assert 'value="passport" checked' in page and 'name="pin_form" value="y" checked' in page
    with app.app_context():
        assert db.session.scalar(select(Application)) is None
    # Shown once: the next visit shows what is recorded (nothing).
    assert 'value="1234 5678"' not in clerk.get(f"/desk/reservations/{booked.id}").get_data(as_text=True)


def test_the_page_shows_mail_or_counter_while_the_clerk_ticks_without_writing(app, login, booked):
    clerk = login("clerk")
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    with app.app_context():
        from booking.models import CheckIn

        check_in_id = db.session.scalars(select(CheckIn.id).order_by(CheckIn.id)).first()
    response = clerk.post(f"/desk/check-ins/{check_in_id}/application/assess", headers={"Accept": "application/json"},
                          data={"identity_documents": ["passport", "drivers_license"], "pin_form": "y"})
    assert response.status_code == 200
    assert response.get_json()["delivery"] == "mail"
    response = clerk.post(f"/desk/check-ins/{check_in_id}/application/assess", headers={"Accept": "application/json"},
                          data={"identity_documents": ["passport"]})
    assert [r["code"] for r in response.get_json()["reasons"]] == ["identity_documents", "pin_form"]
    with app.app_context():
        assert db.session.scalar(select(Application)) is None
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action.like("application.%"))) is None
