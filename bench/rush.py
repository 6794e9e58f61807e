#!/usr/bin/env python
"""The booking rush benchmark: real HTTP against the production server setup.

For each database (SQLite in WAL mode, PostgreSQL on 127.0.0.1:5432) and each
worker count it:

1. makes a fresh database (a SQLite file in a temporary folder, or a PostgreSQL
   database od_bench_rush_<pid> that is dropped afterwards), upgrades it with the
   migrations and bulk-inserts N staff with their invitation codes;
2. serves the app with ``run.py`` (gunicorn with gunicorn.conf.py) on a free port
   of 127.0.0.1;
3. measures, with the same load generator (wrk, C connections, one thread each):
   - the ceiling: C clients calling GET /healthz;
   - the rush: a published campaign whose slots hold exactly N people, every staff
     member POSTs /api/v1/reservations once for their own slot;
   - the floor (unless --no-floor): bench/floor.py, the bare booking endpoint, served on the
     same database with the same gunicorn settings, gets the same ceiling and rush (a fresh
     campaign), so that the app's figures and the floor's are side by side from one sitting;
   - the hot spot: a second campaign where everyone aims at its first five slots;
4. checks through the database (after the app's rush, the floor's and the hot spot):
   seats_taken equals the people in active reservations in every slot, no slot over capacity, nobody with two active
   reservations in a campaign, and as many reservations as 201 answers;
5. tops the database up to 20,000 reservations (past campaigns, and an open one
   with a 500-person session) and measures the read paths: the booker's session
   list (GET /i/<token>, GET /api/v1/campaigns/<id>/sessions), a session's slot
   grid (GET /i/<token>/sessions/<id>) and the 500-person roster as HTML, CSV and
   XLSX (the chiefs' pages, signed in as an admin) and the API's roster.csv;
6. reads the resident memory (VmRSS) of each worker after the rush and at the end.

Every run is bounded (wrk's -d, a timeout on every wait) and stops by itself;
it only talks to 127.0.0.1.

    python bench/rush.py                                  # SQLite and PostgreSQL, 1/2/4 workers
    python bench/rush.py --db sqlite --workers 2 --repeat 3
    python bench/rush.py --db postgres --workers 4 --staff 3000 --clients 32 --json out.json
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET_KEY = "bench-" + secrets.token_hex(16)
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TOKYO = timezone(timedelta(hours=9))
SLOT_MINUTES = 10
SLOTS_PER_SESSION = 24  # 15:00-19:00
ADMIN_USER, ADMIN_PASSWORD = "bench-admin", "bench-" + secrets.token_hex(8)


# --- small helpers ------------------------------------------------------------------------


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> dict:
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "?")
    return {"nproc": os.cpu_count(), "cpu": model,
            "memory_gib": round(int(meminfo["MemTotal"].split()[0]) / 1024 / 1024, 1),
            "python": sys.version.split()[0]}


def lua_string(text: str) -> str:
    return '"' + "".join(c if c.isalnum() or c in " /?=&-_.:,{}[]" else f"\\{ord(c):03d}"
                         for c in text) + '"'


# --- databases ----------------------------------------------------------------------------


@contextmanager
def fresh_database(kind: str, workdir: Path):
    """A URL for a new empty database, removed afterwards."""
    if kind == "sqlite":
        path = workdir / "bench.sqlite3"
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    name = f"od_bench_rush_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Data:
    """Preparing and checking the database directly (bulk inserts, no HTTP)."""

    def __init__(self, url: str, photo_dir: Path):
        from booking import create_app
        from booking.config import engine_options

        self.url = url
        self.app = create_app({
            "SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url), "PHOTO_DIR": str(photo_dir),
            "PUBLIC_BASE_URL": "http://127.0.0.1", "RATELIMIT_STORAGE_URI": "memory://",
        })
        self.staff: list[dict] = []
        self.units: list[int] = []
        self.venues: list[int] = []
        self.day0 = datetime.now(TOKYO).date() + timedelta(days=7)
        self.campaigns = 0

    @contextmanager
    def ctx(self):
        from booking.extensions import db

        with self.app.test_request_context(base_url="http://127.0.0.1"):
            try:
                yield db
            finally:
                db.session.remove()

    def migrate(self) -> None:
        from flask_migrate import upgrade

        with self.ctx() as db:
            upgrade()
            db.engine.dispose()

    def organisation(self, stations: int = 10) -> None:
        from booking.services import accounts, directory
        from booking.services.actor import Actor

        with self.ctx() as db:
            setup = Actor.system()
            directory.create_unit(setup, code="HQ", name="消防本部")
            for n in range(1, stations + 1):
                directory.create_unit(setup, code=f"S{n:02d}", name=f"第{n}消防署", parent_code="HQ")
            for n in range(1, 6):
                directory.create_venue(setup, name=f"第{n}消防署 会議室", address=f"福島市{n}-1-1",
                                       unit_code=f"S{n:02d}")
            accounts.ensure_user(ADMIN_USER, "admin", password=ADMIN_PASSWORD)
            self.api_token = accounts.issue_api_token(accounts.ensure_user(ADMIN_USER, "admin"))
            db.session.commit()
            from booking.models import Unit, Venue

            self.units = [u.id for u in db.session.scalars(db.select(Unit).where(Unit.parent_id.is_not(None)))]
            self.venues = list(db.session.scalars(db.select(Venue.id).order_by(Venue.id)))

    def add_staff(self, count: int) -> list[dict]:
        """Bulk-insert staff with explicit ids, so that their invitation codes can be computed."""
        from sqlalchemy import insert, text

        from booking.models import Staff
        from booking.services import tokens

        start = len(self.staff) + 1
        rows, made = [], []
        now = datetime.now(UTC)
        with self.ctx() as db:
            for sid in range(start, start + count):
                nonce = tokens.new_nonce()
                link = tokens.url_token("invitation-link", sid, nonce)
                rows.append({
                    "id": sid, "staff_number": f"{sid:06d}", "family_name": "消防", "given_name": f"太郎{sid}",
                    "family_name_kana": "ショウボウ", "given_name_kana": "タロウ", "search_kana": "ショウボウタロウ",
                    "unit_id": self.units[sid % len(self.units)], "crew": ("1部", "2部", "3部")[sid % 3],
                    "email": "", "phone": "", "card_status": "none", "invitation_nonce": nonce,
                    "invitation_link_hash": tokens.digest(link), "created_at": now,
                })
                made.append({"id": sid, "number": f"{sid:06d}", "link": link,
                             "code": tokens.short_code("invitation-code", sid, nonce)})
            for i in range(0, len(rows), 2000):
                db.session.execute(insert(Staff.__table__), rows[i:i + 2000])
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("SELECT setval(pg_get_serial_sequence('staff', 'id'), "
                                        "(SELECT max(id) FROM staff))"))
            db.session.commit()
        self.staff.extend(made)
        return made

    def campaign(self, title: str, sessions: int, desks: int, *, past: bool = False) -> dict:
        """A published campaign of `sessions` sessions of 24 ten-minute slots with `desks` seats each."""
        from booking.services import campaigns
        from booking.services.actor import Actor

        now = datetime.now(UTC)
        self.campaigns += 1
        first_day = self.day0 - timedelta(days=60 * self.campaigns) if past else self.day0
        if past:
            closes = datetime.combine(first_day, clock_time(0), TOKYO)
            opens = closes - timedelta(days=30)
        else:
            opens, closes = now - timedelta(days=1), datetime.combine(self.day0 + timedelta(days=30), clock_time(0), TOKYO)
        with self.ctx() as db:
            campaign = campaigns.create_campaign(Actor.system(), title=title, booking_opens_at=opens,
                                                 booking_closes_at=closes, published=True,
                                                 what_to_bring="本人確認書類")
            made = []
            for n in range(sessions):
                day = first_day + timedelta(days=n // len(self.venues))
                venue = self.venues[n % len(self.venues)]
                made.append(campaigns.create_session(Actor.system(), campaign, venue_id=venue, day=day,
                                                     start=clock_time(15), end=clock_time(19),
                                                     slot_minutes=SLOT_MINUTES, desks=desks))
            db.session.commit()
            return {"id": campaign.id, "sessions": [s.id for s in made],
                    "slots": [[x.id for x in s.slots] for s in made]}

    def close(self, campaign_id: int) -> None:
        from booking.models import Campaign

        with self.ctx() as db:
            db.session.get(Campaign, campaign_id).booking_closes_at = datetime.now(UTC) - timedelta(minutes=1)
            db.session.commit()

    def reservation_count(self) -> int:
        from sqlalchemy import func, select

        from booking.models import Reservation

        with self.ctx() as db:
            return db.session.scalar(select(func.count()).select_from(Reservation))

    def bulk_reservations(self, placements: list[tuple[int, int, int, list[int]]], statuses=("booked",)) -> None:
        """Insert reservations (campaign, slot, staff id, dependent ids) directly, then recount seats."""
        from sqlalchemy import func, insert, select, text

        from booking.models import Reservation, ReservationPerson
        from booking.services import tokens

        now = datetime.now(UTC)
        with self.ctx() as db:
            next_id = (db.session.scalar(select(func.max(Reservation.id))) or 0) + 1
            next_person = (db.session.scalar(select(func.max(ReservationPerson.id))) or 0) + 1
            used = set(db.session.scalars(select(Reservation.code)))
            rows, people = [], []
            for i, (campaign_id, slot_id, staff_id, dependents) in enumerate(placements):
                rid = next_id + i
                nonce = tokens.new_nonce()
                code = tokens.random_code(6)
                while code in used:
                    code = tokens.random_code(6)
                used.add(code)
                status = statuses[i % len(statuses)]
                rows.append({
                    "id": rid, "code": code, "slot_id": slot_id, "staff_id": staff_id, "campaign_id": campaign_id,
                    "seats": 1 + len(dependents), "channel": "web", "status": status, "token_nonce": nonce,
                    "manage_token_hash": tokens.digest(tokens.url_token("manage", rid, nonce)), "sequence": 0,
                    "created_at": now, "updated_at": now, "cancelled_at": now if status == "cancelled" else None,
                })
                people.append({"id": next_person, "reservation_id": rid, "kind": "staff", "dependent_id": None})
                next_person += 1
                for dep in dependents:
                    people.append({"id": next_person, "reservation_id": rid, "kind": "dependent",
                                   "dependent_id": dep})
                    next_person += 1
            for i in range(0, len(rows), 2000):
                db.session.execute(insert(Reservation.__table__), rows[i:i + 2000])
            for i in range(0, len(people), 2000):
                db.session.execute(insert(ReservationPerson.__table__), people[i:i + 2000])
            db.session.execute(text(
                "UPDATE slots SET seats_taken = COALESCE((SELECT SUM(r.seats) FROM reservations r "
                "WHERE r.slot_id = slots.id AND r.status IN ('booked', 'checked_in')), 0)"))
            if db.engine.dialect.name == "postgresql":
                for table in ("reservations", "reservation_people"):
                    db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                            f"(SELECT max(id) FROM {table}))"))
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("ANALYZE"))
                db.session.commit()

    def dependents(self, staff_ids: list[int]) -> dict[int, int]:
        from sqlalchemy import insert, select

        from booking.models import Dependent

        with self.ctx() as db:
            db.session.execute(insert(Dependent.__table__), [
                {"staff_id": s, "family_name": "消防", "given_name": "花子", "family_name_kana": "ショウボウ",
                 "given_name_kana": "ハナコ", "relation": "妻", "card_status": "none"} for s in staff_ids])
            db.session.commit()
            return {s: d for d, s in db.session.execute(
                select(Dependent.id, Dependent.staff_id).where(Dependent.staff_id.in_(staff_ids)))}

    def verify(self) -> dict:
        """The rules a rush must never break, checked over the whole database."""
        from sqlalchemy import text

        with self.ctx() as db:
            q = lambda sql: db.session.execute(text(sql)).scalar()
            return {
                "slots_where_seats_differ_from_people": q(
                    "SELECT count(*) FROM slots s WHERE s.seats_taken != (SELECT count(*) FROM reservation_people p "
                    "JOIN reservations r ON r.id = p.reservation_id WHERE r.slot_id = s.id "
                    "AND r.status IN ('booked', 'checked_in'))"),
                "slots_over_capacity": q("SELECT count(*) FROM slots WHERE seats_taken > capacity"),
                "staff_with_two_active_in_a_campaign": q(
                    "SELECT count(*) FROM (SELECT staff_id, campaign_id FROM reservations "
                    "WHERE status IN ('booked', 'checked_in') GROUP BY staff_id, campaign_id "
                    "HAVING count(*) > 1) AS d"),
            }

    def active_in(self, campaign_id: int) -> int:
        from sqlalchemy import text

        with self.ctx() as db:
            return db.session.execute(text(
                "SELECT count(*) FROM reservations WHERE campaign_id = :c AND status IN ('booked', 'checked_in')"),
                {"c": campaign_id}).scalar()

    def seats_of(self, slot_ids: list[int]) -> int:
        from sqlalchemy import func, select

        from booking.models import Slot

        with self.ctx() as db:
            return db.session.scalar(select(func.sum(Slot.capacity)).where(Slot.id.in_(slot_ids)))

    def dispose(self) -> None:
        from booking.extensions import db

        with self.app.app_context():
            db.engine.dispose()


# --- the server ---------------------------------------------------------------------------


class Server:
    """run.py (gunicorn + gunicorn.conf.py) on a free port, stopped with SIGTERM; with ``script``
    bench/floor.py (the bare booking endpoint, the same gunicorn settings) instead."""

    def __init__(self, url: str, workers: int, workdir: Path, threads: int | None, extra_env: dict,
                 script: Path | None = None):
        self.port = free_port()
        self.database = url
        self.workers = workers
        self.workdir, self.threads, self.extra_env = workdir, threads, extra_env
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY,
               "PHOTO_DIR": str(workdir / "photos"), "PUBLIC_BASE_URL": self.base, **extra_env}
        env.pop("ACCESS_LOG", None)
        if threads:
            env["WEB_THREADS"] = str(threads)
        self.log_path = workdir / f"server-{self.port}.log"
        self.command = [sys.executable, str(script or ROOT / "run.py"), "--bind", f"127.0.0.1:{self.port}",
                        "--workers", str(workers)]
        if script is None and "--no-worker" in (ROOT / "run.py").read_text():
            # The web server alone: the outbox rows are written (and the queue woken) by every
            # booking as in production, but their sending is measured apart (bench/mail_drain.py),
            # not mixed into the server CPU per booking.
            self.command.append("--no-worker")
        self.log_file = open(self.log_path, "w")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server stopped: see {self.log_path}\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as answer:
                    if answer.status == 200 and len(self.worker_pids()) >= workers:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not answer /healthz within 60 s")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def rss_mib(self) -> list[float]:
        sizes = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kib = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            sizes.append(round(kib / 1024, 1))
        return sizes

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time used so far by the master, each worker and (PostgreSQL) each backend of the database."""
        used = {pid: cpu_seconds(pid) for pid in [*self.worker_pids(), *self.backend_pids()]}
        used[self.proc.pid] = cpu_seconds(self.proc.pid, reaped_children=True)
        return used

    def backend_pids(self) -> list[int]:
        if not self.database.startswith("postgresql"):
            return []
        import psycopg

        name = self.database.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            return [row[0] for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,))]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log_file.close()


