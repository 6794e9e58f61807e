#!/usr/bin/env python
"""Whether the office sign-in takes as long for an unknown username as for a known one.

    python bench/login_timing.py [ATTEMPTS] [DATABASE_URL]    # default 40 each, a temporary SQLite file

Signs in through the app (the Flask test client: the page, the form, the rate limits, the
audit event of a failed sign-in) with a wrong password for a known user, an unknown username,
a switched-off user and the right password, in turn, and prints each kind's median and spread.
Issue 17 found 123 ms against 244 ms: the time told which usernames exist. A PostgreSQL URL is
wiped: give a scratch database. Figures: docs/benchmarks.md, "Sign-in timing".
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time

from staff_import import fresh_schema, make_app

from booking.extensions import db
from booking.services import accounts

PASSWORD = "correct horse battery"
KINDS = {
    "known user, wrong password": ("admin", "wrong password"),
    "unknown username": ("nobody-here", "wrong password"),
    "switched-off user": ("retired", PASSWORD),
    "known user, right password": ("admin", PASSWORD),
}


def main(attempts: int, url: str) -> None:
    app = make_app(url)
    app.config.update(WTF_CSRF_ENABLED=False, OFFICE_LOGIN_LIMIT="1000000 per minute",
                      OFFICE_LOGIN_ADDRESS_LIMIT="1000000 per minute")
    with app.app_context():
        fresh_schema(url)
        accounts.ensure_user("admin", "admin", password=PASSWORD)
        accounts.ensure_user("retired", "clerk", password=PASSWORD).is_active = False
        db.session.commit()
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    client = app.test_client()
    client.post("/office/login", data={"username": "warm-up", "password": "x"})
    for _ in range(attempts):
        for kind, (username, password) in KINDS.items():  # interleaved: drift hits every kind alike
            started = time.perf_counter()
            response = client.post("/office/login", data={"username": username, "password": password})
            times[kind].append((time.perf_counter() - started) * 1000)
            assert response.status_code in (302, 401), response.status_code
            if response.status_code == 302:
                client.post("/office/logout", data={})
                client = app.test_client()
    print(f"{attempts} sign-ins of each kind, {url.split(':')[0]}:")
    for kind, values in times.items():
        quartiles = statistics.quantiles(values, n=4)
        print(f"  {kind:28} median {statistics.median(values):6.1f} ms  "
              f"(quartiles {quartiles[0]:.1f}–{quartiles[2]:.1f} ms)")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    database = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp()}/login.sqlite3"
    main(count, database)
