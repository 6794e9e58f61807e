"""A gunicorn worker that holds too much memory after a request is recycled (issue 17, item 7).

Real processes: gunicorn with the project's gunicorn.conf.py and one worker on a
random port. The limits are set absurdly low (1 MB) so that every request is over
them: the worker finishes its answer, the master starts a fresh one, and the
server keeps answering. With the limit off (0), the same worker serves on.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def workers_of(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return {int(pid) for pid in children.read_text().split()} if children.exists() else set()


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def serve(tmp_path: Path, memory_limit: str):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}", "SECRET_KEY": "memory-test",
           "PHOTO_DIR": str(tmp_path / "photos"), "WEB_WORKERS": "1", "BIND": f"127.0.0.1:{port}",
           "WEB_TRIM_ABOVE_MB": "1", "WEB_MAX_WORKER_MEMORY_MB": memory_limit}
    env.pop("REDIS_URL", None)
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115  (closed in the finally below)
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "booking:create_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return server, log, f"http://127.0.0.1:{port}"


def healthz(base: str) -> int:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
            return answer.status
    except OSError:
        return 0


def stop(server: subprocess.Popen, log) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()


def test_a_worker_over_the_memory_limit_after_a_request_is_recycled(tmp_path):
    server, log, base = serve(tmp_path, memory_limit="1")
    try:
        wait_for(lambda: healthz(base) == 200 and len(workers_of(server.pid)) == 1, 30, "gunicorn and its worker")
        first = workers_of(server.pid)
        # That answer already put the worker over 1 MB: it is replaced once it has answered.
        wait_for(lambda: (workers_of(server.pid) - first) != set(), 30, "a fresh worker")
        # The fresh worker answers once it has booted (on a loaded machine a request caught by the
        # retiring worker as it exits may be dropped: the next one is served).
        wait_for(lambda: healthz(base) == 200, 30, "an answer from the fresh worker")
        assert server.poll() is None
    finally:
        stop(server, log)
    assert "after a request (limit 1 MB): recycling it." in (tmp_path / "gunicorn.log").read_text()


def test_with_the_limit_off_the_worker_serves_on(tmp_path):
    server, log, base = serve(tmp_path, memory_limit="0")
    try:
        wait_for(lambda: healthz(base) == 200 and len(workers_of(server.pid)) == 1, 30, "gunicorn and its worker")
        first = workers_of(server.pid)
        for _ in range(5):
            assert healthz(base) == 200
        time.sleep(2)  # a recycle takes the main loop's next turn (a second)
        assert workers_of(server.pid) == first
    finally:
        stop(server, log)
    assert "recycling it" not in (tmp_path / "gunicorn.log").read_text()