# --- the load generator -------------------------------------------------------------------


@dataclass
class Result:
    name: str
    records: list[tuple[str, int, int, int, str]] = field(default_factory=list)
    wrk_cpu_s: float = 0.0
    command: str = ""
    #: Requests sent again because their connection closed before the answer.
    retries: int = 0
    #: CPU seconds the server (master, workers, PostgreSQL backends) used during the run.
    server_cpu_s: float = 0.0

    @property
    def elapsed_s(self) -> float:
        if not self.records:
            return float("nan")
        return (max(r[2] for r in self.records) - min(r[1] for r in self.records)) / 1e9

    def latencies_ms(self, status: int | None = None, kind: str | None = None) -> list[float]:
        return [(r[2] - r[1]) / 1e6 for r in self.records
                if (status is None or r[3] == status) and (kind is None or r[0] == kind)]

    def by_code(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.records:
            key = str(r[3]) + (f" {r[4]}" if r[4] else "")
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    def summary(self, status: int | None = None, kind: str | None = None) -> dict:
        lat = self.latencies_ms(status, kind)
        count = len(lat)
        return {"count": count, "retries": self.retries,
                "server_cpu_ms_per_request": round(self.server_cpu_s * 1000 / len(self.records), 2)
                if self.records and self.server_cpu_s else None,
                "per_s": round(count / self.elapsed_s, 1) if self.records else 0,
                "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
                "p99_ms": round(percentile(lat, 99), 1), "max_ms": round(max(lat), 1) if lat else None}


def cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """utime + stime of a process; with reaped_children also its children that have exited
    (a gunicorn worker recycled by max_requests in the middle of a run)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(server: Server, entries: list[tuple], clients: int, workdir: Path, name: str,
            *, max_seconds: int = 300, cpu: str | None = None) -> Result:
    """Send each entry (method, path, body, headers, kind) once over `clients` connections."""
    clients = max(1, min(clients, len(entries)))
    run_dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=workdir))
    data = run_dir / "requests.lua"
    with open(data, "w") as out:
        out.write("return {\n")
        for method, path, body, headers, kind in entries:
            head = "{" + ", ".join(f"[{lua_string(k)}]={lua_string(v)}" for k, v in headers.items()) + "}"
            out.write(f"{{{lua_string(method)},{lua_string(path)},{lua_string(body) if body else 'nil'},"
                      f"{head},{lua_string(kind)}}},\n")
        out.write("}\n")
    command = ["wrk", f"-t{clients}", f"-c{clients}", f"-d{max_seconds}s", "--timeout", "30s",
               "-s", str(ROOT / "bench" / "replay.lua"), server.base, "--", str(data), str(run_dir), str(clients)]
    if cpu:
        command = ["taskset", "-c", cpu, *command]
    cpu_before = server.cpu_seconds()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + max_seconds + 30
    cpu_used = 0.0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            cpu_used = max(cpu_used, cpu_seconds(proc.pid))
            if len(list(run_dir.glob("thread-*.tsv"))) >= clients:
                break
            time.sleep(0.05)
    except BaseException:  # Ctrl+C: wrk runs in a session of its own, so stop it here
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    cpu_used = max(cpu_used, cpu_seconds(proc.pid))
    cpu_after = server.cpu_seconds()
    server_cpu = sum(max(used - cpu_before.get(pid, 0.0), 0.0) for pid, used in cpu_after.items())
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output = proc.communicate()[0].decode(errors="replace")
    result = Result(name, wrk_cpu_s=round(cpu_used, 2), server_cpu_s=round(server_cpu, 3), command=" ".join(command[:-5]) + " … (" + name + ")")
    for path in sorted(run_dir.glob("thread-*.tsv")):
        for line in path.read_text().splitlines():
            if line.startswith("#retries"):
                result.retries += int(line.split("\t")[1])
                continue
            kind, start, end, status, code = (line.split("\t") + [""])[:5]
            result.records.append((kind, int(start), int(end), int(status), code))
    if len(result.records) < len(entries):
        log(f"  {name}: {len(result.records)} of {len(entries)} answers recorded; wrk said:\n{output[-1500:]}")
    shutil.rmtree(run_dir, ignore_errors=True)
    return result


JSON = {"Content-Type": "application/json", "Accept-Language": "en"}


def booking_entries(staff: list[dict], slot_for) -> list[tuple]:
    entries = []
    for i, person in enumerate(staff):
        body = json.dumps({"slot_id": slot_for(i), "staff_number": person["number"],
                           "invitation_code": person["code"]}, separators=(",", ":"))
        entries.append(("POST", "/api/v1/reservations", body, JSON, "book"))
    return entries


def healthz_entries(count: int) -> list[tuple]:
    return [("GET", "/healthz", None, {}, "healthz")] * count


def sign_in(base: str) -> str:
    """Sign in to the office pages as the bench admin; returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/office/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "username": ADMIN_USER, "password": ADMIN_PASSWORD})
    opener.open(urllib.request.Request(base + "/office/login", data=form.encode(),
                                       headers={"Referer": base + "/office/login"}), timeout=10).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


