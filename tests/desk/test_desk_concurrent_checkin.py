"""Two desks scanning the same QR at the same moment: one check-in, over real HTTP.

Runs on SQLite by default and on PostgreSQL with TEST_DATABASE_URL set (as .ci/run does).
"""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, CheckIn, Reservation


def post_json(url: str, payload: dict, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def race(url: str, payload: dict, tokens: list[str]) -> list[tuple[int, dict]]:
    """Send the same request from one thread per token, released together by a barrier."""
    barrier = threading.Barrier(len(tokens))
    results: list[tuple[int, dict] | None] = [None] * len(tokens)

    def desk(index: int) -> None:
        barrier.wait()
        results[index] = post_json(url, payload, tokens[index])

    threads = [threading.Thread(target=desk, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results), "a desk got no answer"
    return results  # type: ignore[return-value]


def test_two_desks_scanning_the_same_qr_at_once_make_one_check_in(app, live_server, make_token, world, book_for):
    world.add_staff(4)
    booked = [book_for()] + [book_for(str(n), slot_index=1 + i // 2) for i, n in enumerate(range(2000, 2004))]
    desks = [make_token("clerk", username="desk-A"), make_token("clerk", username="desk-B")]

    for reservation in booked:
        results = race(f"{live_server}/api/v1/checkins", {"qr": reservation.qr}, desks)

        statuses = sorted(status for status, _body in results)
        assert statuses == [201, 409], results
        (won,) = [body for status, body in results if status == 201]
        (lost,) = [body for status, body in results if status == 409]
        assert lost["error"] == "already_checked_in"
        winner = won["check_ins"][0]["clerk"]
        assert lost["checked_in_by"] == winner
        assert f"at {won['checked_in_at'][11:16]} by {winner}" in lost["message"]

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 2 + 4
        statuses = db.session.scalars(select(Reservation.status)).all()
        assert statuses == ["checked_in"] * 5
        assert db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "checkin")) == 5


def test_eight_desks_at_once_still_make_exactly_one_check_in(app, live_server, make_token, booked):
    desks = [make_token("clerk", username=f"desk-{n}") for n in range(8)]

    results = race(f"{live_server}/api/v1/checkins", {"code": booked.code}, desks)

    assert sorted(status for status, _ in results) == [201] + [409] * 7
    assert {body["error"] for status, body in results if status == 409} == {"already_checked_in"}
    with app.app_context():
        rows = db.session.scalars(select(CheckIn)).all()
        assert len(rows) == 2
        assert len({row.clerk_id for row in rows}) == 1
