"""A SQLite file made read-only under a running gunicorn, and writable again (issue 17, item 3).

The tests run as root, whom a file's mode does not stop; the server here runs without the
capabilities that let root ignore it (setpriv drops CAP_DAC_OVERRIDE and friends from its
bounding set), so ``chmod 444`` refuses its writes exactly as it would refuse the service's
own user. SQLite then opens the file read-only and keeps every such connection read-only
after ``chmod 644``: before the fix they stayed in the pool and bookings kept answering 503
until the workers were killed. With the write gate's lock file read-only as well, a worker
that had not yet opened it answered 500 (PermissionError).
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest_helpers import PG_URL
from test_kill_worker import (
    free_port,
    seed,
    start_gunicorn,
    stop_server,
    wait_for,
    workers_of,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(PG_URL), reason="a read-only SQLite file is an SQLite matter"),
    pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is needed to drop root's "
                                                                "override of file modes"),
]

#: Capabilities that let root write a file whatever its mode; the server runs without them.
DROPPED = "-dac_override,-dac_read_search,-fowner"


def call(base: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path, method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept-Language": "en"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        with error:
            text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {"text": text.decode(errors="replace")[:300]}


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    photo_dir = str(tmp_path / "photos")
    token, numbers, slot_ids = seed(url, photo_dir)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "read-only-secret", "PHOTO_DIR": photo_dir,
           "WEB_WORKERS": "2", "WEB_THREADS": "2", "BIND": f"127.0.0.1:{port}"}
    env.pop("REDIS_URL", None)
    # A connection held open by another process keeps the -wal and -shm files (mode 644) alive,
    # as the other workers of a live service do: the test changes the database file's mode only.
    holder = sqlite3.connect(tmp_path / "desk.sqlite3")
    holder.execute("SELECT count(*) FROM sqlite_master").fetchone()
    process, log = start_gunicorn(tmp_path, env, prefix=["setpriv", f"--bounding-set={DROPPED}"])
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return urllib.request.urlopen(f"{base}/healthz", timeout=1).status == 200
        except OSError:
            return False

    try:
        wait_for(lambda: up() and len(workers_of(process.pid)) == 2, 30, "gunicorn and its 2 workers")
        yield base, token, iter(numbers), slot_ids, tmp_path / "desk.sqlite3"
    finally:
        for path in tmp_path.glob("desk.sqlite3*"):
            path.chmod(0o644)
        stop_server(process, log)
        holder.close()
        print((tmp_path / "gunicorn.log").read_text()[-3000:])


def test_a_read_only_database_is_503_and_bookings_are_served_again_as_soon_as_it_is_writable(server):
    base, token, numbers, slot_ids, database = server
    lock = Path(str(database) + ".write-lock")
    lock.touch()
    database.chmod(0o444)
    lock.chmod(0o444)  # the gate's lock file too: the workers have not opened it yet
    during = [call(base, "/api/v1/reservations", token, {"slot_id": slot_ids[0], "staff_number": next(numbers)})
              for _ in range(8)]
    assert {status for status, _body in during} == {503}, during
    assert all(body["error"] == "unavailable" for _status, body in during)

    database.chmod(0o644)
    lock.chmod(0o644)
    fixed = time.monotonic()
    after = [call(base, "/api/v1/reservations", token, {"slot_id": slot_ids[1], "staff_number": next(numbers)})
             for _ in range(8)]
    recovered_in = time.monotonic() - fixed
    print(f"8 bookings after chmod 644 took {recovered_in:.2f} s: {[status for status, _ in after]}")
    # The first request after the fault is served: no worker or thread keeps a read-only connection.
    assert [status for status, _body in after] == [201] * 8, after


def test_a_read_only_lock_file_alone_does_not_stop_bookings(server):
    base, token, numbers, slot_ids, database = server
    lock = Path(str(database) + ".write-lock")
    lock.touch()
    lock.chmod(0o444)
    answers = [call(base, "/api/v1/reservations", token, {"slot_id": slot_ids[0], "staff_number": next(numbers)})
               for _ in range(4)]
    assert [status for status, _body in answers] == [201] * 4, answers
