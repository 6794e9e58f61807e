"""One act, one service (DESIGN rule 12) for setting up the organisation.

Every API call that changes units, venues, campaigns, sessions or dependents writes exactly
one audit event naming the token's user, the channel "api" and the caller's address; the
office page doing the same act writes the same action, with the channel "page".
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, Campaign, Dependent, DeskSession, Unit, Venue
from tests.office.conftest import Office, sign_in

API_USER = "api-admin"


@pytest.fixture
def office(app) -> Office:
    return Office(app).build()


@pytest.fixture
def api(client, office, make_token):
    headers = {"Authorization": f"Bearer {make_token('admin', username=API_USER)}"}

    def call(path: str, payload: dict):
        return client.post(path, json=payload, headers=headers)

    return call


@pytest.fixture
def page(client, office):
    client.set_cookie("lang", "en")
    assert sign_in(client, "admin").status_code == 302
    return client


def last_event_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))


def events_after(app, event_id: int) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id > event_id)
                                         .order_by(AuditEvent.id)))
        db.session.expunge_all()
        return events


def one_event(app, before: int, action: str, *, actor: str, channel: str) -> AuditEvent:
    # Signing in writes its own event; only the act's events count here.
    events = [e for e in events_after(app, before) if not e.action.startswith("login")]
    assert [e.action for e in events] == [action]
    event = events[0]
    assert (event.actor, event.channel, event.remote_addr) == (actor, channel, "127.0.0.1")
    return event


def session_body(office, venue_key: str = "venue") -> dict:
    return {"venue_id": office.ids[venue_key], "date": (office.session_day + timedelta(days=3)).isoformat(),
            "start_time": "15:00", "end_time": "16:00", "slot_minutes": 10, "desks": 2}


# --- through the API ---------------------------------------------------------------------------


def test_creating_a_unit_through_the_api_writes_one_event(app, api, office):
    before = last_event_id(app)
    response = api("/api/v1/units", {"code": "C", "name": "南消防署", "parent_code": "HQ"})
    assert response.status_code == 201, response.get_data(as_text=True)
    event = one_event(app, before, "unit.create", actor=API_USER, channel="api")
    assert event.target_id == str(response.get_json()["id"]) and event.details["code"] == "C"


def test_creating_a_venue_through_the_api_writes_one_event(app, api, office):
    before = last_event_id(app)
    response = api("/api/v1/venues", {"name": "南消防署 講堂", "address": "福島市南町1", "unit_code": "B"})
    assert response.status_code == 201, response.get_data(as_text=True)
    event = one_event(app, before, "venue.create", actor=API_USER, channel="api")
    assert event.target_id == str(response.get_json()["id"])


def test_creating_a_campaign_through_the_api_writes_one_event(app, api, office):
    before = last_event_id(app)
    response = api("/api/v1/campaigns", {"title": "第2回", "booking_opens_at": "2030-06-01T09:00",
                                         "booking_closes_at": "2030-07-01T17:00", "published": False,
                                         "cutoff_minutes": 10080, "target_unit_codes": ["A"]})
    assert response.status_code == 201, response.get_data(as_text=True)
    event = one_event(app, before, "campaign.create", actor=API_USER, channel="api")
    assert event.target_id == str(response.get_json()["id"])


def test_creating_a_session_through_the_api_writes_one_event(app, api, office):
    before = last_event_id(app)
    response = api(f"/api/v1/campaigns/{office.ids['campaign']}/sessions", session_body(office))
    assert response.status_code == 201, response.get_data(as_text=True)
    event = one_event(app, before, "session.create", actor=API_USER, channel="api")
    assert event.target_id == str(response.get_json()["id"])
    assert event.details["slots"] == 6 and event.details["campaign_id"] == office.ids["campaign"]


def test_adding_a_dependent_through_the_api_writes_one_event(app, api, office):
    before = last_event_id(app)
    response = api("/api/v1/staff/1001/dependents", {
        "family_name": "佐藤", "given_name": "陽向", "family_name_kana": "さとう", "given_name_kana": "ひなた",
        "relation": "長男"})
    assert response.status_code == 201, response.get_data(as_text=True)
    event = one_event(app, before, "dependent.create", actor=API_USER, channel="api")
    assert event.details["staff_number"] == "1001"
    with app.app_context():
        child = db.session.get(Dependent, response.get_json()["id"])
        # The same rules as the page: kana is stored in katakana.
        assert (child.family_name_kana, child.given_name_kana) == ("サトウ", "ヒナタ")


def test_a_refused_api_call_writes_no_event_and_changes_nothing(app, api, office):
    before = last_event_id(app)
    response = api("/api/v1/units", {"code": "A", "name": "重複"})
    assert response.status_code == 409
    assert events_after(app, before) == []


# --- the same acts through the office pages -------------------------------------------------------


def test_the_pages_write_the_same_actions_as_the_api(app, page, office):
    staff_id = office.ids["staff_a"]
    acts = [
        ("unit.create", "/office/units/new", {"code": "C", "name": "南消防署", "parent_id": office.ids["HQ"]}),
        ("unit.update", f"/office/units/{office.ids['B']}", {"code": "B", "name": "北消防署（新）",
                                                             "parent_id": office.ids["HQ"]}),
        ("venue.create", "/office/venues/new", {"name": "南消防署 講堂", "address": "福島市南町1",
                                                "unit_id": office.ids["B"]}),
        ("venue.update", f"/office/venues/{office.ids['venue_b']}", {"name": "北消防署 講堂",
                                                                      "address": "福島市本内2"}),
        ("campaign.create", "/office/campaigns/new", {
            "title": "第2回", "booking_opens_at": "2030-06-01T09:00", "booking_closes_at": "2030-07-01T17:00",
            "cutoff_minutes": "10080"}),
        ("session.create", f"/office/campaigns/{office.ids['campaign']}/sessions/new",
         {**session_body(office), "action": "save"}),
        ("dependent.create", f"/office/staff/{staff_id}/dependents", {
            "dep-family_name": "佐藤", "dep-given_name": "陽向", "dep-family_name_kana": "サトウ",
            "dep-given_name_kana": "ヒナタ", "dep-relation": "長男", "dep-card_status": "none"}),
        ("invitation.reissue", f"/office/staff/{staff_id}/invitation", {}),
        ("unit.duty_calendar", f"/office/units/{office.ids['A']}/duty", {
            "system": "two_crew", "shift_start": "08:30", "crews-0-name": "1部", "crews-0-anchor_date": "2030-01-01",
            "crews-1-name": "2部", "crews-1-anchor_date": "2030-01-02"}),
        ("campaign.update", f"/office/campaigns/{office.ids['campaign']}/coverage/approval",
         {"requires_duty_approval": "y"}),
    ]
    for action, path, data in acts:
        before = last_event_id(app)
        response = page.post(path, data=data)
        assert response.status_code == 302, (action, response.get_data(as_text=True)[:2000])
        one_event(app, before, action, actor="admin", channel="page")


def test_session_copy_and_cancel_write_one_event_each(app, page, office):
    session_id = office.ids["session"]
    before = last_event_id(app)
    day = office.session_day + timedelta(days=1)
    assert page.post(f"/office/sessions/{session_id}/copy", data={"dates-0": day.isoformat()}).status_code == 302
    event = one_event(app, before, "session.copy", actor="admin", channel="page")
    assert event.details["dates"] == [day.isoformat()]
    before = last_event_id(app)
    assert page.post(f"/office/sessions/{session_id}/cancel").status_code == 302
    one_event(app, before, "session.cancel", actor="admin", channel="page")
    with app.app_context():
        assert db.session.get(DeskSession, session_id).is_cancelled


def test_api_and_page_creations_are_told_apart_only_by_channel(app, api, page, office):
    api("/api/v1/units", {"code": "C", "name": "南消防署"})
    page.post("/office/units/new", data={"code": "D", "name": "西消防署"})
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.action, AuditEvent.channel, AuditEvent.actor)
                                  .where(AuditEvent.action == "unit.create", AuditEvent.channel != "system")
                                  .order_by(AuditEvent.id)).all()
        assert [tuple(r) for r in rows] == [("unit.create", "api", API_USER), ("unit.create", "page", "admin")]
        assert db.session.scalar(select(func.count()).select_from(Unit).where(Unit.code.in_(["C", "D"]))) == 2
        assert db.session.scalar(select(func.count()).select_from(Venue)) == 2
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 1


def test_changes_on_the_pages_write_one_event_each(app, page, office):
    staff_id, spouse_id = office.ids["staff_a"], office.ids["spouse"]
    prefix = f"dep{spouse_id}"
    acts = [
        ("staff.update", f"/office/staff/{staff_id}", {
            "family_name": "佐藤", "given_name": "翔太", "family_name_kana": "サトウ", "given_name_kana": "ショウタ",
            "unit_id": office.ids["A"], "crew": "2部", "email": "", "phone": "090-1111-2222",
            "card_status": "none"}),
        ("dependent.update", f"/office/staff/{staff_id}/dependents/{spouse_id}", {
            f"{prefix}-family_name": "佐藤", f"{prefix}-given_name": "陽子", f"{prefix}-family_name_kana": "サトウ",
            f"{prefix}-given_name_kana": "ヨウコ", f"{prefix}-relation": "妻", f"{prefix}-card_status": "applied"}),
        ("dependent.delete", f"/office/staff/{staff_id}/dependents/{spouse_id}/delete", {}),
        ("session.update", f"/office/sessions/{office.ids['session']}/edit", {
            **session_body(office), "date": office.session_day.isoformat(), "desks": "3", "action": "save"}),
        ("campaign.update", f"/office/campaigns/{office.ids['campaign']}/edit", {
            "title": "出張申請（改）", "booking_opens_at": "2030-06-01T09:00",
            "booking_closes_at": "2030-07-01T17:00", "cutoff_minutes": "60", "is_published": "y"}),
    ]
    for action, path, data in acts:
        before = last_event_id(app)
        response = page.post(path, data=data)
        assert response.status_code == 302, (action, response.get_data(as_text=True)[:2000])
        one_event(app, before, action, actor="admin", channel="page")


# --- the card after the application (issue 18) ---------------------------------------------------


def test_a_card_step_through_the_api_writes_one_event_as_the_page_does(app, api, client, office):
    spouse, day = office.ids["spouse"], office.today.isoformat()
    for path in ("/api/v1/staff/1001/card", f"/api/v1/staff/1001/dependents/{spouse}/card"):
        before = last_event_id(app)
        response = api(path, {"stage": "applied", "on": day})
        assert response.status_code == 200, response.get_data(as_text=True)
        one_event(app, before, "card.change", actor=API_USER, channel="api")

    client.set_cookie("lang", "en")
    assert sign_in(client, "admin").status_code == 302
    staff_page = f"/office/staff/{office.ids['staff_a']}"
    for path, key in ((f"{staff_page}/card", "staff"), (f"{staff_page}/dependents/{spouse}/card", f"dep{spouse}")):
        before = last_event_id(app)
        response = client.post(path, data={f"card-{key}-stage": "received", f"card-{key}-on": day})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        one_event(app, before, "card.change", actor="admin", channel="page")
