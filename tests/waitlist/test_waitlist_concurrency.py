"""The waiting list under real concurrency (issue 19): threads released together send real HTTP
requests to the app served by a threaded server, on SQLite or on PostgreSQL (TEST_DATABASE_URL).
No slot ever goes over capacity, no offer holds seats that are not free, each offer is mailed once."""
from __future__ import annotations

from collections import Counter

from tests.test_concurrency import Call, concurrently
from tests.waitlist.conftest import entry, join, offer_mails, seats_taken, statuses, violations


def cancel_call(base: str, reservation: dict) -> Call:
    return Call(base, "POST", f"/api/v1/reservations/{reservation['manage_token']}/cancel")


def test_two_seats_freed_at_once_go_to_the_first_two_parties_waiting(app, client, live_server, full):
    waiting = [join(client, full.session_id, number, code) for number, code in full.waiting[:3]]
    answers = concurrently([cancel_call(live_server, r) for r in full.booked])
    assert [status for status, _ in answers] == [200, 200]
    assert [entry(client, w["token"])["status"] for w in waiting] == ["offered", "offered", "waiting"]
    assert seats_taken(app, full.slot_id) == (2, 2)
    assert offer_mails(app) == sorted((w["id"], 1) for w in waiting[:2])
    assert violations(app) == []


def test_a_cancellation_while_an_offer_is_accepted(app, client, live_server, full):
    first, second, third = (join(client, full.session_id, number, code) for number, code in full.waiting[:3])
    assert client.post(f"/api/v1/reservations/{full.booked[0]['manage_token']}/cancel").status_code == 200
    assert entry(client, first["token"])["status"] == "offered"

    (accepted, booked), (cancelled, _) = concurrently([
        Call(live_server, "POST", f"/api/v1/waitlist/{first['token']}/accept"),
        cancel_call(live_server, full.booked[1]),
    ])
    assert (accepted, booked["status"], cancelled) == (200, "booked", 200)
    assert statuses(app) == {first["id"]: "accepted", second["id"]: "offered", third["id"]: "waiting"}
    assert seats_taken(app, full.slot_id) == (2, 2)
    assert offer_mails(app) == sorted([(first["id"], 1), (second["id"], 1)])
    assert violations(app) == []


def test_many_cancels_accepts_and_leaves_at_once_never_overfill(app, client, live_server, world, full):
    """Rounds of everything at once: whatever wins, the counters match the bookings and holds."""
    pairs = world.add_staff(8, start=3000)
    waiting = [join(client, full.session_id, number, code) for number, code in pairs]
    assert client.post(f"/api/v1/reservations/{full.booked[0]['manage_token']}/cancel").status_code == 200
    offered = [w for w in waiting if entry(client, w["token"])["status"] == "offered"]
    calls = [Call(live_server, "POST", f"/api/v1/waitlist/{w['token']}/accept") for w in offered]
    calls += [cancel_call(live_server, full.booked[1])]
    calls += [Call(live_server, "POST", f"/api/v1/waitlist/{w['token']}/leave") for w in waiting[4:6]]
    answers = concurrently(calls)
    assert Counter(status for status, _ in answers) == {200: len(calls)}
    taken, capacity = seats_taken(app, full.slot_id)
    assert taken <= capacity
    assert violations(app) == []
    mails = offer_mails(app)
    assert len(mails) == len(set(mails))
    assert Counter(statuses(app).values())["offered"] + Counter(statuses(app).values())["accepted"] == len(mails)


def test_two_worker_processes_expire_each_offer_once_and_pass_it_on_once(app, client, full, tmp_path):
    """Two ``run-due-jobs`` processes at once, each with a minute of its own (so that both run the
    waiting-list job rather than one skipping the other's claim), over several expired offers."""
    import os
    import subprocess
    import sys
    from datetime import datetime, timedelta
    from pathlib import Path

    from sqlalchemy import func, select

    from booking.extensions import db
    from booking.localtime import TOKYO
    from booking.models import AuditEvent

    waiting = [join(client, full.session_id, number, code) for number, code in full.waiting]
    for reservation in full.booked:
        assert client.post(f"/api/v1/reservations/{reservation['manage_token']}/cancel").status_code == 200
    offered = [w for w in waiting if entry(client, w["token"])["status"] == "offered"]
    assert len(offered) == 2
    expires = max(datetime.fromisoformat(entry(client, w["token"])["offer"]["expires_at"]) for w in offered)
    with app.app_context():
        db.session.remove()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "SMTP_URL"))}
    env.update({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
                "PUBLIC_BASE_URL": "http://localhost", "PHOTO_DIR": app.config["PHOTO_DIR"],
                # A queue file of their own: two processes creating huey's PostgreSQL tables at the
                # same moment race in CREATE TABLE IF NOT EXISTS (the queue is not under test here).
                "JOBS_STORAGE": f"sqlite:///{tmp_path / 'jobs.sqlite3'}"})
    root = Path(__file__).resolve().parents[2]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "booking", "run-due-jobs", "--no-mail", "--now",
             (expires + timedelta(minutes=minute)).astimezone(TOKYO).replace(tzinfo=None).isoformat()],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for minute in (1, 2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs

    states = statuses(app)
    assert [states[w["id"]] for w in offered] == ["expired", "expired"]
    assert Counter(states.values()) == {"expired": 2, "offered": 2}
    assert seats_taken(app, full.slot_id) == (2, 2)
    mails = offer_mails(app)
    assert len(mails) == len(set(mails)) == 4
    with app.app_context():
        expiries = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "waitlist.expire"))
        assert expiries == 2
    assert violations(app) == []
