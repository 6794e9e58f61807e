#!/usr/bin/env python
"""The booking floor (issue 21): POST /api/v1/reservations with nothing but the work a booking needs.

A tiny Flask app beside the real one, on the very database the app's migrations build. Each
booking does what the app's booking does today (services.bookings.book and the view around it),
statement for statement, with the sqlite3 module (SQLite) or psycopg (PostgreSQL) on one
connection per thread, and no ORM, no request hooks, no Flask extensions:

1. the rate limiter's check: the three wrong-code counters the route is behind (per address:
   10 per 2 minutes and 60 per hour; per staff number: 10 per 15 minutes) read from where the
   app keeps them without Redis (the shared ``desk-sqlite`` counts file, booking/ratelimit_storage.py),
   under Flask-Limiter's keys. A booking only reads them: the counters grow on a wrong code only;
2. the staff member by number, and the HMAC check of the invitation code;
3. the slot with its session, campaign and venue, and whether the campaign names its units, in
   one statement; the window, cut-off and cancellation checks (and the targeting walk when the
   campaign names units);
4. BEGIN IMMEDIATE behind the app's write gate (booking/sqlite_gate.py) on SQLite; nothing on
   PostgreSQL, where the conditional UPDATE and the unique indexes decide;
5. the conditional seat UPDATE; INSERT … ON CONFLICT (code) DO NOTHING RETURNING of the
   reservation; INSERT of its person; the UPDATE that sets the manage token's hash unless the
   session was cancelled meanwhile; INSERT of the audit event; INSERT of the confirmation's
   outbox row; COMMIT; then the worker's (coalesced) wake-up, as the app's after-commit hook;
6. the same JSON answer as booking/api/serialize.py's reservation().

A refusal answers the app's codes (invalid_invitation, booking_closed, slot_full, already_reserved…).
What the rush never sends is not on the floor: dependents, include_staff false, the office's
phone booking, and campaigns that ask for the chief's duty approval (answered 501).

    DATABASE_URL=sqlite:////tmp/x.sqlite3 SECRET_KEY=... python bench/floor.py --bind 127.0.0.1:5001 [--workers N]

gunicorn runs it with gunicorn.conf.py, so workers and threads are those the app gets for that
DATABASE_URL. bench/rush.py starts it after the app's rush on the same database.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import sys
import threading
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booking.config import jobs_storage, rate_limit_file
from booking.sqlite_gate import GatedConnection
from booking.worker import Waker, make_huey, wake

TOKYO = timezone(timedelta(hours=9))
CODE_ALPHABET = "ACEFHJKMNPRTWXY34679"  # services/tokens.py
LANGUAGES = ("ja", "en")
#: booking/config.py's INVITATION_ADDRESS_LIMIT and INVITATION_ATTEMPTS_LIMIT as Flask-Limiter
#: keys them (limits' key_for: namespace/identifiers/amount/multiples/granularity).
ADDRESS_LIMITS = ((10, 2, "minute", 120), (60, 1, "hour", 3600))
NUMBER_LIMITS = ((10, 15, "minute", 900),)
STATUS = {"invalid": 400, "invalid_invitation": 403, "not_found": 404, "booking_closed": 422,
          "slot_full": 409, "already_reserved": 409, "not_targeted": 403, "too_many_attempts": 429,
          "not_on_the_floor": 501}


class Refusal(Exception):
    def __init__(self, code: str, **extra: Any):
        super().__init__(code)
        self.code, self.extra = code, extra


# --- secrets (services/tokens.py, services/invitations.py) ---------------------------------


def mac(key: bytes, purpose: str, record_id: int, nonce: str) -> bytes:
    return hmac.new(key, f"{purpose}:{record_id}:{nonce}".encode(), hashlib.sha256).digest()


def normalise_code(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in folded if ch.isalnum())


def random_code(length: int = 6) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def instant(value: datetime) -> str:
    return value.astimezone(TOKYO).isoformat()


# --- the database: one connection per thread ------------------------------------------------


class Database:
    """The statements of a booking on one dialect; ``conn()`` is this thread's connection."""

    def __init__(self, url: str):
        self.url = url
        self.local = threading.local()
        self.sqlite = url.startswith("sqlite")
        self.p = "?" if self.sqlite else "%s"

    def conn(self) -> Any:
        held = getattr(self.local, "held", None)
        if held is not None and held[0] == os.getpid():
            return held[1]
        if self.sqlite:
            # As the app's engine: the write gate's connection class, the same pragmas.
            conn = sqlite3.connect(self.url[len("sqlite:///"):], timeout=15, factory=GatedConnection,
                                   isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=15000"):
                conn.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            conn = psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://", 1))
        self.local.held = (os.getpid(), conn)
        return conn

    def close(self) -> None:
        """Close this thread's connection (tests; a worker's go with its process)."""
        held = getattr(self.local, "held", None)
        self.local.held = None
        if held is not None:
            held[1].close()

    def q(self, sql: str) -> str:
        return sql.replace("?", self.p)

    def stamp(self, value: datetime) -> Any:
        """An aware instant as the app's UTCDateTime stores it: naive UTC (a string on SQLite)."""
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else naive

    def instant(self, value: Any) -> datetime:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)

    def json(self, value: dict) -> Any:
        if self.sqlite:
            return json.dumps(value)
        from psycopg.types.json import Json

        return Json(value)


