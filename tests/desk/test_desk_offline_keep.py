"""How long a desk tablet keeps the offline roster is the section's to set, per campaign
(issue 20): the campaign page and the API set it, the roster's wipe_at follows it, and a
campaign that leaves it empty keeps the DESK_OFFLINE_KEEP_MINUTES setting."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from booking.extensions import db
from booking.localtime import TOKYO, utcnow
from booking.models import AuditEvent, Campaign


def campaign_form(app, campaign_id: int, **extra) -> dict:
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        return {"title": campaign.title, "cutoff_minutes": "60", "is_published": "y",
                "booking_opens_at": campaign.booking_opens_at.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M"),
                "booking_closes_at": campaign.booking_closes_at.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M"),
                **extra}


def wipe_in(client, login, session_id: int) -> tuple[datetime, datetime, datetime]:
    """The roster's wipe_at, with the moments just before and after the clerk fetched it."""
    login("clerk")
    before = utcnow()
    roster = client.get(f"/desk/sessions/{session_id}/roster.json").get_json()
    return before, datetime.fromisoformat(roster["wipe_at"]), utcnow()


def test_the_campaign_page_sets_how_long_the_tablet_keeps_the_roster(app, client, login, world):
    app.config["DESK_OFFLINE_KEEP_MINUTES"] = 30
    url = f"/office/campaigns/{world.campaign_id}/edit"
    login("admin")
    client.set_cookie("lang", "en")
    page = client.get(url).get_data(as_text=True)
    assert 'name="desk_offline_keep_minutes"' in page and "empty: 30 minutes" in page

    assert client.post(url, data=campaign_form(app, world.campaign_id, desk_offline_keep_minutes="45")).status_code == 302

    before, wipe_at, after = wipe_in(client, login, world.session_id)
    assert before + timedelta(minutes=45) <= wipe_at <= after + timedelta(minutes=45)

    # A form without the field (an older page) keeps the campaign's time; an empty one gives the setting back.
    login("admin")
    assert client.post(url, data=campaign_form(app, world.campaign_id)).status_code == 302
    assert wipe_in(client, login, world.session_id)[1] > utcnow() + timedelta(minutes=40)
    login("admin")
    assert client.post(url, data=campaign_form(app, world.campaign_id, desk_offline_keep_minutes="")).status_code == 302
    before, wipe_at, after = wipe_in(client, login, world.session_id)
    assert before + timedelta(minutes=30) <= wipe_at <= after + timedelta(minutes=30)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.update")).all()
        assert [e.details["changed"] for e in events] == [["desk_offline_keep_minutes"]] * 2


def test_a_time_outside_the_bounds_is_refused_on_the_page(app, client, login, world):
    login("admin")
    client.set_cookie("lang", "en")
    url = f"/office/campaigns/{world.campaign_id}/edit"
    for minutes in ("9", "1441"):
        response = client.post(url, data=campaign_form(app, world.campaign_id, desk_offline_keep_minutes=minutes))
        assert response.status_code == 422
        assert "Use 10 to 1440 minutes" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Campaign, world.campaign_id).desk_offline_keep_minutes is None


def test_the_api_takes_and_echoes_the_campaigns_time(client, admin_headers):
    payload = {"title": "出張申請（オフライン）", "booking_opens_at": "2030-01-01T09:00:00",
               "booking_closes_at": "2030-02-01T09:00:00"}

    assert client.post("/api/v1/campaigns", json=payload, headers=admin_headers).get_json()[
        "desk_offline_keep_minutes"] is None
    made = client.post("/api/v1/campaigns", json={**payload, "desk_offline_keep_minutes": 90}, headers=admin_headers)
    assert made.status_code == 201 and made.get_json()["desk_offline_keep_minutes"] == 90
    refused = client.post("/api/v1/campaigns", json={**payload, "desk_offline_keep_minutes": 1441},
                          headers=admin_headers)
    assert refused.status_code == 422 and "desk_offline_keep_minutes" in refused.get_json()["fields"]
