"""SQLite writers that call begin_write queue at the gate (booking/sqlite_gate.py) and the
gate opens again however the transaction ends."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from booking.sqlite_gate import GatedConnection


@pytest.fixture
def connect(tmp_path):
    opened = []

    def make():
        connection = sqlite3.connect(tmp_path / "gate.sqlite3", factory=GatedConnection, timeout=15,
                                     check_same_thread=False)
        opened.append(connection)
        return connection

    yield make
    for connection in opened:
        connection.close()


def _in_thread(target):
    done = threading.Event()

    def run():
        target()
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done


def test_a_second_writer_waits_at_the_gate_until_the_first_commits(connect):
    first, second = connect(), connect()
    first.begin_immediate()
    first.execute("CREATE TABLE t (x INTEGER)")
    thread, entered = _in_thread(second.begin_immediate)
    assert not entered.wait(0.3), "the second writer got in while the first held the gate"
    first.commit()
    thread.join(timeout=20)
    assert entered.is_set()
    second.execute("INSERT INTO t VALUES (1)")
    second.commit()
    assert first.execute("SELECT count(*) FROM t").fetchone() == (1,)


@pytest.mark.parametrize("ending", ["commit", "rollback", "close"])
def test_the_gate_opens_when_the_transaction_ends(connect, ending):
    first, second = connect(), connect()
    first.begin_immediate()
    getattr(first, ending)()
    thread, entered = _in_thread(second.begin_immediate)
    thread.join(timeout=20)
    assert entered.is_set()
    second.rollback()


def test_a_begin_refused_inside_a_transaction_keeps_that_transactions_turn(connect):
    first, second = connect(), connect()
    first.begin_immediate()
    with pytest.raises(sqlite3.OperationalError):
        first.begin_immediate()  # already in a transaction: SQLite refuses the BEGIN
    thread, entered = _in_thread(second.begin_immediate)
    assert not entered.wait(0.3), "the gate opened while the first transaction was still open"
    first.rollback()
    thread.join(timeout=20)
    assert entered.is_set()
    second.rollback()


def test_a_read_only_lock_file_still_orders_the_writers(connect, tmp_path, monkeypatch):
    """A lock file that may not be written is opened for reading: flock needs no more (issue 17)."""
    import os

    real_open = os.open

    def refuse_writing(path, flags, *args):
        if str(path).endswith(".write-lock") and flags & os.O_RDWR:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    (tmp_path / "gate.sqlite3.write-lock").touch()
    monkeypatch.setattr(os, "open", refuse_writing)
    first, second = connect(), connect()
    first.begin_immediate()
    thread, entered = _in_thread(second.begin_immediate)
    assert not entered.wait(0.3), "the second writer got in while the first held the gate"
    first.rollback()
    thread.join(timeout=20)
    assert entered.is_set()
    second.rollback()


def test_a_lock_file_that_cannot_be_opened_is_a_database_error_not_a_crash(connect, monkeypatch):
    """The 503 handlers answer sqlite3.OperationalError; a bare OSError would be a 500."""
    import os

    def refuse(path, flags, *args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    connection = connect()
    with pytest.raises(sqlite3.OperationalError, match="write gate"):
        connection.begin_immediate()
    monkeypatch.undo()
    connection.begin_immediate()  # the gate opened again: the next try goes through
    connection.rollback()
