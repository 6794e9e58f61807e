"""Signing in costs one password hash, whatever the username (issue 17, item 5).

Measured on the running app, a sign-in with an unknown username took twice as long as a wrong
password for a known one (244 ms against 123 ms, median): the page hashed a fresh password and
then checked against it, two key derivations where a known account costs one. The time told
which usernames exist. Timings are not asserted here (they would be flaky on a shared machine);
the number of key derivations is, and it is what the time follows. bench/login_timing.py
measures the medians (docs/benchmarks.md).
"""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import User
from tests.office.conftest import PASSWORD, sign_in


@pytest.fixture
def derivations(monkeypatch):
    """Count the key derivations werkzeug's password hashes run (scrypt, pbkdf2), through the app."""
    calls: list[str] = []
    for name in ("scrypt", "pbkdf2_hmac"):
        original = getattr(hashlib, name)

        def counting(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(hashlib, name, counting)
    return calls


@pytest.fixture
def accounts_of_every_kind(app, sec):
    """Beside the office's active users: one switched off, one that never got a password."""
    with app.app_context():
        off = db.session.scalar(select(User).where(User.username == "clerk"))
        off.is_active = False
        db.session.add(User(username="no-password", role="clerk", password_hash=None))
        db.session.commit()


ATTEMPTS = {
    "known user, wrong password": ("admin", "wrong password"),
    "known user, right password": ("admin", PASSWORD),
    "unknown username": ("nobody-here", "wrong password"),
    "unknown username, a known user's password": ("nobody-here", PASSWORD),
    "switched-off user, right password": ("clerk", PASSWORD),
    "user without a password": ("no-password", "anything"),
}


@pytest.mark.parametrize("label", list(ATTEMPTS))
def test_every_sign_in_runs_exactly_one_key_derivation(app, accounts_of_every_kind, derivations, label):
    username, password = ATTEMPTS[label]
    response = sign_in(app.test_client(), username, password)
    assert response.status_code == (302 if label == "known user, right password" else 401)
    assert len(derivations) == 1, f"{label}: {derivations}"


def test_known_and_unknown_usernames_hash_the_same_way(app, accounts_of_every_kind, derivations):
    """The same derivation (scrypt, as the stored hashes use), not a cheaper one for strangers."""
    sign_in(app.test_client(), "admin", "wrong password")
    sign_in(app.test_client(), "nobody-here", "wrong password")
    assert derivations == ["scrypt", "scrypt"]
