"""The report of how the cards will reach people: mail, counter and why, unknown for the
applications handed in before the desk recorded it; per session and campaign, page and CSV."""
from __future__ import annotations

import csv
import io

import pytest
from photo_session import session_with_photos

from booking.extensions import db
from booking.models import CheckIn, User
from booking.services import applications
from booking.services.actor import Actor


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English messages (Japanese is the default)."""
    client.set_cookie("lang", "en")


@pytest.fixture
def handed_in(app, book_for):
    ids = session_with_photos(app, book_for)
    with app.test_request_context():
        clerk = db.session.query(User).filter_by(username="sheet-clerk").one()
        actor = Actor("page", user=clerk)
        booker = db.session.get(CheckIn, ids["booker"])
        _record, assessment = applications.record_application(actor, booker, {
            "identity_documents": ["drivers_license", "health_insurance"], "pin_form": True}, submit=True)
        assert assessment.delivery == "mail", assessment
        spouse = db.session.get(CheckIn, ids["spouse"])
        _record, assessment = applications.record_application(actor, spouse, {
            "application_id": "98765432109876543210987"}, submit=True)
        assert assessment.delivery == "counter"
        # Handed in before the desk recorded applications: no record, no delivery.
        db.session.get(CheckIn, ids["alone"]).is_application_submitted = True
        db.session.commit()
    return ids


def test_the_page_counts_mail_counter_and_unknown_with_the_reasons(login, handed_in, world):
    client = login("admin")
    response = client.get("/reports/delivery")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "出張申請" in page
    assert str(applications.REASON_TEXTS["identity_documents"]) in page
    assert str(applications.REASON_TEXTS["pin_form"]) in page
    assert "Unknown" in page


def test_the_csv_has_a_row_per_session_and_per_campaign(login, handed_in, world):
    client = login("admin")
    response = client.get(f"/reports/delivery.csv?campaign={world.campaign_id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2
    session, total = rows
    assert session["session_id"] == str(world.session_id) and total["session_id"] == ""
    for row in rows:
        assert (row["handed_in"], row["mail"], row["counter"], row["unknown"]) == ("3", "1", "1", "1")
        assert row["counter_identity_documents"] == "1" and row["counter_pin_form"] == "1"
        assert row["counter_municipality"] == "0"


def test_another_campaign_filters_everything_out(login, handed_in, world):
    client = login("admin")
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/reports/delivery.csv?campaign={world.campaign_id + 1}").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == []


@pytest.mark.parametrize("role", ["clerk", "chief"])
def test_only_admins_see_it(client, login, handed_in, role):
    login(role, unit_code="A" if role == "chief" else None)
    assert client.get("/reports/delivery").status_code == 403
    assert client.get("/reports/delivery.csv").status_code == 403
