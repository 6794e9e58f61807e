"""A gunicorn worker killed with kill -9 in the middle of a booking rush leaves no half-written reservation.

Real processes: gunicorn with the project's config file and 2 workers on a
random port, a temporary SQLite file (or a PostgreSQL database the test
creates when TEST_DATABASE_URL is set), bookings fired from threads, one
worker killed mid-rush, the master left to respawn it, then `flask check`
run as the operator would: zero violations.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import pytest
from conftest_helpers import PG_URL, app_config
from sqlalchemy import select

from booking import create_app
from booking.extensions import db
from booking.localtime import TOKYO

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
STAFF = 240
CLIENTS = 12

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_database(tmp_path: Path) -> str:
    if not PG_URL:
        return f"sqlite:///{tmp_path / 'rush.sqlite3'}"
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    name = f"{url.database}_kill9"
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    for statement in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", admin, "-q", "-c", statement], check=True, capture_output=True)
    return url.set(database=name).render_as_string(hide_password=False)


def seed(url: str, photo_dir: str) -> tuple[str, list[str], list[int]]:
    """Schema by the migrations, a published campaign of 24 slots x 8 desks, STAFF staff; an admin token."""
    from flask_migrate import upgrade

    from booking.models import Unit
    from booking.services import accounts, campaigns, directory, slots
    from booking.services.actor import Actor

    sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app(app_config(sa_url, photo_dir))
    with app.app_context():
        upgrade()
        with app.test_request_context(base_url="http://localhost"):
            unit = directory.create_unit(Actor.system(), code="R", name="中央消防署")
            venue = directory.create_venue(Actor.system(), name="会議室", address="福島市", unit_code="R")
            day = datetime.now(UTC).astimezone(TOKYO).date() + timedelta(days=5)
            campaign = campaigns.create_campaign(
                Actor.system(), title="rush", booking_opens_at=datetime.now(UTC) - timedelta(hours=1),
                booking_closes_at=datetime.combine(day, clock(23), tzinfo=TOKYO), published=True)
            session = slots.create_session(campaign, venue.id, day, clock(15), clock(19), 10, 8)
            for n in range(STAFF):
                directory.add_staff(staff_number=str(10000 + n), family_name="田中", given_name=str(n),
                                       family_name_kana="タナカ", given_name_kana="タロウ", unit=unit, crew="1部")
            token = accounts.issue_api_token(accounts.ensure_user("rush-admin", "admin"))
            db.session.commit()
            slot_ids = [s.id for s in session.slots]
            assert db.session.scalar(select(Unit.id).limit(1))
        db.session.remove()
        db.engine.dispose()
    return token, [str(10000 + n) for n in range(STAFF)], slot_ids


def workers_of(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return {int(pid) for pid in children.read_text().split()} if children.exists() else set()


def start_gunicorn(tmp_path: Path, env: dict, prefix: list[str] | None = None) -> tuple[subprocess.Popen, object]:
    """gunicorn with the repository's gunicorn.conf.py, logging to tmp_path; stop it with stop_server.
    ``prefix``: a command that runs gunicorn (setpriv …)."""
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115  (closed by stop_server)
    server = subprocess.Popen(
        [*(prefix or []), str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "booking:create_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return server, log


def stop_server(server: subprocess.Popen, log) -> None:
    """Stop gunicorn gracefully (SIGTERM), or kill it after 15 s, and close its log."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_of_a_worker_mid_rush_leaves_every_slot_consistent(tmp_path):
    url = fresh_database(tmp_path)
    photo_dir = str(tmp_path / "photos")
    token, numbers, slot_ids = seed(url, photo_dir)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "kill9-secret", "PHOTO_DIR": photo_dir,
           "WEB_WORKERS": "2", "BIND": f"127.0.0.1:{port}"}
    env.pop("REDIS_URL", None)
    server, log = start_gunicorn(tmp_path, env)
    base = f"http://127.0.0.1:{port}"
    try:
        def up() -> bool:
            try:
                return urllib.request.urlopen(f"{base}/healthz", timeout=1).status == 200
            except OSError:
                return False

        wait_for(lambda: up() and len(workers_of(server.pid)) == 2, 20, "gunicorn and its 2 workers")
        results: dict[str, int] = {"created": 0, "refused": 0, "cut": 0}
        lock = threading.Lock()
        done = threading.Semaphore(0)

        def book(number: str, slot_id: int) -> None:
            request = urllib.request.Request(
                f"{base}/api/v1/reservations", method="POST",
                data=json.dumps({"slot_id": slot_id, "staff_number": number}).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    outcome = "created" if response.status == 201 else "refused"
            except urllib.error.HTTPError as error:
                outcome = "refused" if error.code in (409, 422) else f"http_{error.code}"
                error.close()
            except OSError:
                outcome = "cut"  # the worker died under this request
            with lock:
                results[outcome] = results.get(outcome, 0) + 1
            done.release()

        def client(chunk: list[str]) -> None:
            for i, number in enumerate(chunk):
                # Everyone aims at the first few slots: a hot spot with refusals as well as bookings.
                book(number, slot_ids[(int(number) + i) % 12])

        threads = [threading.Thread(target=client, args=(numbers[i::CLIENTS],)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for _ in range(STAFF // 4):
            done.acquire(timeout=20)
        victim = min(workers_of(server.pid))
        os.kill(victim, signal.SIGKILL)  # mid-rush: a quarter of the bookings are in
        for t in threads:
            t.join(timeout=60)
        wait_for(lambda: len(workers_of(server.pid) - {victim}) == 2, 20, "the master to respawn the worker")
        assert server.poll() is None
        assert up()
        assert results["created"] > 0 and sum(results.values()) == STAFF
        assert set(results) <= {"created", "refused", "cut"}, (results, (tmp_path / "gunicorn.log").read_text()[-2000:])
    finally:
        stop_server(server, log)

    checked = subprocess.run([str(VENV_BIN / "flask"), "--app", "booking", "check"], cwd=ROOT,
                             env={**env, "DATABASE_URL": url}, capture_output=True, text=True, timeout=60,
                             check=False)
    print(results)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK: no violations" in checked.stdout
    # Every 201 the clients saw is in the database (a cut request may have committed too).
    app = create_app(app_config(url.replace("postgresql://", "postgresql+psycopg://", 1), photo_dir))
    with app.app_context():
        from booking.models import Reservation

        active = db.session.scalar(select(db.func.count(Reservation.id)).where(Reservation.status == "booked"))
        # Return the connection before disposing, or it outlives the pool unclosed.
        db.session.remove()
        db.engine.dispose()
    assert results["created"] <= active <= results["created"] + results["cut"]
