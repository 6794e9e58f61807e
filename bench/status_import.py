#!/usr/bin/env python
"""How long the monthly card status survey takes to check and to record, and in how many statements.

    python bench/status_import.py [LINES] [DATABASE_URL]    # default 3000 lines, a temporary SQLite file

Every line changes one staff member's status; a third of them already have a
history (a later change) that the import has to respect. A PostgreSQL URL is
wiped: give a scratch database. Figures: docs/benchmarks.md, "Imports".
"""
from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import event
from staff_import import fresh_schema, make_app

from booking.extensions import db
from booking.models import Staff
from booking.services import card_status, directory, status_import
from booking.services.actor import Actor


def main(lines: int, url: str) -> None:
    app = make_app(url)
    with app.test_request_context():
        fresh_schema(url)
        unit = directory.create_unit(Actor.system(), code="A", name="a")
        today = card_status.today()
        for n in range(lines):
            db.session.add(Staff(staff_number=str(100000 + n), family_name="山田", given_name=str(n),
                                 family_name_kana="ヤマダ", given_name_kana="タロウ", unit=unit, crew="1部",
                                 invitation_nonce=f"n{n}", invitation_link_hash=f"h{n}"))
        db.session.flush()
        for staff in db.session.query(Staff).filter(Staff.id % 3 == 0):
            card_status.record_change(staff, "received", on=today - timedelta(days=1), source="edit")
        db.session.commit()
        survey_day = today - timedelta(days=10)
        data = ("staff_number,card_status,status_date\r\n" + "".join(
            f"{100000 + n},applied,{survey_day.isoformat()}\r\n" for n in range(lines))).encode()

        statements: Counter[str] = Counter()
        event.listen(db.engine, "before_cursor_execute",
                     lambda _c, _cur, sql, _p, _ctx, many: statements.update([sql.split()[0] + (" (many)" if many else "")]))
        started = time.perf_counter()
        preview = status_import.preview(data, "survey.csv", survey_date=survey_day)
        print(f"preview of {lines:,} lines: {time.perf_counter() - started:.2f} s, "
              f"{sum(statements.values())} statements, {len(preview.changes):,} changes")
        db.session.rollback()
        statements.clear()
        started = time.perf_counter()
        status_import.apply(Actor.system(), data, "survey.csv", survey_date=survey_day)
        db.session.commit()
        print(f"confirm (checked again, then recorded): {time.perf_counter() - started:.2f} s, "
              f"{sum(statements.values())} statements: {dict(statements)}")
        if url.startswith("postgresql"):
            db.session.remove()
            fresh_schema(url)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000,
         sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")
