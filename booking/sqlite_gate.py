"""SQLite writers queue at a gate instead of sleeping in SQLite's busy handler.

SQLite lets one writer at a time in. A connection that finds the write lock
taken retries in SQLite's busy handler, which *sleeps* between tries (1, 2, 5,
10, 15, 20, 25… ms). In a booking rush the lock is held for a millisecond or
two at a time, so the waiters mostly sleep while the lock is free: throughput
falls and latency grows with every extra thread or worker.

``GatedConnection`` (the sqlite3 connection class set in config.engine_options)
adds ``begin_immediate()``, which services.database.begin_write calls: it first
takes a per-process lock (threads of one worker queue there, woken the moment
it is free) and then an exclusive ``flock`` on ``<database>.write-lock``
(workers queue in the kernel, which wakes the next one at once), and only then
starts ``BEGIN IMMEDIATE``. ``commit()``, ``rollback()`` and ``close()`` open
the gate after SQLite has finished. A worker that dies holds no ``flock``
(the kernel drops it with the file), so a stuck holder is bounded by
gunicorn's worker timeout. Writers that do not come through begin_write (a
plain flush, the command line, another program) still meet SQLite's own lock
and busy timeout as before: the gate only orders those that use it.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from typing import Any

#: How long a thread waits for its own process's gate before giving up (the busy timeout).
GATE_TIMEOUT_S = 15.0


class _Gate:
    def __init__(self, path: str):
        self.path = path + ".write-lock"
        self.local = threading.Lock()
        self.fd: int | None = None

    def acquire(self) -> None:
        if not self.local.acquire(timeout=GATE_TIMEOUT_S):
            raise sqlite3.OperationalError("database is locked (write gate timeout)")
        try:
            if self.fd is None:
                self.fd = self._open()
            fcntl.flock(self.fd, fcntl.LOCK_EX)  # releases the GIL while it waits
        except OSError as error:
            self.local.release()
            # Not a programming error but a database that cannot be written: the 503 handlers
            # (web.configure_outage) answer it as they answer SQLite's own refusals.
            raise sqlite3.OperationalError(f"unable to use the write gate ({error.strerror})") from error
        except BaseException:
            self.local.release()
            raise

    def _open(self) -> int:
        """The lock file, opened for writing when allowed, else for reading: ``flock`` needs only
        a descriptor, so a lock file made read-only (by hand, or a restore as another user) still
        orders the writers instead of failing every write."""
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except PermissionError:
            return os.open(self.path, os.O_RDONLY)

    def release(self) -> None:
        try:
            if self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.local.release()


_gates: dict[tuple[int, str], _Gate] = {}
_gates_lock = threading.Lock()


def _gate_for(database: str) -> _Gate | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    key = (os.getpid(), os.path.abspath(database))  # a forked worker gets its own lock file handle
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = _Gate(key[1])
        return gate


class GatedConnection(sqlite3.Connection):
    def __init__(self, database: str | os.PathLike[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._gate = _gate_for(os.fspath(database)) if isinstance(database, (str, os.PathLike)) else None
        self._holding = False

    def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE once this connection's turn at the gate has come."""
        acquired = False
        if self._gate is not None and not self._holding:
            self._gate.acquire()
            self._holding = acquired = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            if acquired:  # a BEGIN refused inside an open transaction keeps that one's turn
                self._open_gate()
            raise

    def _open_gate(self) -> None:
        if self._holding and self._gate is not None:
            self._holding = False
            self._gate.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._open_gate()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._open_gate()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._open_gate()
