"""``python run.py`` serves with gunicorn and one worker beside it, and stops both."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from booking import create_app
from booking.extensions import db
from booking.models import Staff
from tests.conftest import PG_URL, World, _config
from tests.mail.conftest import FAST, free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(PG_URL), reason="run.py is exercised on SQLite")]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_run_py_starts_a_worker_that_sends_and_stops_it_with_the_server(tmp_path, smtp):
    database = tmp_path / "desk.sqlite3"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "TEST_DATABASE_URL")}
    env.update({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "run-py-test", "SMTP_URL": smtp.url,
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "PHOTO_DIR": str(tmp_path / "photos"),
                "WEB_WORKERS": "1", **{k: str(v) for k, v in FAST.items()}})
    server = subprocess.Popen([sys.executable, "run.py", "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.3)
        workers = [pid for pid in _children(server.pid) if "booking worker" in _cmdline(pid)]
        assert len(workers) == 1

        config = _config(f"sqlite:///{database}", str(tmp_path / "photos"))
        app = create_app({**config, "SECRET_KEY": "run-py-test"})
        world = World(app)
        with app.app_context():
            db.session.get(Staff, world.staff_id).email = "sato@example.jp"
            db.session.commit()
            db.engine.dispose()
        import json

        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/reservations", method="POST",
            data=json.dumps({"slot_id": world.slot_ids[0], "staff_number": world.staff_number,
                             "invitation_code": world.invitation_code}).encode(),
            headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(request, timeout=10).status == 201
        assert len(smtp.inbox.wait_for(1, timeout=30)) == 1
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    assert code == 0
    time.sleep(0.5)
    assert all(not Path(f"/proc/{pid}").exists() or "booking worker" not in _cmdline(pid) for pid in workers)
