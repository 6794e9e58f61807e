"""A gunicorn worker killed with kill -9 in the middle of a 50,000-line staff import: the import is
resumed by the next look at its progress and ends with every line applied once.

Real processes, as in test_kill_worker.py: gunicorn with the project's config
file and one worker (so that the progress page after the respawn is served by
the new worker), a temporary SQLite file or a fresh PostgreSQL database, the
admin's browser played by ``requests`` (CSRF tokens and all).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest
import requests
from conftest_helpers import app_config
from sqlalchemy import func, select
from test_kill_worker import (
    ROOT,
    VENV_BIN,
    free_port,
    fresh_database,
    start_gunicorn,
    stop_server,
    wait_for,
    workers_of,
)

from booking import create_app
from booking.extensions import db

pytestmark = pytest.mark.slow

LINES = 50_000
STALE_SECONDS = 3
PASSWORD = "correct horse battery"
HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"


def seed(url: str, photo_dir: str) -> None:
    from flask_migrate import upgrade

    from booking.services import accounts, directory
    from booking.services.actor import Actor

    app = create_app(app_config(url.replace("postgresql://", "postgresql+psycopg://", 1), photo_dir))
    with app.app_context():
        upgrade()
        with app.test_request_context(base_url="http://localhost"):
            directory.create_unit(Actor.system(), code="A", name="中央消防署")
            directory.create_unit(Actor.system(), code="B", name="北消防署")
            accounts.ensure_user("admin", "admin", password=PASSWORD)
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def staff_numbers(url: str, photo_dir: str) -> tuple[int, int]:
    from booking.models import Staff

    app = create_app(app_config(url.replace("postgresql://", "postgresql+psycopg://", 1), photo_dir))
    with app.app_context():
        counted = (db.session.scalar(select(func.count(Staff.id))),
                   db.session.scalar(select(func.count(func.distinct(Staff.staff_number)))))
        db.session.remove()
        db.engine.dispose()
    return counted


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_kill_9_of_the_worker_mid_import_resumes_and_applies_every_line_once(tmp_path):
    url = fresh_database(tmp_path)
    photo_dir = str(tmp_path / "photos")
    seed(url, photo_dir)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "kill9-import-secret", "PHOTO_DIR": photo_dir,
           "WEB_WORKERS": "1", "BIND": f"127.0.0.1:{port}", "STAFF_IMPORT_STALE_SECONDS": str(STALE_SECONDS)}
    env.pop("REDIS_URL", None)
    server, log = start_gunicorn(tmp_path, env)
    base = f"http://127.0.0.1:{port}"
    answers: list[dict] = []
    try:
        def up() -> bool:
            try:
                return requests.get(f"{base}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(lambda: up() and len(workers_of(server.pid)) == 1, 20, "gunicorn and its worker")
        browser = requests.Session()
        browser.headers["Accept-Language"] = "en"
        login = browser.get(f"{base}/office/login?lang=en")
        assert browser.post(f"{base}/office/login", data={"csrf_token": csrf(login.text), "username": "admin",
                                                          "password": PASSWORD}, allow_redirects=False).status_code == 302
        data = ("\r\n".join([HEADER] + [f"{6_000_000 + n},山田,{n},ヤマダ,タロウ,{'A' if n % 2 else 'B'},1部,,,none"
                                        for n in range(LINES)]) + "\r\n").encode()
        form = browser.get(f"{base}/office/staff/import")
        preview = browser.post(f"{base}/office/staff/import", data={"csrf_token": csrf(form.text)},
                               files={"file": ("staff.csv", data, "text/csv")})
        assert preview.status_code == 200 and "/office/staff/import/" in preview.url, preview.status_code
        batch = re.search(r'name="batch" type="hidden" value="([^"]+)"', preview.text).group(1)
        digest = re.search(r'name="digest" type="hidden" value="([^"]+)"', preview.text).group(1)
        progress = browser.post(f"{base}/office/staff/import/{batch}/confirm",
                                data={"csrf_token": csrf(preview.text), "batch": batch, "digest": digest})
        assert progress.url.endswith(f"/office/staff/import/{batch}/progress"), progress.url
        status_url = f"{base}/office/staff/import/{batch}/progress.json"

        def look() -> dict | None:
            try:
                response = browser.get(status_url, timeout=5)
            except requests.RequestException:
                return None  # the worker is being replaced
            if response.status_code != 200:
                return None
            answers.append(response.json())
            return answers[-1]

        wait_for(lambda: (look() or {}).get("applied", 0) >= 3000, 120, "the import to get under way")
        victim = next(iter(workers_of(server.pid)))
        os.kill(victim, signal.SIGKILL)  # mid-import: a chunk may be half-way through its transaction
        killed_at = answers[-1]["applied"]
        assert killed_at < LINES, "the import ended before the worker could be killed"
        wait_for(lambda: len(workers_of(server.pid) - {victim}) == 1 and up(), 30, "the master to respawn the worker")
        wait_for(lambda: (look() or {}).get("finished", False), 180, "the import to be resumed and finish")
        time.sleep(0.1)
    finally:
        stop_server(server, log)

    final = answers[-1]
    print(f"killed at {killed_at} lines applied; {len(answers)} looks; resumed: "
          f"{[a['applied'] for a in answers if a['resumed']]}")
    assert [a for a in answers if a["resumed"]], "no look at the progress resumed the import"
    assert (final["state"], final["applied"], final["total"]) == ("done", LINES, LINES), final
    # Every line once: the chunk cut by the kill was rolled back and applied again by the resumer.
    assert (final["created"], final["updated"], final["unchanged"]) == (LINES, 0, 0), final
    assert staff_numbers(url, photo_dir) == (LINES, LINES)
    applied = [a["applied"] for a in answers]
    assert applied == sorted(applied)
    checked = subprocess.run([str(VENV_BIN / "flask"), "--app", "booking", "check"], cwd=ROOT, check=False,
                             env={**env, "DATABASE_URL": url}, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
