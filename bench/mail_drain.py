#!/usr/bin/env python
"""The mail drain benchmark: N queued confirmations sent by real worker processes to a local SMTP
server (aiosmtpd in this process), with 1 and then 2 workers; messages per second.

1. makes a SQLite database in a temporary folder (migrations), a campaign with enough slots and
   N staff with an address, and books each of them (bookings.book: each booking queues its
   confirmation in the outbox; no worker runs yet);
2. starts the SMTP server, then W ``flask --app booking worker`` processes, and times from their
   start until every message is sent (and from the first message sent to the last, which leaves
   out the processes' start);
3. checks that the server received exactly N messages, one per address;
4. puts the messages back in the queue and repeats with the next worker count.

    python bench/mail_drain.py                       # 3000 messages, 1 and 2 workers
    python bench/mail_drain.py --count 300 --workers 1
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Counter:
    def __init__(self) -> None:
        self.recipients: list[str] = []
        self.first: float | None = None
        self.last: float | None = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        now = time.monotonic()
        self.first = self.first or now
        self.last = now
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(url: str, count: int) -> None:
    from flask_migrate import upgrade

    from booking import create_app
    from booking.extensions import db
    from booking.localtime import TOKYO
    from booking.services import bookings, campaigns, directory
    from booking.services.actor import Actor

    app = create_app({"SECRET_KEY": "drain", "SQLALCHEMY_DATABASE_URI": url, "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
                      "RATELIMIT_STORAGE_URI": "memory://", "TESTING": True})
    with app.app_context():
        upgrade()
    with app.test_request_context(base_url="http://127.0.0.1:5000"):
        unit = directory.create_unit(Actor.system(), code="A", name="中央消防署")
        venue = directory.create_venue(Actor.system(), name="中央消防署 会議室", address="福島市天神町11-28", unit_code="A")
        day = date.today() + timedelta(days=14)
        campaign = campaigns.create_campaign(
            Actor.system(), title="出張申請", booking_opens_at=datetime.now(UTC) - timedelta(days=1),
            booking_closes_at=datetime.combine(day, clock(23), tzinfo=TOKYO), published=True)
        session = campaigns.create_session(Actor.system(), campaign, venue_id=venue.id, day=day, start=clock(9),
                                           end=clock(21), slot_minutes=5, desks=max(1, count // 144 + 1))
        slots = [s.id for s in session.slots]
        db.session.commit()
        for n in range(count):
            staff = directory.add_staff(
                staff_number=str(10000 + n), family_name="田中", given_name=f"{n}", family_name_kana="タナカ",
                given_name_kana="タロウ", unit=unit, crew="1部", email=f"s{n}@example.jp")
            bookings.book(Actor.system(), slots[n % len(slots)], staff)
            if n % 200 == 199:
                db.session.commit()
        db.session.commit()
        db.engine.dispose()


def requeue(database: Path) -> None:
    import sqlite3

    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE outbox_messages SET status = 'queued', attempts = 0, sent_at = NULL, "
                           "claimed_until = NULL, last_error = ''")


def sent(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute("SELECT count(*) FROM outbox_messages WHERE status = 'sent'").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    print(f"load {os.getloadavg()}; {args.count} messages; workers {args.workers}", flush=True)
    with tempfile.TemporaryDirectory(prefix="od-drain-") as folder:
        database = Path(folder) / "drain.sqlite3"
        url = f"sqlite:///{database}"
        started = time.monotonic()
        seed(url, args.count)
        print(f"seeded {args.count} bookings in {time.monotonic() - started:.1f} s", flush=True)
        for workers in args.workers:
            requeue(database)
            counter = Counter()
            port = free_port()
            controller = Controller(counter, hostname="127.0.0.1", port=port)
            controller.start()
            env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "drain", "SMTP_URL": f"smtp://127.0.0.1:{port}",
                   "MAIL_FROM": "desk@example.jp", "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
                   "JOBS_STORAGE": f"sqlite:///{folder}/jobs-{workers}.sqlite3"}
            env.pop("REDIS_URL", None)
            start = time.monotonic()
            procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "booking", "worker"], cwd=ROOT,
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for _ in range(workers)]
            try:
                while sent(database) < args.count and time.monotonic() - start < args.timeout:
                    time.sleep(0.5)
                done = time.monotonic()
            finally:
                for proc in procs:
                    proc.send_signal(signal.SIGTERM)
                codes = [proc.wait(timeout=60) for proc in procs]
                controller.stop()
            total = sent(database)
            unique = len(set(counter.recipients))
            span = (counter.last or done) - (counter.first or start)
            print(f"workers={workers}: {total} sent, {len(counter.recipients)} received ({unique} addresses), "
                  f"{total / (done - start):.1f} msg/s from start ({done - start:.1f} s), "
                  f"{(len(counter.recipients) - 1) / span if span > 0 else 0:.1f} msg/s first to last "
                  f"({span:.1f} s); exit codes {codes}; load {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
