#!/usr/bin/env python
"""Where a 50,000-line staff import spends its time, and what bookings wait meanwhile.

    python bench/staff_import.py phases [DATABASE_URL]   # stage, confirm, chunked apply, slowest chunk
    python bench/staff_import.py bookings                # SQLite: booking latency during the apply

``phases`` builds the schema in the database given (a temporary SQLite file by
default; a PostgreSQL URL is wiped: give a scratch database). ``bookings``
books through the JSON API from a thread, every 20 ms, while the import is
applied in chunks (``import_jobs``; the one-transaction apply it replaced is
gone, its figures stay in docs/operations.md), and prints the latencies. Run it under ``nice -n 19`` on a
shared machine; the figures are in docs/operations.md's staff import section.
"""
from __future__ import annotations

import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from sqlalchemy import select, text

from booking import create_app
from booking.config import engine_options
from booking.extensions import db
from booking.localtime import TOKYO
from booking.models import StaffImportRows
from booking.services import accounts, campaigns, directory, import_jobs, staff_import
from booking.services.actor import Actor

LINES = 50_000
HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"


def make_app(url: str):
    return create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                       "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url), "PHOTO_DIR": tempfile.mkdtemp(),
                       "RATELIMIT_STORAGE_URI": "memory://", "PUBLIC_BASE_URL": "http://localhost"})


def staff_file() -> bytes:
    lines = [HEADER] + [f"{5_000_000 + n},山田,{n},ヤマダ,タロウ,{'A' if n % 2 else 'B'},{n % 3 + 1}部,,,none"
                        for n in range(LINES)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def fresh_schema(url: str) -> None:
    if url.startswith("postgresql"):
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
    db.create_all()


def phases(url: str) -> None:
    app = make_app(url)
    with app.test_request_context():
        fresh_schema(url)
        directory.create_unit(Actor.system(), code="A", name="a")
        directory.create_unit(Actor.system(), code="B", name="b")
        admin = Actor("page", user=accounts.ensure_user("admin", "admin"))
        db.session.commit()
        started = time.perf_counter()
        batch, _parsed, _plan = staff_import.stage_upload(admin, "staff.csv", staff_file())
        db.session.commit()
        print(f"stage (parse + plan + store): {time.perf_counter() - started:.2f} s")
        batch = staff_import.load_batch(admin, batch.id)
        started = time.perf_counter()
        runner = import_jobs.start(admin, batch, batch.plan_digest)
        db.session.commit()
        print(f"confirm (the whole file planned again, marked running): {time.perf_counter() - started:.2f} s")
        batch_id = batch.id
    with app.app_context():
        rows = [(int(line), dict(values)) for line, values in
                db.session.scalar(select(StaffImportRows.rows).where(StaffImportRows.batch_id == batch_id))]
        db.session.rollback()
        took = []
        started = time.perf_counter()
        while True:
            chunk = time.perf_counter()
            outcome = import_jobs.run_chunk(batch_id, runner, rows)
            took.append(time.perf_counter() - chunk)
            if outcome != "more":
                break
        took.sort()
        print(f"apply in {len(took)} chunks: {time.perf_counter() - started:.2f} s, median chunk "
              f"{took[len(took) // 2] * 1000:.0f} ms, slowest {took[-1] * 1000:.0f} ms ({outcome})")
        if url.startswith("postgresql"):
            db.session.remove()
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()


def bookings(mode: str) -> None:
    url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = make_app(url)
    with app.test_request_context():
        db.create_all()
        setup = Actor.system()
        unit = directory.create_unit(setup, code="A", name="a")
        directory.create_unit(setup, code="B", name="b")
        venue = directory.create_venue(setup, name="v", address="x", unit_code="A")
        day = datetime.now(UTC).astimezone(TOKYO).date() + timedelta(days=5)
        campaign = campaigns.create_campaign(setup, title="c", booking_opens_at=datetime.now(UTC) - timedelta(hours=1),
                                             booking_closes_at=datetime.combine(day, clock(23), tzinfo=TOKYO),
                                             published=True)
        session = campaigns.create_session(setup, campaign, venue_id=venue.id, day=day, start=clock(8), end=clock(20),
                                           slot_minutes=10, desks=10)
        for n in range(300):
            directory.add_staff(staff_number=str(10000 + n), family_name="田中", given_name=str(n),
                                   family_name_kana="タナカ", given_name_kana="タロウ", unit=unit, crew="1部")
        user = accounts.ensure_user("admin", "admin")
        token = accounts.issue_api_token(user)
        admin = Actor("page", user=user)
        db.session.commit()
        slot_ids = [s.id for s in session.slots]
        batch, _parsed, _plan = staff_import.stage_upload(admin, "staff.csv", staff_file())
        db.session.commit()
        batch_id = batch.id
    latencies: list[float] = []
    stop = threading.Event()

    def booker() -> None:
        client = app.test_client()
        for n in range(300):
            if stop.is_set():
                return
            started = time.perf_counter()
            response = client.post("/api/v1/reservations", headers={"Authorization": f"Bearer {token}"},
                                   json={"slot_id": slot_ids[n % len(slot_ids)], "staff_number": str(10000 + n)})
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 201, response.get_json()
            time.sleep(0.02)

    thread = threading.Thread(target=booker)
    with app.test_request_context():
        admin = Actor("page", user=accounts.ensure_user("admin", "admin"))
        batch = staff_import.load_batch(admin, batch_id)
        thread.start()
        time.sleep(0.3)
        started = time.perf_counter()
        runner = import_jobs.start(admin, batch, batch.plan_digest)
        db.session.commit()
        import_jobs.run(app, batch_id, runner)
        took = time.perf_counter() - started
    stop.set()
    thread.join()
    latencies.sort()
    print(f"{mode}: import {took:.1f} s; {len(latencies)} bookings meanwhile: median "
          f"{latencies[len(latencies) // 2] * 1000:.0f} ms, p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms, "
          f"slowest {latencies[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "phases":
        phases(sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")
    elif len(sys.argv) == 2 and sys.argv[1] == "bookings":
        bookings("chunked")
    else:
        sys.exit(__doc__)
