"""Rate-limit state: in Redis when REDIS_URL is set (shared by every worker and host), else in memory.

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


def test_without_redis_url_each_instance_counts_in_its_own_memory(instance):
    first = instance(6, redis_url=None)
    assert first["uri"] == "memory://" and first["storage"] == "MemoryStorage"
    assert first["codes"] == [403] * 6
    # Another process starts from zero: memory is not shared (one worker only, or set REDIS_URL).
    assert instance(LIMIT + 1, redis_url=None)["codes"] == [403] * LIMIT + [429]


def test_when_redis_stops_answering_requests_are_still_served_with_counts_in_memory(instance):
    answer = instance(LIMIT + 1, redis_url="redis://127.0.0.1:1/0")
    assert answer["storage"] == "RedisStorage"
    assert answer["codes"] == [403] * LIMIT + [429]
