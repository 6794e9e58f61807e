"""Rate-limit state: in Redis when REDIS_URL is set (shared by every worker and host), else in a
SQLite file beside the database (shared by every worker of the host: booking/ratelimit_storage.py).

Each app instance runs in a Python process of its own, as a gunicorn worker or a
host would, built from the environment as run.py builds it: nothing can be shared
through memory, and the Flask-Limiter object of this test process is left alone.
Redis tests use database OD_TEST_REDIS_DB (default 13) on 127.0.0.1:6379 and a key
prefix of their own, and remove their keys afterwards.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('OD_TEST_REDIS_DB', '13')}"
LIMIT = 10  # INVITATION_ATTEMPTS_LIMIT: "10 per 15 minutes"

#: One app instance: sends N wrong invitation codes, prints its storage and the answers.
INSTANCE = """
import json, sys
from pathlib import Path
from booking import config, create_app
from booking.extensions import limiter
settings = config.from_environment(Path(sys.argv[1]))
app = create_app({**settings, "TESTING": True})
client = app.test_client()
body = {"slot_id": 1, "staff_number": "999999", "invitation_code": "WRONG1"}
codes = [client.post("/api/v1/reservations", json=body).status_code for _ in range(int(sys.argv[2]))]
print(json.dumps({"uri": settings["RATELIMIT_STORAGE_URI"], "storage": type(limiter.storage).__name__,
                  "codes": codes}))
