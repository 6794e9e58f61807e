"""The demo shows families booked together at once: its example bookers come as families of four
and three, with a child under 15 and a baby (no photo), on sessions of two desks."""
from __future__ import annotations

import re

from booking.extensions import db
from booking.localtime import local_today
from booking.models import Campaign, DeskSession, Staff


def test_the_demo_examples_are_families_of_four_and_three_who_book_together(app, client):
    from booking.demo import seed

    with app.test_request_context(base_url="http://localhost"):
        printed = seed()
        db.session.commit()
    counts = [int(n) for n in re.findall(r"(\d+) dependents\)", printed)]
    assert counts[0] == 3 and counts[2] == 2, printed
    number, code = re.search(r"staff number (\d+) / invitation code (\w+)", printed).groups()
    with app.app_context():
        staff = db.session.query(Staff).filter_by(staff_number=number).one()
        dependent_ids = [d.id for d in staff.dependents]
        assert sorted((local_today() - d.birth_date).days // 365 for d in staff.dependents if d.birth_date) == [0, 8]
        # The main campaign's first session (the HQ's first run, running now, comes after it: issue 16 item 9).
        main = db.session.query(Campaign).order_by(Campaign.id).first()
        session = db.session.query(DeskSession).filter_by(campaign_id=main.id).order_by(DeskSession.date).first()
        assert session.desks == 2
        first_slot = session.slots[0].id
    page = client.get(re.search(r"(/i/\S+)", printed).group(1) + f"/sessions/{session.id}")
    text = page.get_data(as_text=True)
    assert "法定代理人" in text and "顔写真は不要" in text
    response = client.post("/api/v1/reservations", json={
        "slot_id": first_slot, "staff_number": number, "invitation_code": code, "dependent_ids": dependent_ids})
    assert response.status_code == 201, response.get_json()
    assert len({p["starts_at"] for p in response.get_json()["people"]}) == 2  # four people over two times
