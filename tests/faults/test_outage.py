"""A database that goes away, or cannot be written, answers 503 and the app recovers by itself.

PostgreSQL: the shared server cannot be restarted here, so the app talks to it
through a TCP forwarder run by the test; stopping the forwarder cuts every
connection and refuses new ones, exactly what a server restart looks like from
the app. SQLite: the tests run as root, so chmod would not stop a write; the
connections are opened with PRAGMA query_only=ON instead, which fails writes
with the same "attempt to write a readonly database" error.
"""
from __future__ import annotations

import socket
import threading

import pytest
from conftest_helpers import PG_URL, app_config, pragma_switch, requires_postgres

from booking import create_app
from booking.extensions import db


def book_api(client, world, headers):
    return client.post("/api/v1/reservations", json={"slot_id": world.slot_ids[0], "staff_number": world.staff_number},
                       headers={**headers, "Accept-Language": "en"})


def book_page(client, world):
    return client.post(f"/i/{world.invitation_token}/sessions/{world.session_id}?lang=en",
                       data={"slot_id": world.slot_ids[0]})


# --- SQLite: read-only or full ------------------------------------------------------------


@pytest.fixture
def read_only(app):
    """Every new connection of the app's engine refuses writes until the fixture ends."""
    if PG_URL:
        pytest.skip("a read-only SQLite file is an SQLite matter")

    yield from pragma_switch(app, "PRAGMA query_only = ON")


def test_a_booking_on_a_read_only_sqlite_database_is_a_503_json_under_the_api(client, world, admin_headers, read_only):
    read_only(True)
    response = book_api(client, world, admin_headers)
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "unavailable"
    assert "cannot reach its database" in body["message"] and "Nothing was saved" in body["message"]
    assert int(response.headers["Retry-After"]) > 0


def test_a_booking_on_a_read_only_sqlite_database_is_a_calm_503_page(client, world, read_only):
    read_only(True)
    response = book_page(client, world)
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Temporarily unavailable" in page and "Nothing was saved" in page
    assert "Traceback" not in page and "OperationalError" not in page
    assert int(response.headers["Retry-After"]) > 0


def test_writes_work_again_once_the_disk_is_writable(client, world, admin_headers, read_only):
    read_only(True)
    assert book_api(client, world, admin_headers).status_code == 503
    read_only(False)
    assert book_api(client, world, admin_headers).status_code == 201


def test_a_failed_write_leaves_no_trace_and_the_check_passes(app, client, world, admin_headers, read_only, runner):
    read_only(True)
    assert book_api(client, world, admin_headers).status_code == 503
    read_only(False)
    assert runner.invoke(args=["check"]).exit_code == 0


# --- PostgreSQL restarted while the app serves -----------------------------------------


class Forwarder:
    """A TCP forwarder to PostgreSQL that can be stopped (all connections cut) and started again."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._running = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener, self._running = listener, True
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        if self._thread:
            self._thread.join(timeout=2)
        if self._listener:
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def proxied_client(app, world, tmp_path):
    """A second app on the same PostgreSQL database, reached through a forwarder the test controls."""
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    forwarder = Forwarder((url.host or "127.0.0.1", url.port or 5432))
    forwarder.start()
    proxied_url = url.set(host="127.0.0.1", port=forwarder.port).render_as_string(hide_password=False)
    proxied = create_app(app_config(proxied_url, str(tmp_path / "photos")))
    yield proxied.test_client(), forwarder
    forwarder.stop()
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


@requires_postgres
def test_postgresql_going_away_gives_503_and_the_app_recovers_without_a_restart(proxied_client, world, admin_headers):
    client, forwarder = proxied_client
    sessions = f"/api/v1/campaigns/{world.campaign_id}/sessions"
    assert client.get(sessions, headers=admin_headers).status_code == 200  # a pooled connection now exists

    forwarder.stop()  # the server "restarts": pooled connections die, new ones are refused
    during = client.get(sessions, headers=admin_headers)
    assert during.status_code == 503 and during.get_json()["error"] == "unavailable"
    assert int(during.headers["Retry-After"]) > 0
    page = client.get(f"/i/{world.invitation_token}/sessions/{world.session_id}?lang=en")
    assert page.status_code == 503 and "Temporarily unavailable" in page.get_data(as_text=True)
    booking = book_api(client, world, admin_headers)
    assert booking.status_code == 503

    forwarder.start()  # back: the pool's pre-ping replaces the dead connections
    assert client.get(sessions, headers=admin_headers).status_code == 200
    assert book_api(client, world, admin_headers).status_code == 201