# --- one configuration --------------------------------------------------------------------


def run_configuration(kind: str, workers: int, args, workdir: Path) -> dict:
    report: dict = {"database": kind, "workers": workers, "load_before": load_average(), "runs": []}
    with fresh_database(kind, workdir) as url:
        data = Data(url, workdir / "photos")
        started = time.monotonic()
        data.migrate()
        data.organisation()
        data.add_staff(args.staff)
        report["prepare_s"] = round(time.monotonic() - started, 1)
        extra_env = {"REDIS_URL": args.redis} if args.redis else {}
        server = Server(url, workers, workdir, args.threads, extra_env)
        report["server_command"] = " ".join(server.command[1:])
        try:
            for repeat in range(args.repeat):
                log(f"[{kind} {workers}w] run {repeat + 1}/{args.repeat} (load {load_average()})")
                report["runs"].append(one_run(data, server, args, workdir))
                report["rss_after_rush_mib"] = report.get("rss_after_rush_mib") or server.rss_mib()
            if args.reads:
                log(f"[{kind} {workers}w] read paths (load {load_average()})")
                report["reads"] = read_paths(data, server, args, workdir)
            report["rss_end_mib"] = server.rss_mib()
        finally:
            server.stop()
            data.dispose()
    report["load_after"] = load_average()
    report["median"] = medians(report["runs"])
    return report


