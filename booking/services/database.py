"""Transaction helpers that differ between SQLite and PostgreSQL."""
from __future__ import annotations

import sqlite3

from ..extensions import db
from ..sqlite_gate import GatedConnection


def begin_write() -> None:
    """Start the request's transaction as a writer before it reads what it will decide on.

    SQLite (WAL) lets many readers and one writer. A transaction that reads and
    then writes can fail with SQLITE_BUSY when another writer committed in
    between, and the busy timeout does not help then; BEGIN IMMEDIATE takes the
    write lock first and waits for it with the busy timeout instead. PostgreSQL
    needs nothing here: the conditional updates and unique indexes decide races.
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi = connection.connection.dbapi_connection
    if not isinstance(dbapi, sqlite3.Connection):  # the app's SQLite driver is Python's sqlite3
        return
    if not dbapi.in_transaction:
        if isinstance(dbapi, GatedConnection):
            # booking.sqlite_gate: wait in a queue rather than in SQLite's sleeping busy handler.
            dbapi.begin_immediate()
        else:
            dbapi.execute("BEGIN IMMEDIATE")