"""


def _redis():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error}); start redis-server to run this test")
    return client


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    """Run an app instance against the test database with REDIS_URL set or not."""

    def run(count: int, *, redis_url: str | None, prefix: str = "od-test") -> dict:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(SECRET_KEY=app.config["SECRET_KEY"], DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                   PHOTO_DIR=str(tmp_path / "photos"), RATELIMIT_KEY_PREFIX=prefix)
        if redis_url:
            env["REDIS_URL"] = redis_url
        answer = subprocess.run([sys.executable, "-c", INSTANCE, str(tmp_path), str(count)], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120, check=False)
        assert answer.returncode == 0, answer.stderr
        return json.loads(answer.stdout.strip().splitlines()[-1])

    return run


def test_with_redis_url_two_app_instances_share_the_count_of_wrong_invitation_codes(instance):
    redis = _redis()
    prefix = f"od-test-{uuid.uuid4().hex[:12]}"
    try:
        first = instance(6, redis_url=REDIS_URL, prefix=prefix)
        assert first["uri"] == REDIS_URL and first["storage"] == "RedisStorage"
        assert first["codes"] == [403] * 6
        assert list(redis.scan_iter(match=f"*{prefix}*")), "the count should be kept in Redis"
        # The other instance has four wrong codes left of the ten; the eleventh is refused.
        assert instance(5, redis_url=REDIS_URL, prefix=prefix)["codes"] == [403] * 4 + [429]
        assert instance(1, redis_url=REDIS_URL, prefix=prefix)["codes"] == [429]
    finally:
        for key in redis.scan_iter(match=f"*{prefix}*"):
            redis.delete(key)
    assert list(redis.scan_iter(match=f"*{prefix}*")) == []


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                    reason="the count file beside a SQLite database; on PostgreSQL it is instance/rate-limits.sqlite3")
def test_without_redis_url_two_app_instances_share_the_count_in_a_file_beside_the_database(instance, tmp_path):
    first = instance(6, redis_url=None)
    assert first["uri"] == f"desk-sqlite:///{tmp_path / 'test.rate-limits.sqlite3'}"
    assert first["storage"] == "SQLiteStorage"
    assert first["codes"] == [403] * 6
    # Another process (another worker) has four wrong codes left of the ten; the eleventh is refused.
    assert instance(5, redis_url=None)["codes"] == [403] * 4 + [429]
    assert instance(1, redis_url=None)["codes"] == [429]


def test_when_redis_stops_answering_requests_are_still_served_with_counts_in_memory(instance):
    answer = instance(LIMIT + 1, redis_url="redis://127.0.0.1:1/0")
    assert answer["storage"] == "RedisStorage"
    assert answer["codes"] == [403] * LIMIT + [429]


# --- the SQLite storage itself, and gunicorn workers sharing it (issue 17, item 2) ----------


@pytest.fixture
def storage(tmp_path):
    from limits.storage import storage_from_string

    return storage_from_string(f"desk-sqlite:///{tmp_path / 'counts.sqlite3'}")


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window"])
def test_the_sqlite_storage_keeps_the_limits_strategies(storage, strategy):
    from limits import parse
    from limits.strategies import STRATEGIES

    limiter = STRATEGIES[strategy](storage)
    item = parse("3 per 2 seconds")
    assert [limiter.hit(item, "addr") for _ in range(4)] == [True, True, True, False]
    assert not limiter.test(item, "addr") and limiter.test(item, "other")
    reset_at, remaining = limiter.get_window_stats(item, "addr")
    assert remaining == 0 and time.time() < reset_at <= time.time() + 2.1
    time.sleep(2.1)
    assert limiter.test(item, "addr") and limiter.hit(item, "addr")
    limiter.clear(item, "addr")
    assert limiter.get_window_stats(item, "addr")[1] == 3
    assert storage.check() and storage.reset() is not None


def _hit_in_another_process(uri: str, count: int) -> list[bool]:
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    import booking.ratelimit_storage  # noqa: F401  (registers the scheme in the child)

    limiter = FixedWindowRateLimiter(storage_from_string(uri))
    return [limiter.hit(parse("10 per minute"), "shared") for _ in range(count)]


def test_processes_hitting_the_file_at_once_are_counted_exactly(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    uri = f"desk-sqlite:///{tmp_path / 'counts.sqlite3'}"
    with ProcessPoolExecutor(4) as pool:
        results = [ok for batch in pool.map(_hit_in_another_process, [uri] * 4, [6] * 4) for ok in batch]
    assert results.count(True) == 10 and results.count(False) == 14


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                    reason="the count file beside a SQLite database; on PostgreSQL it is instance/rate-limits.sqlite3")
def test_gunicorn_workers_share_the_count_of_wrong_codes_without_redis(app, tmp_path):
    """Ten wrong codes, five through each of gunicorn's two workers, trip the limit on both."""
    port = _free_port()
    log = tmp_path / "access.log"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(SECRET_KEY=app.config["SECRET_KEY"], DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               PHOTO_DIR=str(tmp_path / "photos"), WEB_WORKERS="2", BIND=f"127.0.0.1:{port}")
    with open(tmp_path / "gunicorn.log", "wb") as output:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
             "--access-logfile", str(log), "--access-logformat", "%(p)s %(r)s %(s)s", "booking:create_app()"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        connections: dict = {}
        try:
            connections = _one_connection_per_worker(port, log, connections)
            body = json.dumps({"slot_id": 1, "staff_number": "999999", "invitation_code": "WRONG1"})
            answers = {pid: [] for pid in connections}
            for _ in range(LIMIT // 2):
                for pid, connection in connections.items():
                    connection.request("POST", "/api/v1/reservations", body=body,
                                       headers={"Content-Type": "application/json"})
                    response = connection.getresponse()
                    response.read()
                    answers[pid].append(response.status)
            assert all(codes == [403] * (LIMIT // 2) for codes in answers.values()), answers
            for pid, connection in connections.items():  # the eleventh, on either worker
                connection.request("POST", "/api/v1/reservations", body=body,
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                assert response.status == 429, (pid, response.status)
                assert int(response.getheader("Retry-After")) > 0
        finally:
            for connection in connections.values():
                connection.close()
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    assert (tmp_path / "test.rate-limits.sqlite3").exists()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _one_connection_per_worker(port: int, log: Path, held: dict) -> dict:
    """Keep-alive connections until two different workers hold one each (gunicorn's workers
    accept connections as they like; a connection then stays with its worker)."""
    import http.client

    deadline = time.monotonic() + 60
    while len(held) < 2:
        assert time.monotonic() < deadline, "could not reach two different workers"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        marker = uuid.uuid4().hex
        try:
            connection.request("GET", f"/healthz?probe={marker}")
            connection.getresponse().read()
        except OSError:
            connection.close()
            time.sleep(0.2)  # still starting
            continue
        time.sleep(0.05)
        line = next((line for line in log.read_text().splitlines() if marker in line), "")
        pid = line.split(" ", 1)[0]
        if pid and pid not in held:
            held[pid] = connection
        else:
            connection.close()
    return held


def test_when_the_counts_file_cannot_be_used_requests_are_still_served_with_counts_in_memory(tmp_path):
    from booking import config, create_app
    from booking.extensions import db
    from tests.conftest import _config

    settings = config.rate_limit_storage("", "/dev/null/cannot/be/a/folder.sqlite3")
    app = create_app({**_config(f"sqlite:///{tmp_path / 'fallback.sqlite3'}", str(tmp_path / "photos")), **settings})
    with app.app_context():
        db.create_all()
    client = app.test_client()
    body = {"slot_id": 1, "staff_number": "999999", "invitation_code": "WRONG1"}
    codes = [client.post("/api/v1/reservations", json=body).status_code for _ in range(LIMIT + 1)]
    assert codes == [403] * LIMIT + [429]
    with app.app_context():
        db.engine.dispose()