def idle_estimate(server_ms: float, wrk_ms: float, workers: int, cores: int | None = None) -> int | None:
    """Bookings per second these cores could serve if nothing else ran: the cores shared by the
    server and wrk, and no more than one core per worker (the GIL)."""
    cores = cores or os.cpu_count() or 1
    if not server_ms:
        return None
    return round(1000 * min(cores / (server_ms + wrk_ms), min(workers, cores) / server_ms))


def one_run(data: Data, server: Server, args, workdir: Path) -> dict:
    staff = data.staff[:args.staff]
    sessions = math.ceil(args.staff / (SLOTS_PER_SESSION * args.desks))
    rush = data.campaign("Rush", sessions, args.desks)
    slots = [s for session in rush["slots"] for s in session]
    capacity = len(slots) * args.desks
    run: dict = {"load": load_average(), "slots": len(slots), "capacity": capacity}

    ceiling = run_wrk(server, healthz_entries(args.ceiling_requests), args.clients, workdir, "ceiling",
                      cpu=args.wrk_cpu)
    run["ceiling"] = {**ceiling.summary(200), "by_code": ceiling.by_code(), "wrk_cpu_s": ceiling.wrk_cpu_s,
                      "elapsed_s": round(ceiling.elapsed_s, 2)}

    entries = booking_entries(staff, lambda i: slots[i % len(slots)])
    random.Random(7).shuffle(entries)
    result = run_wrk(server, entries, args.clients, workdir, "rush", cpu=args.wrk_cpu)
    booked = result.summary(201)
    run["rush"] = {**result.summary(), "booked": booked["count"], "bookings_per_s": booked["per_s"],
                   "by_code": result.by_code(), "wrk_cpu_s": result.wrk_cpu_s,
                   "elapsed_s": round(result.elapsed_s, 2)}
    run["ratio"] = round(booked["per_s"] / run["ceiling"]["per_s"], 3) if run["ceiling"]["per_s"] else None
    # CPU per request does not depend on what else the machine runs: what this
    # machine's cores could book per second if nothing else ran (wrk included).
    run["idle_estimate_bookings_per_s"] = idle_estimate(
        result.server_cpu_s * 1000 / max(booked["count"], 1), result.wrk_cpu_s * 1000 / len(entries),
        server.workers)
    checks = data.verify()
    checks["reservations_in_campaign"] = data.active_in(rush["id"])
    checks["reservations_match_201"] = checks["reservations_in_campaign"] == booked["count"]
    run["rush_checks"] = checks
    data.close(rush["id"])
    if args.floor:
        run["floor"] = floor_run(data, server, args, workdir, staff, sessions)

    hot = data.campaign("Hot spot", sessions, args.desks)
    first_five = sorted(s for session in hot["slots"] for s in session)[:5]
    hot_capacity = data.seats_of(first_five)
    entries = booking_entries(staff, lambda i: first_five[i % 5])
    random.Random(11).shuffle(entries)
    result = run_wrk(server, entries, args.clients, workdir, "hotspot", cpu=args.wrk_cpu)
    full = [r for r in result.records if r[4] == "slot_full"]
    run["hotspot"] = {**result.summary(), "capacity": hot_capacity, "booked": len(result.latencies_ms(201)),
                      "slot_full": len(full), "slot_full_latency": result.summary(409),
                      "booked_latency": result.summary(201), "by_code": result.by_code(),
                      "elapsed_s": round(result.elapsed_s, 2)}
    checks = data.verify()
    checks["exactly_capacity_booked"] = run["hotspot"]["booked"] == hot_capacity == data.active_in(hot["id"])
    run["hotspot_checks"] = checks
    data.close(hot["id"])
    run["rss_mib"] = server.rss_mib()
    return run


