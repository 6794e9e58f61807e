"""Rate-limit counts shared by every worker of one host, in a small SQLite file (issue 17, item 2).

Flask-Limiter keeps its counts in a ``limits`` storage. Without Redis the default is each
worker's memory, so with two gunicorn workers a guesser had twice the allowance. ``limits``
has no SQL storage; this is one, on its ``Storage`` and ``MovingWindowSupport`` interface
(limits 5.x), registered under the URI scheme ``desk-sqlite`` so that Flask-Limiter builds it
from ``RATELIMIT_STORAGE_URI = "desk-sqlite:////abs/path/rate-limits.sqlite3"`` like any other.

The file is a database of its own, not a table of the app's: the counts are not data to
migrate or back up, a read-only or full app database must not stop the limits, and on
PostgreSQL without Redis the workers of one host still share one count. SQLite's own locking
makes each change atomic between processes; every thread of every worker holds its own
connection (a forked worker never uses its parent's). With several hosts, set REDIS_URL.

Only failures are written (the app's limits deduct on a refusal); the check before each
request is one indexed read.
"""
from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from limits.storage import MovingWindowSupport, Storage

SCHEME = "desk-sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS entries (key TEXT NOT NULL, at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS entries_by_key ON entries (key, at);
CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires_at);
CREATE INDEX IF NOT EXISTS counters_by_expiry ON counters (expires_at);
"""

#: Expired rows are swept at most this often (seconds) per process, on a write.
SWEEP_EVERY_S = 60.0


def uri_for(path: str) -> str:
    return f"{SCHEME}:///{os.path.abspath(path)}"


class SQLiteStorage(Storage, MovingWindowSupport):
    """Fixed-window counters and moving-window entries in one SQLite file."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012  (the limits library declares it a plain list)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, timeout: float = 5.0, **options: Any) -> None:
        prefix = f"{SCHEME}://"
        if not uri or not uri.startswith(prefix) or not uri[len(prefix):].lstrip("/"):
            raise ValueError(f"expected {SCHEME}:////absolute/path/to/file.sqlite3, got {uri!r}")
        self.path = "/" + uri[len(prefix):].lstrip("/")
        self.timeout = float(timeout)
        self._local = threading.local()
        self._swept = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    # --- connections: one per thread and process ------------------------------------------

    def _db(self) -> sqlite3.Connection:
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == os.getpid():
            return held[1]
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        self._prepare(connection)
        self._local.held = (os.getpid(), connection)
        return connection

    def _prepare(self, connection: sqlite3.Connection) -> None:
        """WAL and the tables, on a file that other workers may be opening at the same moment.

        Switching a new file to WAL can answer "database is locked" at once, without waiting
        for the busy timeout, while another process is doing the same (seen with four processes
        on a loaded machine): try again with a short random pause until the timeout has passed.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                if str(connection.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                    connection.execute("PRAGMA journal_mode=WAL")
                # Counts are worth less than a booking's fsync: a power cut may forget the last few.
                connection.execute("PRAGMA synchronous=OFF")
                connection.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01 + random.random() * 0.04)

    def _write(self, work: Callable[[sqlite3.Connection, float], Any]) -> Any:
        """Run ``work(connection, now)`` in one IMMEDIATE transaction (one writer at a time)."""
        connection = self._db()
        connection.execute("BEGIN IMMEDIATE")
        try:
            now = time.time()
            result = work(connection, now)
            if now - self._swept > SWEEP_EVERY_S:
                self._swept = now
                connection.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
                connection.execute("DELETE FROM entries WHERE expires_at <= ?", (now,))
            connection.execute("COMMIT")
            return result
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    # --- fixed window -----------------------------------------------------------------------

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        def work(connection: sqlite3.Connection, now: float) -> Any:
            return connection.execute(
                "INSERT INTO counters (key, count, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                "count = CASE WHEN expires_at <= ? THEN excluded.count ELSE count + excluded.count END, "
                "expires_at = CASE WHEN expires_at <= ? THEN excluded.expires_at ELSE expires_at END "
                "RETURNING count",
                (key, amount, now + expiry, now, now),
            ).fetchone()[0]

        return self._write(work)

    def get(self, key: str) -> int:
        row = self._db().execute(
            "SELECT count FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._db().execute(
            "SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?", (key, now)).fetchone()
        return row[0] if row else now

    # --- moving window ----------------------------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False

        def work(connection: sqlite3.Connection, now: float) -> Any:
            (taken,) = connection.execute(
                "SELECT count(*) FROM entries WHERE key = ? AND at > ?", (key, now - expiry)).fetchone()
            if taken + amount > limit:
                return False
            connection.executemany("INSERT INTO entries (key, at, expires_at) VALUES (?, ?, ?)",
                                   [(key, now, now + expiry)] * amount)
            return True

        return self._write(work)

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        oldest, taken = self._db().execute(
            "SELECT min(at), count(*) FROM (SELECT at FROM entries WHERE key = ? AND at > ? "
            "ORDER BY at DESC LIMIT ?)", (key, now - expiry, limit)).fetchone()
        return (oldest, taken) if taken else (now, 0)

    # --- housekeeping -----------------------------------------------------------------------

    def check(self) -> bool:
        """Whether the file answers (Flask-Limiter asks while it counts in memory instead)."""
        try:
            self._db().execute("SELECT 1").fetchone()
        except (sqlite3.Error, OSError):
            return False
        return True

    def reset(self) -> int | None:
        def work(connection: sqlite3.Connection, now: float) -> Any:
            count = connection.execute("SELECT (SELECT count(*) FROM counters) + (SELECT count(*) FROM entries)")
            removed = count.fetchone()[0]
            connection.execute("DELETE FROM counters")
            connection.execute("DELETE FROM entries")
            return removed

        return self._write(work)

    def clear(self, key: str) -> None:
        def work(connection: sqlite3.Connection, now: float) -> Any:
            connection.execute("DELETE FROM counters WHERE key = ?", (key,))
            connection.execute("DELETE FROM entries WHERE key = ?", (key,))

        self._write(work)
