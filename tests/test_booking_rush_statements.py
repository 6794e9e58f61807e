"""The booking rush: recording the booking in the audit log costs one INSERT and no SELECT."""
from __future__ import annotations

from sqlalchemy import event

from booking.extensions import db


def test_a_booking_through_the_api_runs_its_few_statements_and_one_audit_insert(app, client, world):
    pairs = world.add_staff(2)
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()[:3]))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        for index, (number, code) in enumerate(pairs):  # the first one warms the caches up
            statements.clear()
            response = client.post("/api/v1/reservations", json={
                "slot_id": world.slot_ids[index], "staff_number": number, "invitation_code": code})
            assert response.status_code == 201, response.get_json()
    finally:
        event.remove(engine, "before_cursor_execute", keep)

    kinds = [s.split()[0] for s in statements]
    # The booker and the slot read; seats taken; the reservation, its people and its token
    # written; the audit event; and the confirmation mail's outbox row (issue 13: no SELECT for it).
    assert kinds.count("SELECT") == 2, statements
    assert [s for s in statements if s.startswith("INSERT INTO audit_events")] == ["INSERT INTO audit_events"]
    assert [s for s in statements if s.startswith("INSERT INTO outbox_messages")] == ["INSERT INTO outbox_messages"]
    assert len(statements) == 8, statements