def floor_run(data: Data, app_server: Server, args, workdir: Path, staff: list[dict], sessions: int) -> dict:
    """The same ceiling and rush against bench/floor.py on the same database, in the same sitting:
    a fresh campaign of the same shape, the same staff, the same load and clients."""
    log(f"  floor: ceiling and rush (load {load_average()})")
    server = Server(app_server.database, app_server.workers, app_server.workdir, app_server.threads,
                    app_server.extra_env, script=ROOT / "bench" / "floor.py")
    try:
        rush = data.campaign("Floor rush", sessions, args.desks)
        slots = [s for session in rush["slots"] for s in session]
        out: dict = {"server_command": " ".join(server.command[1:]), "load": load_average()}
        ceiling = run_wrk(server, healthz_entries(args.ceiling_requests), args.clients, workdir, "floor-ceiling",
                          cpu=args.wrk_cpu)
        out["ceiling"] = {**ceiling.summary(200), "by_code": ceiling.by_code(), "wrk_cpu_s": ceiling.wrk_cpu_s,
                          "elapsed_s": round(ceiling.elapsed_s, 2)}
        entries = booking_entries(staff, lambda i: slots[i % len(slots)])
        random.Random(7).shuffle(entries)
        result = run_wrk(server, entries, args.clients, workdir, "floor-rush", cpu=args.wrk_cpu)
        booked = result.summary(201)
        out["rush"] = {**result.summary(), "booked": booked["count"], "bookings_per_s": booked["per_s"],
                       "by_code": result.by_code(), "wrk_cpu_s": result.wrk_cpu_s,
                       "elapsed_s": round(result.elapsed_s, 2)}
        out["ratio"] = round(booked["per_s"] / out["ceiling"]["per_s"], 3) if out["ceiling"]["per_s"] else None
        checks = data.verify()
        checks["reservations_in_campaign"] = data.active_in(rush["id"])
        checks["reservations_match_201"] = checks["reservations_in_campaign"] == booked["count"]
        out["rush_checks"] = checks
        out["rss_mib"] = server.rss_mib()
        data.close(rush["id"])
    finally:
        server.stop()
    return out