# --- the app ---------------------------------------------------------------------------------


def create_app(url: str | None = None, secret_key: str | None = None, *, instance: Path = ROOT / "instance",
               wake_worker: bool = True) -> Flask:
    """The floor on DATABASE_URL with SECRET_KEY (or those given); ``instance`` is where the app
    keeps its counts file on PostgreSQL; tests turn the worker's wake-up off."""
    url = url or os.environ["DATABASE_URL"]
    key = (secret_key or os.environ["SECRET_KEY"]).encode()
    app = Flask(__name__)
    db = Database(url)
    counts = Counts(url, instance)
    app.extensions["floor.db"] = db
    # The confirmation's wake-up for the mail worker, coalesced as the app's (booking/worker.py).
    waker: Any = lambda: None
    if wake_worker:
        app.config["JOBS_STORAGE"] = jobs_storage(os.environ, url, instance)
        make_huey(app)
        waker = Waker(lambda: wake(app), float(os.environ.get("WAKE_COALESCE_SECONDS", "0.5")))

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.post("/api/v1/reservations")
    def book() -> tuple[Response, int]:
        address = request.remote_addr or ""
        data = request.get_json(silent=True)
        number = data.get("staff_number") if isinstance(data, dict) else None
        number = "".join(unicodedata.normalize("NFKC", number).split())[:64] if isinstance(number, str) else ""
        try:
            counts.check(address, number)  # before the view, as Flask-Limiter does
            if not isinstance(data, dict) or not isinstance(data.get("slot_id"), int) or not number:
                raise Refusal("invalid")
            if data.get("dependent_ids") or data.get("include_staff", True) is not True:
                raise Refusal("not_on_the_floor")
            answer = reserve(db, key, data, number, address, request.host_url)
        except Refusal as refusal:
            if refusal.code == "invalid_invitation" and counts.storage is not None:
                counts.count_wrong(address, number)
            return jsonify(error=refusal.code, **refusal.extra), STATUS.get(refusal.code, 400)
        waker()
        return jsonify(answer), 201

    return app


class Counts:
    """The wrong-code counters where the app's limiter keeps them: Redis when REDIS_URL is set,
    else the file every worker of the host shares (booking/ratelimit_storage.py), through the
    same ``limits`` storage and under Flask-Limiter's keys."""

    def __init__(self, url: str, instance: Path):
        redis_url = os.environ.get("REDIS_URL", "")
        if redis_url:
            self.uri, prefix = redis_url, os.environ.get("RATELIMIT_KEY_PREFIX", "outreach-desk") + "/"
        else:
            from booking.ratelimit_storage import uri_for  # registers the desk-sqlite scheme

            self.uri, prefix = uri_for(rate_limit_file(url, instance)), ""
        self.prefix = "LIMITER/" + prefix
        self.storage: Any = None

    def keys(self, address: str, number: str) -> list[tuple[str, int, int]]:
        keys = [(f"{self.prefix}{address}/invitation-code/{n}/{m}/{g}", n, s) for n, m, g, s in ADDRESS_LIMITS]
        if number:
            keys += [(f"{self.prefix}{number}/invitation-code-number/{n}/{m}/{g}", n, s)
                     for n, m, g, s in NUMBER_LIMITS]
        return keys

    def check(self, address: str, number: str) -> None:
        """Flask-Limiter's test() of each limit before the view: one read each (fixed window)."""
        if self.storage is None:  # in the worker, after the fork
            from limits.storage import storage_from_string

            self.storage = storage_from_string(self.uri)
        for key, amount, _seconds in self.keys(address, number):
            if self.storage.get(key) >= amount:
                raise Refusal("too_many_attempts")

    def count_wrong(self, address: str, number: str) -> None:
        """Flask-Limiter's hit() after a wrong code (deduct_when): one write each."""
        for key, _amount, seconds in self.keys(address, number):
            self.storage.incr(key, seconds)


