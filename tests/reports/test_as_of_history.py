"""A report as of a past day says the same however the history goes on after it (issue 18).

Property over random histories, through the app: after a report as of D is made,
staff are imported (new, or with a status), status surveys are imported with later
dates or none (the survey date then), and staff leave on later days; the dashboard's
CSV and the report upward as of D then give exactly the figures they gave before.
"""
from __future__ import annotations

import base64
import csv
import io
import itertools
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from booking.extensions import db
from booking.models import Staff
from booking.services import card_status

DAYS_BACK = 30
STATUSES = st.sampled_from(["none", "applied", "received", "申請済み", "取得済"])
IMPORT_HEADER = ("staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,"
                 "card_status,joined_on")

#: One later event: what happens, to whom (an index into the staff on record), a status, and how
#: many days after D (1…DAYS_BACK, so never after today).
EVENTS = st.one_of(
    st.tuples(st.just("new_staff"), st.integers(0, 3), STATUSES, st.integers(1, DAYS_BACK), st.booleans()),
    st.tuples(st.just("import_status"), st.integers(0, 50), STATUSES, st.integers(1, DAYS_BACK), st.booleans()),
    st.tuples(st.just("survey"), st.integers(0, 50), STATUSES, st.integers(1, DAYS_BACK), st.booleans()),
    st.tuples(st.just("leave"), st.integers(0, 50), STATUSES, st.integers(1, DAYS_BACK), st.booleans()),
)


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _figures(client, day: date) -> tuple[list[list[str]], list[list[str]]]:
    status = _rows(client.get(f"/reports/status.csv?as_of={day.isoformat()}"))
    upward = _rows(client.get(f"/reports/upward?format=csv&department=X&as_of={day.isoformat()}"))
    return status, upward


def _serving(app) -> list[Staff]:
    with app.app_context():
        staff = list(db.session.scalars(select(Staff).where(Staff.left_on.is_(None)).order_by(Staff.id)))
        db.session.expunge_all()
        return staff


def test_a_report_as_of_a_past_day_keeps_its_figures_whatever_happens_later(app, client, dept, login, bearer):
    login("admin")
    api = {**bearer("admin"), "Content-Type": "text/csv"}
    today = card_status.today()
    d = today - timedelta(days=DAYS_BACK)
    # Some history up to D itself, which the report does count.
    with app.app_context():
        for number, status, back in (("2001", "applied", 40), ("3001", "received", 35), ("4001", "applied", 30)):
            staff = db.session.scalar(select(Staff).where(Staff.staff_number == number))
            card_status.record_change(staff, status, on=today - timedelta(days=back), source="edit")
        db.session.commit()
    numbers = itertools.count(5000)

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.lists(EVENTS, min_size=1, max_size=6))
    def history(events):
        before = _figures(client, d)
        for kind, who, status, after, flag in events:
            day = d + timedelta(days=after)
            serving = _serving(app)
            if kind == "new_staff":
                lines = [(f"{next(numbers)},新規,職員,シンキ,ショクイン,{('A', 'A1', 'B', 'HQ')[who]},1部,,,{status},"
                         f"{day.isoformat() if flag else ''}")]
                answer = client.post("/api/v1/staff/import", data="\n".join([IMPORT_HEADER, *lines]).encode(),
                                     headers=api)
                assert answer.status_code == 200, answer.get_json()
            elif kind == "import_status" and serving:
                s = serving[who % len(serving)]
                # A personnel list without the joining date column: it keeps the dates on record.
                line = (f"{s.staff_number},{s.family_name},{s.given_name},{s.family_name_kana},{s.given_name_kana},"
                        f"{_unit_code(app, s)},{s.crew},,,{status}")
                header = IMPORT_HEADER.removesuffix(",joined_on")
                answer = client.post("/api/v1/staff/import", data=f"{header}\n{line}".encode(), headers=api)
                assert answer.status_code == 200, answer.get_json()
            elif kind == "survey" and serving:
                s = serving[who % len(serving)]
                # With a date of its own, or none: the survey's date (asked on the page) then holds.
                text = f"staff_number,card_status,status_date\n{s.staff_number},{status},{day.isoformat() if flag else ''}\n"
                answer = client.post("/reports/status-import/confirm", data={
                    "payload": base64.b64encode(text.encode()).decode(), "filename": "survey.csv",
                    "survey_date": day.isoformat()})
                assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
            elif kind == "leave" and serving:
                s = serving[who % len(serving)]
                if s.joined_on is not None and s.joined_on >= day:
                    continue
                form = {"family_name": s.family_name, "given_name": s.given_name,
                        "family_name_kana": s.family_name_kana, "given_name_kana": s.given_name_kana,
                        "unit_id": str(s.unit_id), "crew": s.crew, "email": s.email, "phone": s.phone,
                        "card_status": s.card_status,
                        "card_status_on": s.card_status_on.isoformat() if s.card_status_on else "",
                        "joined_on": s.joined_on.isoformat() if s.joined_on else "", "left_on": day.isoformat()}
                answer = client.post(f"/office/staff/{s.id}", data=form)
                assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
        assert _figures(client, d) == before

    history()
    # The histories did change the present: the property is not kept by a report that never moves.
    assert _figures(client, today) != _figures(client, d)


def _unit_code(app, staff: Staff) -> str:
    from booking.models import Unit

    with app.app_context():
        return db.session.get(Unit, staff.unit_id).code