def spread(campaign_id: int, slots: list[int], capacity: int, people: list[tuple[int, list[int]]]) -> list[tuple]:
    """Place (staff id, dependent ids) over the slots round-robin, never over a slot's capacity."""
    taken = dict.fromkeys(slots, 0)
    placements, i = [], 0
    for staff_id, dependents in people:
        for _ in range(len(slots)):
            slot = slots[i % len(slots)]
            i += 1
            if taken[slot] + 1 + len(dependents) <= capacity:
                taken[slot] += 1 + len(dependents)
                placements.append((campaign_id, slot, staff_id, dependents))
                break
        else:
            raise ValueError("the people do not fit in the slots")
    return placements


def read_paths(data: Data, server: Server, args, workdir: Path) -> dict:
    """20,000 reservations in the database, then the booker's and the chiefs' read paths."""
    staff = data.staff
    # An open campaign of 10 sessions; session 0 is the 500-person one (21 desks).
    reads = data.campaign("Reads", 10, args.desks)
    big = data.campaign("Roster", 1, 21)
    roster_session = big["sessions"][0]
    roster_slots = big["slots"][0]
    # 400 reservations, 100 of them with a dependent: 500 people.
    roster_staff = [p["id"] for p in staff[:400]]
    deps = data.dependents(roster_staff[:100])
    placements = spread(big["id"], roster_slots, 21, [(sid, [deps[sid]] if sid in deps else [])
                                                      for sid in roster_staff])
    # Half the seats of the open campaign taken by the next staff; the rest browse it.
    read_slots = [s for session in reads["slots"] for s in session]
    half = len(read_slots) * args.desks // 2
    bookers = staff[400:400 + half]
    placements += [(reads["id"], read_slots[i % len(read_slots)], p["id"], []) for i, p in enumerate(bookers)]
    browsers = staff[400 + half:] or staff
    data.bulk_reservations(placements)
    # Past campaigns fill the rest up to 20,000 (checked in, no-shows, cancelled).
    missing = args.reservations - data.reservation_count()
    while missing > 0:
        size = min(missing, len(staff))
        past = data.campaign("Past", math.ceil(size / (SLOTS_PER_SESSION * args.desks)), args.desks, past=True)
        past_slots = [s for session in past["slots"] for s in session]
        data.bulk_reservations([(past["id"], past_slots[i % len(past_slots)], staff[i]["id"], [])
                                for i in range(size)], statuses=("checked_in",) * 8 + ("no_show", "cancelled"))
        data.close(past["id"])
        missing = args.reservations - data.reservation_count()
    out: dict = {"reservations_in_database": data.reservation_count(), "checks": data.verify()}

    n = args.read_requests
    rng = random.Random(3)
    picks = [rng.choice(browsers) for _ in range(n)]
    session_ids = [rng.choice(reads["sessions"]) for _ in range(n)]
    paths = {
        "session_list_html": [("GET", f"/i/{p['link']}", None, {}, "read") for p in picks],
        "session_list_api": [("GET", f"/api/v1/campaigns/{reads['id']}/sessions", None, {}, "read")] * n,
        "slot_grid_html": [("GET", f"/i/{p['link']}/sessions/{s}", None, {}, "read")
                           for p, s in zip(picks, session_ids)],
    }
    for name, entries in paths.items():
        for clients in sorted({1, args.clients}):
            result = run_wrk(server, entries, clients, workdir, name, cpu=args.wrk_cpu)
            out[f"{name} c={clients}"] = {**result.summary(), "by_code": result.by_code()}

    cookie = sign_in(server.base)
    auth = {"Authorization": f"Bearer {data.api_token}"}
    rosters = {
        "roster_html": ("GET", f"/chiefs/sessions/{roster_session}/roster", None, {"Cookie": cookie}, "roster"),
        "roster_csv": ("GET", f"/chiefs/sessions/{roster_session}/roster?format=csv", None, {"Cookie": cookie},
                       "roster"),
        "roster_xlsx": ("GET", f"/chiefs/sessions/{roster_session}/roster?format=xlsx", None, {"Cookie": cookie},
                        "roster"),
        "roster_api_csv": ("GET", f"/api/v1/sessions/{roster_session}/roster.csv", None, auth, "roster"),
    }
    for name, entry in rosters.items():
        result = run_wrk(server, [entry] * args.roster_requests, 1, workdir, name, cpu=args.wrk_cpu)
        out[name] = {**result.summary(), "by_code": result.by_code()}
    with urllib.request.urlopen(urllib.request.Request(
            server.base + rosters["roster_api_csv"][1], headers=auth), timeout=30) as answer:
        out["roster_people"] = answer.read().decode("utf-8-sig").count("\n") - 1
    return out


