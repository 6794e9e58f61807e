"""The card's life on the staff page (issue 18): one form per person for the next step and the
expiry dates; the page shows where each card is."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from booking.extensions import db
from booking.models import CardStatusEvent, Dependent, Staff


def _step(client, office, stage, on, key="staff", **dates):
    path = f"/office/staff/{office.ids['staff_a']}" + (
        f"/dependents/{office.ids['spouse']}" if key != "staff" else "") + "/card"
    prefix = f"card-{key}-"
    data = {f"{prefix}stage": stage, f"{prefix}on": on,
            f"{prefix}card_expires_on": dates.get("card_expires_on", ""),
            f"{prefix}certificates_expire_on": dates.get("certificates_expire_on", "")}
    return client.post(path, data=data)


def _staff(app, office) -> Staff:
    with app.app_context():
        staff = db.session.get(Staff, office.ids["staff_a"])
        db.session.expunge(staff)
        return staff


def test_each_step_through_the_page(app, client, office, login):
    login("admin")
    page = client.get(f"/office/staff/{office.ids['staff_a']}").get_data(as_text=True)
    assert "Card after the application" in page and 'id="card-staff"' in page and f'id="card-dep{office.ids["spouse"]}"' in page
    for stage, on in (("applied", "2026-01-10"), ("mailed", "2026-02-20"), ("returned", "2026-03-05")):
        response = _step(client, office, stage, on)
        assert response.status_code == 302 and response.headers["Location"].endswith("#card-staff")
    staff = _staff(app, office)
    assert (staff.card_status, staff.card_stage, staff.card_returned_on) == ("applied", "at_counter", date(2026, 3, 5))
    page = client.get(f"/office/staff/{office.ids['staff_a']}").get_data(as_text=True)
    assert "Ready at the counter" in page and "Returned to sender" in page
    response = _step(client, office, "received", "2026-03-12", card_expires_on="2036-02-29",
                     certificates_expire_on="2031-02-28")
    assert response.status_code == 302
    staff = _staff(app, office)
    assert (staff.card_status, staff.card_status_on, staff.card_stage) == ("received", date(2026, 3, 12), "received")
    assert (staff.card_expires_on, staff.certificates_expire_on) == (date(2036, 2, 29), date(2031, 2, 28))
    page = client.get(f"/office/staff/{office.ids['staff_a']}").get_data(as_text=True)
    # The form offers only the steps a received card can take, and shows the dates filled in.
    assert 'value="2036-02-29"' in page and 'value="mailed"' not in page.split('id="card-staff"')[1].split("</form>")[0]


def test_a_step_the_card_cannot_take_is_refused_on_the_page(app, client, office, login):
    login("admin")
    response = _step(client, office, "received", "2026-03-12")
    assert response.status_code == 302
    refused = _step(client, office, "mailed", "2026-03-13")
    assert refused.status_code == 409
    assert "cannot become" in refused.get_data(as_text=True)
    assert _staff(app, office).card_stage == "received"


def test_the_certificates_cannot_outlast_the_card_on_the_page(app, client, office, login):
    login("admin")
    refused = _step(client, office, "", "", card_expires_on="2030-01-01", certificates_expire_on="2031-01-01")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "The certificates cannot outlast the card." in html and 'aria-invalid="true"' in html
    assert _staff(app, office).card_expires_on is None


def test_a_dependents_card_and_a_chief_of_the_unit(app, client, office, login):
    login("chief_a")
    assert _step(client, office, "applied", "2026-01-10", key=f"dep{office.ids['spouse']}").status_code == 302
    assert _step(client, office, "at_counter", "2026-02-10", key=f"dep{office.ids['spouse']}").status_code == 302
    with app.app_context():
        spouse = db.session.get(Dependent, office.ids["spouse"])
        assert (spouse.card_status, spouse.card_stage) == ("applied", "at_counter")
        events = db.session.scalars(select(CardStatusEvent.source).where(
            CardStatusEvent.dependent_id == spouse.id)).all()
        assert events == ["edit"]

