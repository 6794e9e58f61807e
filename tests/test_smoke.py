def test_health_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_booker_books_through_the_api(client, world):
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code, "dependent_ids": [world.dependent_id],
    })
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "booked"
    assert [p["kind"] for p in body["people"]] == ["staff", "dependent"]
    sessions = client.get(f"/api/v1/campaigns/{world.campaign_id}/sessions").get_json()
    assert sessions[0]["slots"][0]["remaining"] == 0