def medians(runs: list[dict]) -> dict:
    def med(getter):
        values = [getter(r) for r in runs]
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 3) if values else None

    return {
        "ceiling_per_s": med(lambda r: r["ceiling"]["per_s"]),
        "bookings_per_s": med(lambda r: r["rush"]["bookings_per_s"]),
        "rush_p50_ms": med(lambda r: r["rush"]["p50_ms"]),
        "rush_p95_ms": med(lambda r: r["rush"]["p95_ms"]),
        "rush_p99_ms": med(lambda r: r["rush"]["p99_ms"]),
        "ratio": med(lambda r: r["ratio"]),
        "hotspot_slot_full_p50_ms": med(lambda r: r["hotspot"]["slot_full_latency"]["p50_ms"]),
        "hotspot_slot_full_p95_ms": med(lambda r: r["hotspot"]["slot_full_latency"]["p95_ms"]),
        "hotspot_per_s": med(lambda r: r["hotspot"]["per_s"]),
        "rush_server_cpu_ms": med(lambda r: r["rush"]["server_cpu_ms_per_request"]),
        "ceiling_server_cpu_ms": med(lambda r: r["ceiling"]["server_cpu_ms_per_request"]),
        "hotspot_server_cpu_ms": med(lambda r: r["hotspot"]["server_cpu_ms_per_request"]),
        "idle_estimate_bookings_per_s": med(lambda r: r["idle_estimate_bookings_per_s"]),
        # bench/floor.py in the same runs (None with --no-floor).
        "floor_ceiling_per_s": med(lambda r: r.get("floor", {}).get("ceiling", {}).get("per_s")),
        "floor_bookings_per_s": med(lambda r: r.get("floor", {}).get("rush", {}).get("bookings_per_s")),
        "floor_ratio": med(lambda r: r.get("floor", {}).get("ratio")),
        "floor_rush_p95_ms": med(lambda r: r.get("floor", {}).get("rush", {}).get("p95_ms")),
        "floor_rush_server_cpu_ms": med(
            lambda r: r.get("floor", {}).get("rush", {}).get("server_cpu_ms_per_request")),
        "floor_ceiling_server_cpu_ms": med(
            lambda r: r.get("floor", {}).get("ceiling", {}).get("server_cpu_ms_per_request")),
    }