STAFF = "SELECT id, staff_number, family_name, given_name, unit_id, email, invitation_nonce FROM staff " \
        "WHERE staff_number = ?"
SLOT = (
    "SELECT s.id, s.desk_session_id, s.starts_at, s.ends_at, d.is_cancelled, c.id, c.is_published, "
    "c.booking_opens_at, c.booking_closes_at, c.cutoff_minutes, c.requires_duty_approval, "
    "v.id, v.name, v.address, "
    "EXISTS (SELECT 1 FROM campaign_units cu WHERE cu.campaign_id = d.campaign_id) "
    "FROM slots s JOIN desk_sessions d ON d.id = s.desk_session_id JOIN campaigns c ON c.id = d.campaign_id "
    "JOIN venues v ON v.id = d.venue_id WHERE s.id = ?")
TAKE = "UPDATE slots SET seats_taken = seats_taken + ? WHERE id = ? AND seats_taken + ? <= capacity"
INSERT_RESERVATION = (
    "INSERT INTO reservations (code, slot_id, staff_id, campaign_id, seats, channel, status, token_nonce, "
    "manage_token_hash, sequence, booked_by_id, created_at, updated_at, cancelled_at, locale) "
    "VALUES (?, ?, ?, ?, 1, 'web', 'booked', ?, ?, 0, NULL, ?, ?, NULL, ?) "
    "ON CONFLICT (code) DO NOTHING RETURNING id")
INSERT_PERSON = ("INSERT INTO reservation_people (reservation_id, kind, dependent_id, slot_id) "
                 "VALUES (?, 'staff', NULL, ?) RETURNING id")
SET_TOKEN = ("UPDATE reservations SET manage_token_hash = ? WHERE id = ? AND NOT EXISTS "
             "(SELECT 1 FROM desk_sessions WHERE id = ? AND is_cancelled = ?)")
INSERT_AUDIT = (
    "INSERT INTO audit_events (occurred_at, user_id, actor, channel, action, target_type, target_id, "
    "remote_addr, details) VALUES (?, NULL, ?, 'api', 'reservation.book', 'reservation', ?, ?, ?)")
INSERT_OUTBOX = (
    "INSERT INTO outbox_messages (kind, reservation_id, staff_id, user_id, sequence, locale, to_address, "
    "reason, facts, dedupe_key, status, attempts, next_attempt_at, claimed_until, sent_at, last_error, "
    "subject, body, created_at) VALUES ('confirmation', ?, ?, NULL, 0, ?, ?, '', ?, NULL, 'queued', 0, ?, "
    "NULL, NULL, '', '', '', ?)")
ACTIVE = ("SELECT code FROM reservations WHERE staff_id = ? AND campaign_id = ? "
          "AND status IN ('booked', 'checked_in')")


