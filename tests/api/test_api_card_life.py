"""The card's life through the API (issue 18): applied → mailed or ready at the counter → received,
returned to sender, and the expiry dates; card_status keeps its three values beside the stage."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, CardStatusEvent, Staff
from booking.services import card_status


def _card(client, headers, number="1001", dependent_id=None):
    path = f"/api/v1/staff/{number}" + (f"/dependents/{dependent_id}" if dependent_id else "") + "/card"
    return path, client.get(path, headers=headers)


def _post(client, headers, body, number="1001", dependent_id=None):
    path = f"/api/v1/staff/{number}" + (f"/dependents/{dependent_id}" if dependent_id else "") + "/card"
    return client.post(path, json=body, headers=headers)


def test_a_card_goes_from_applied_to_mailed_back_to_the_counter_and_is_received(app, client, world, admin_headers):
    _path, first = _card(client, admin_headers)
    assert first.status_code == 200
    assert first.get_json() == {
        "staff_number": "1001", "dependent_id": None, "card_status": "none", "card_stage": "none",
        "card_stage_on": None, "card_returned_on": None, "card_expires_on": None,
        "certificates_expire_on": None, "delivery": None}
    steps = [("applied", "2026-01-10", "applied"), ("mailed", "2026-02-20", "applied"),
             ("returned", "2026-03-05", "applied"), ("received", "2026-03-12", "received")]
    for stage, on, status in steps:
        answer = _post(client, admin_headers, {"stage": stage, "on": on})
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert body["card_status"] == status
        assert body["card_stage"] == ("at_counter" if stage == "returned" else stage)
        assert body["card_stage_on"] == on
    # While the returned card waited at the counter, the return date was shown.
    with app.app_context():
        staff = db.session.scalar(select(Staff).where(Staff.staff_number == "1001"))
        assert staff.card_returned_on == date(2026, 3, 5)
        events = db.session.scalars(select(CardStatusEvent).where(CardStatusEvent.staff_id == staff.id)
                                    .order_by(CardStatusEvent.effective_on)).all()
        # card_status moved only twice: none → applied, applied → received, each on its day.
        assert [(e.to_status, e.effective_on) for e in events] == [
            ("applied", date(2026, 1, 10)), ("received", date(2026, 3, 12))]
        timeline = card_status.timeline_of(staff)
        assert timeline.on(date(2026, 3, 11)) == "applied" and timeline.on(date(2026, 3, 12)) == "received"
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "card.change")).all()
        assert len(actions) == 4


def test_the_returned_date_shows_while_the_card_waits_at_the_counter(client, world, admin_headers):
    _post(client, admin_headers, {"stage": "applied", "on": "2026-01-10"})
    _post(client, admin_headers, {"stage": "mailed", "on": "2026-02-20"})
    body = _post(client, admin_headers, {"stage": "returned", "on": "2026-03-05"}).get_json()
    assert (body["card_stage"], body["card_returned_on"]) == ("at_counter", "2026-03-05")
    body = _post(client, admin_headers, {"stage": "received", "on": "2026-03-09"}).get_json()
    assert (body["card_stage"], body["card_returned_on"]) == ("received", None)


def test_steps_the_card_cannot_take_are_refused_with_invalid_transition(client, world, admin_headers):
    refused = _post(client, admin_headers, {"stage": "mailed", "on": "2026-01-10"})
    assert refused.status_code == 409 and refused.get_json()["error"] == "invalid_transition"
    _post(client, admin_headers, {"stage": "applied", "on": "2026-01-10"})
    # Only a mailed card can come back to the city.
    refused = _post(client, admin_headers, {"stage": "returned", "on": "2026-01-11"})
    assert refused.status_code == 409 and refused.get_json()["error"] == "invalid_transition"
    _post(client, admin_headers, {"stage": "at_counter", "on": "2026-02-01"})
    assert _post(client, admin_headers, {"stage": "mailed"}).status_code == 409
    assert _card(client, admin_headers)[1].get_json()["card_stage"] == "at_counter"


def test_a_returned_date_before_the_mailing_and_a_day_to_come_are_refused(client, world, admin_headers):
    _post(client, admin_headers, {"stage": "applied", "on": "2026-01-10"})
    _post(client, admin_headers, {"stage": "mailed", "on": "2026-02-20"})
    before = _post(client, admin_headers, {"stage": "returned", "on": "2026-02-19"})
    assert before.status_code == 422 and "on" in before.get_json()["fields"]
    future = (card_status.today() + timedelta(days=1)).isoformat()
    ahead = _post(client, admin_headers, {"stage": "returned", "on": future})
    assert ahead.status_code == 422 and "on" in ahead.get_json()["fields"]
    assert _card(client, admin_headers)[1].get_json()["card_stage"] == "mailed"


def test_expiry_dates_left_out_are_kept_and_null_clears_them(client, world, admin_headers):
    body = _post(client, admin_headers, {"stage": "received", "on": "2026-03-12", "card_expires_on": "2036-02-29",
                                         "certificates_expire_on": "2031-02-28"}).get_json()
    assert (body["card_expires_on"], body["certificates_expire_on"]) == ("2036-02-29", "2031-02-28")
    body = _post(client, admin_headers, {"certificates_expire_on": "2031-03-01"}).get_json()
    assert (body["card_expires_on"], body["certificates_expire_on"]) == ("2036-02-29", "2031-03-01")
    body = _post(client, admin_headers, {"card_expires_on": None, "certificates_expire_on": None}).get_json()
    assert (body["card_expires_on"], body["certificates_expire_on"]) == (None, None)


def test_certificates_cannot_outlast_the_card(client, world, admin_headers):
    answer = _post(client, admin_headers, {"card_expires_on": "2030-01-01", "certificates_expire_on": "2030-01-02"})
    assert answer.status_code == 422 and "certificates_expire_on" in answer.get_json()["fields"]


def test_a_lost_card_back_to_none_drops_its_dates(client, world, admin_headers):
    _post(client, admin_headers, {"stage": "received", "on": "2026-03-12", "card_expires_on": "2036-03-12"})
    body = _post(client, admin_headers, {"stage": "none", "on": "2026-06-01"}).get_json()
    assert (body["card_status"], body["card_stage"], body["card_expires_on"]) == ("none", "none", None)


def test_a_dependents_card_and_the_dependent_output_carry_the_stage(client, world, admin_headers):
    answer = _post(client, admin_headers, {"stage": "applied", "on": "2026-01-10"}, dependent_id=world.dependent_id)
    assert answer.status_code == 200 and answer.get_json()["dependent_id"] == world.dependent_id
    _post(client, admin_headers, {"stage": "at_counter", "on": "2026-02-10"}, dependent_id=world.dependent_id)
    assert _card(client, admin_headers)[1].get_json()["card_stage"] == "none"  # the staff member's own
    added = client.post("/api/v1/staff/1001/dependents", headers=admin_headers, json={
        "family_name": "佐藤", "given_name": "一郎", "family_name_kana": "サトウ", "given_name_kana": "イチロウ",
        "relation": "長男", "card_status": "received"}).get_json()
    assert (added["card_status"], added["card_stage"]) == ("received", "received")


def test_a_stage_that_no_longer_agrees_with_the_card_status_gives_way_to_it(app, client, world, admin_headers):
    """Paths that move card_status alone (the staff import, an edit) leave no stale stage behind."""
    _post(client, admin_headers, {"stage": "applied", "on": "2026-01-10"})
    _post(client, admin_headers, {"stage": "mailed", "on": "2026-02-20"})
    with app.app_context():
        staff = db.session.scalar(select(Staff).where(Staff.staff_number == "1001"))
        card_status.record_change(staff, "received", on=date(2026, 3, 1), source="import")
        db.session.commit()
    body = _card(client, admin_headers)[1].get_json()
    assert (body["card_status"], body["card_stage"], body["card_stage_on"]) == ("received", "received", "2026-03-01")


def test_a_chief_changes_cards_in_their_units_only_and_hq_reads(client, world, make_token, admin_headers):
    assert client.post("/api/v1/units", json={"code": "B", "name": "北消防署"}, headers=admin_headers).status_code == 201
    chief_b = {"Authorization": f"Bearer {make_token('chief', username='chief-b', unit_code='B')}"}
    assert _post(client, chief_b, {"stage": "applied", "on": "2026-01-10"}).status_code == 403
    assert _card(client, chief_b)[1].status_code == 403
    chief_a = {"Authorization": f"Bearer {make_token('chief', username='chief-a', unit_code='A')}"}
    chief_hq = {"Authorization": f"Bearer {make_token('chief', username='chief-x', unit_code='HQ')}"}
    hq = {"Authorization": f"Bearer {make_token('hq', username='hq-1')}"}
    assert _post(client, chief_a, {"stage": "applied", "on": "2026-01-10"}).status_code == 200
    assert _card(client, hq)[1].get_json()["card_stage"] == "applied"
    assert _post(client, hq, {"stage": "mailed"}).status_code == 403
    # Station A is under HQ: the HQ chief reaches it.
    assert _post(client, chief_hq, {"stage": "mailed", "on": "2026-02-01"}).status_code == 200
