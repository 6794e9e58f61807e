"""A full little session to wait for: one ten-minute slot with two desks, booked by two people."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import OutboxMessage, Slot, WaitlistEntry
from booking.services import integrity


@dataclass
class Full:
    session_id: int
    slot_id: int
    booked: list[dict]  # the two reservations (API answers)
    booked_by: list[str]  # their staff numbers
    waiting: list[tuple[str, str]]  # more staff (number, invitation code), not yet waiting


@pytest.fixture
def full(client, world, admin_headers) -> Full:
    created = client.post(f"/api/v1/campaigns/{world.campaign_id}/sessions", json={
        "venue_id": world.venue_id, "date": world.session_day.isoformat(), "start_time": "17:00",
        "end_time": "17:10", "slot_minutes": 10, "desks": 2}, headers=admin_headers).get_json()
    [slot] = created["slots"]
    pairs = world.add_staff(6)
    booked = []
    for number, code in pairs[:2]:
        answer = client.post("/api/v1/reservations", json={
            "slot_id": slot["id"], "staff_number": number, "invitation_code": code})
        assert answer.status_code == 201, answer.get_json()
        booked.append(answer.get_json())
    return Full(created["id"], slot["id"], booked, [number for number, _ in pairs[:2]], pairs[2:])


def join(client, session_id: int, number: str, code: str, **party) -> dict:
    answer = client.post("/api/v1/waitlist", json={
        "session_id": session_id, "staff_number": number, "invitation_code": code, **party})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def entry(client, token: str) -> dict:
    answer = client.get(f"/api/v1/waitlist/{token}")
    assert answer.status_code == 200
    return answer.get_json()


def seats_taken(app, slot_id: int) -> tuple[int, int]:
    with app.app_context():
        slot = db.session.get(Slot, slot_id)
        return slot.seats_taken, slot.capacity


def offer_mails(app) -> list[tuple[int, int]]:
    """(entry id, offer number) of every waiting-list offer queued."""
    with app.app_context():
        return sorted((m.facts["entry_id"], m.facts["offer"]) for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer")))


def statuses(app) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(select(WaitlistEntry.id, WaitlistEntry.status)).all())


def violations(app) -> list[str]:
    with app.app_context():
        return [f"{v.kind}: {v}" for v in integrity.check().violations if v.kind.startswith(("slot", "party"))]