def reserve(db: Database, key: bytes, data: dict, number: str, address: str, base: str) -> dict:
    """One booking of the staff member alone, statement by statement (see the module's docstring)."""
    conn = db.conn()
    now = datetime.now(UTC)
    try:
        staff = conn.execute(db.q(STAFF), (number,)).fetchone()
        typed = normalise_code(data.get("invitation_code") or "")
        if staff is None or not typed:
            raise Refusal("invalid_invitation")
        code = "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)]
                       for b in mac(key, "invitation-code", staff[0], staff[6])[:8])
        if not hmac.compare_digest(code.encode(), typed.encode()):
            raise Refusal("invalid_invitation")
        staff_id, staff_number, family, given, unit_id, email, _nonce = staff

        slot = conn.execute(db.q(SLOT), (data["slot_id"],)).fetchone()
        if slot is None or not slot[6]:
            raise Refusal("not_found")
        (slot_id, session_id, starts, ends, cancelled, campaign_id, _published, opens, closes, cutoff,
         duty, venue_id, venue_name, venue_address, targets_some_units) = slot
        starts, ends, opens, closes = map(db.instant, (starts, ends, opens, closes))
        if cancelled or not opens <= now <= min(closes, starts - timedelta(minutes=cutoff)):
            raise Refusal("booking_closed")
        if targets_some_units:
            check_targeted(db, conn, campaign_id, unit_id)
        if duty:
            raise Refusal("not_on_the_floor")
        locale = request.accept_languages.best_match(LANGUAGES) or "ja"

        if db.sqlite:
            conn.begin_immediate()  # the app's write gate, then BEGIN IMMEDIATE
        if conn.execute(db.q(TAKE), (1, slot_id, 1)).rowcount != 1:
            existing = conn.execute(db.q(ACTIVE), (staff_id, campaign_id)).fetchone()
            if existing is not None:
                raise Refusal("already_reserved", reservation_code=existing[0])
            raise Refusal("slot_full")
        token_nonce, stamp = secrets.token_hex(16), db.stamp(now)
        reservation_id = None
        while reservation_id is None:
            reservation_code = random_code(6)
            try:
                row = conn.execute(db.q(INSERT_RESERVATION), (
                    reservation_code, slot_id, staff_id, campaign_id, token_nonce, secrets.token_hex(16),
                    stamp, stamp, locale)).fetchone()
            except (sqlite3.IntegrityError, *pg_integrity_errors()):
                conn.rollback()
                existing = conn.execute(db.q(ACTIVE), (staff_id, campaign_id)).fetchone()
                if existing is None:
                    raise
                raise Refusal("already_reserved", reservation_code=existing[0]) from None
            reservation_id = row[0] if row else None
        conn.execute(db.q(INSERT_PERSON), (reservation_id, slot_id)).fetchone()
        token = base64.urlsafe_b64encode(mac(key, "manage", reservation_id, token_nonce)[:16]).rstrip(b"=").decode()
        kept = conn.execute(db.q(SET_TOKEN), (hashlib.sha256(token.encode()).hexdigest(), reservation_id,
                                              session_id, True)).rowcount
        if kept != 1:
            raise Refusal("booking_closed")
        conn.execute(db.q(INSERT_AUDIT), (
            stamp, f"booker:{staff_number}", str(reservation_id), address[:64],
            db.json({"code": reservation_code, "staff_number": staff_number, "channel": "web",
                     "slot_id": slot_id, "seats": 1})))
        conn.execute(db.q(INSERT_OUTBOX), (reservation_id, staff_id, locale, (email or "").strip(), db.json({}),
                                           stamp, stamp))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    venue = {"id": venue_id, "name": venue_name, "address": venue_address}
    return {
        "id": reservation_id, "code": reservation_code, "status": "booked", "channel": "web",
        "slot": {"id": slot_id, "starts_at": instant(starts), "ends_at": instant(ends), "venue": venue},
        "people": [{"kind": "staff", "name": f"{family} {given}", "starts_at": instant(starts)}],
        "manage_token": token,
        "manage_url": f"{base}r/{token}",
        "ics_url": f"{base}r/{token}/calendar.ics",
        "qr_url": f"{base}r/{token}/qr.png",
    }


def check_targeted(db: Database, conn: Any, campaign_id: int, unit_id: int | None) -> None:
    """services.reservations._check_targeted: the staff member's unit or one above it is named."""
    targets = {r[0] for r in conn.execute(db.q("SELECT unit_id FROM campaign_units WHERE campaign_id = ?"),
                                          (campaign_id,)).fetchall()}
    parents = dict(conn.execute("SELECT id, parent_id FROM units").fetchall())
    seen: set[int] = set()
    while unit_id is not None and unit_id not in seen:
        if unit_id in targets:
            return
        seen.add(unit_id)
        unit_id = parents.get(unit_id)
    raise Refusal("not_targeted")


def pg_integrity_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg
    except ImportError:
        return ()
    return (psycopg.errors.UniqueViolation,)


# --- serving ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from gunicorn.app.base import Application

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bind", default="127.0.0.1:5001")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    app = create_app()

    class Server(Application):
        """gunicorn with the project's gunicorn.conf.py, as run.py serves the app."""

        def init(self, parser, opts, args):
            return None

        def load_config(self) -> None:
            self.load_config_from_file(str(ROOT / "gunicorn.conf.py"))
            self.cfg.set("bind", args.bind)
            if args.workers:
                self.cfg.set("workers", args.workers)

        def load(self) -> Flask:
            return app

    Server().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
