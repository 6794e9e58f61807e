"""API.md "Browsing": published campaigns and their sessions, public."""
from __future__ import annotations


def test_campaigns_list_only_the_contract_fields(client, world):
    response = client.get("/api/v1/campaigns")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    [campaign] = response.get_json()
    assert set(campaign) == {"id", "title", "booking_opens_at", "booking_closes_at"}
    assert campaign["id"] == world.campaign_id
    assert campaign["title"] == "出張申請"
    assert campaign["booking_closes_at"] == f"{world.session_day.isoformat()}T23:00:00+09:00"


def test_sessions_list_venue_and_slots_with_seats_left(client, world):
    response = client.get(f"/api/v1/campaigns/{world.campaign_id}/sessions")
    assert response.status_code == 200
    [session] = response.get_json()
    assert set(session) >= {"id", "venue", "date", "start_time", "end_time", "slot_minutes", "desks", "slots"}
    assert session["id"] == world.session_id
    assert session["venue"] == {"id": world.venue_id, "name": "中央消防署 会議室", "address": "福島市天神町11-28"}
    assert (session["date"], session["start_time"], session["end_time"]) == (
        world.session_day.isoformat(), "15:00", "16:00")
    assert (session["slot_minutes"], session["desks"]) == (10, 2)
    assert [s["id"] for s in session["slots"]] == world.slot_ids
    first = session["slots"][0]
    assert set(first) == {"id", "starts_at", "ends_at", "capacity", "remaining"}
    assert first["starts_at"] == f"{world.session_day.isoformat()}T15:00:00+09:00"
    assert first["ends_at"] == f"{world.session_day.isoformat()}T15:10:00+09:00"
    assert (first["capacity"], first["remaining"]) == (2, 2)


def test_remaining_seats_fall_as_people_book(client, world, book):
    assert book(0).status_code == 201
    slots = client.get(f"/api/v1/campaigns/{world.campaign_id}/sessions").get_json()[0]["slots"]
    assert [s["remaining"] for s in slots[:2]] == [1, 2]


def test_sessions_of_a_draft_campaign_are_404_for_the_public(client, world, admin_headers):
    draft = client.post("/api/v1/campaigns", json={
        "title": "下書き", "booking_opens_at": "2030-06-01T09:00", "booking_closes_at": "2030-06-30T17:00",
        "published": False}, headers=admin_headers).get_json()
    response = client.get(f"/api/v1/campaigns/{draft['id']}/sessions")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_an_admin_sees_the_sessions_of_a_draft_campaign(client, world, admin_headers):
    draft = client.post("/api/v1/campaigns", json={
        "title": "下書き", "booking_opens_at": "2030-06-01T09:00", "booking_closes_at": "2030-06-30T17:00",
        "published": False}, headers=admin_headers).get_json()
    response = client.get(f"/api/v1/campaigns/{draft['id']}/sessions", headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json() == []


def test_sessions_of_an_unknown_campaign_are_404(client, world):
    response = client.get("/api/v1/campaigns/9999/sessions")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_browsing_with_a_bad_token_is_401(client, world):
    response = client.get(f"/api/v1/campaigns/{world.campaign_id}/sessions",
                          headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