def print_report(report: dict) -> None:
    m = report["median"]
    print(f"\n== {report['database']}, {report['workers']} worker(s); load {report['load_before']} -> "
          f"{report['load_after']}; {len(report['runs'])} run(s); {report['server_command']}")
    for i, run in enumerate(report["runs"], 1):
        r, c, h = run["rush"], run["ceiling"], run["hotspot"]
        print(f"  run {i} (load {run['load']}): ceiling {c['per_s']}/s | rush {r['bookings_per_s']} bookings/s "
              f"p50 {r['p50_ms']} p95 {r['p95_ms']} p99 {r['p99_ms']} ms, {r['by_code']} | ratio {run['ratio']} | "
              f"wrk cpu {r['wrk_cpu_s']} s over {r['elapsed_s']} s; server CPU per booking "
              f"{r['server_cpu_ms_per_request']} ms, per healthz {c['server_cpu_ms_per_request']} ms; "
              f"idle-machine estimate {run['idle_estimate_bookings_per_s']}/s")
        print(f"    checks {run['rush_checks']}")
        floor = run.get("floor")
        if floor:
            fr, fc = floor["rush"], floor["ceiling"]
            print(f"    {'':6} {'bookings/s':>10} {'healthz/s':>10} {'ratio':>6} {'p95 ms':>7} "
                  f"{'CPU ms/booking':>14} {'CPU ms/healthz':>14}")
            for name, rr, cc, ratio in (("app", r, c, run["ratio"]), ("floor", fr, fc, floor["ratio"])):
                print(f"    {name:6} {rr['bookings_per_s']:>10} {cc['per_s']:>10} {ratio!s:>6} {rr['p95_ms']:>7} "
                      f"{rr['server_cpu_ms_per_request']!s:>14} {cc['server_cpu_ms_per_request']!s:>14}")
            print(f"    floor: {fr['by_code']}; checks {floor['rush_checks']}")
        print(f"    hot spot: {h['booked']} booked of capacity {h['capacity']}, {h['slot_full']} slot_full "
              f"p50 {h['slot_full_latency']['p50_ms']} p95 {h['slot_full_latency']['p95_ms']} "
              f"p99 {h['slot_full_latency']['p99_ms']} ms; {h['by_code']}; checks {run['hotspot_checks']}")
    print(f"  median: {m}")
    print(f"  worker RSS after the rush {report.get('rss_after_rush_mib')} MiB, at the end {report.get('rss_end_mib')}"
          " MiB")
    reads = report.get("reads")
    if reads:
        print(f"  reads: {reads['reservations_in_database']} reservations; checks {reads['checks']}; "
              f"roster people {reads.get('roster_people')}")
        for key, value in reads.items():
            if isinstance(value, dict) and "p95_ms" in value:
                print(f"    {key:28} n={value['count']:5} {value['per_s']:8}/s p50 {value['p50_ms']:7} "
                      f"p95 {value['p95_ms']:7} p99 {value['p99_ms']:7} ms, server CPU "
                      f"{value['server_cpu_ms_per_request']} ms/request {value['by_code']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both (comma-separated)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to try, comma-separated")
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (default: gunicorn.conf.py)")
    parser.add_argument("--staff", type=int, default=3000, help="staff who each book once (default 3000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--desks", type=int, default=5, help="seats per slot in the rush campaign (default 5)")
    parser.add_argument("--repeat", type=int, default=1, help="rush + hot spot runs per configuration")
    parser.add_argument("--ceiling-requests", type=int, default=6000)
    parser.add_argument("--reservations", type=int, default=20000, help="reservations before the read paths")
    parser.add_argument("--read-requests", type=int, default=1000, help="requests per read path")
    parser.add_argument("--roster-requests", type=int, default=20, help="requests per roster format")
    parser.add_argument("--no-reads", dest="reads", action="store_false", help="skip the read paths")
    parser.add_argument("--no-floor", dest="floor", action="store_false",
                        help="skip the floor (bench/floor.py: the bare booking endpoint on the same database)")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", ""),
                        help="REDIS_URL for the server (rate-limit storage), e.g. redis://127.0.0.1:6379/9")
    parser.add_argument("--wrk-cpu", default=None, help="pin wrk to these CPUs with taskset (e.g. 1)")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk)")

    reports = []
    header = {"machine": machine(), "started": datetime.now(UTC).isoformat(timespec="seconds"),
              "command": " ".join([Path(sys.executable).name, *sys.argv]), "load": load_average()}
    print(f"machine {header['machine']}; load {header['load']}; {header['command']}")
    with tempfile.TemporaryDirectory(prefix="od-bench-") as tmp:
        for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
            for workers in [int(w) for w in args.workers.split(",") if w.strip()]:
                report = run_configuration(kind, workers, args, Path(tmp))
                print_report(report)
                reports.append(report)
                if args.json:
                    args.json.write_text(json.dumps({**header, "configurations": reports}, indent=1))
    rules = ("slots_where_seats_differ_from_people", "slots_over_capacity", "staff_with_two_active_in_a_campaign")
    bad = [r for r in reports for run in r["runs"]
           for checks in (run["rush_checks"], *([run["floor"]["rush_checks"]] if "floor" in run else []))
           if any(checks[k] for k in rules) or not checks["reservations_match_201"]
           or not run["hotspot_checks"]["exactly_capacity_booked"]]
    if bad:
        print("FAILED: a rule was broken (see the checks above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
