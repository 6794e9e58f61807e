"""The status survey takes the card's life too (issue 18): optional card_stage, card_expires_on and
certificates_expire_on columns after the survey's own; previewed, then applied all or nothing."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import CardStatusEvent, Dependent, Staff
from booking.services import card_status
from tests.reports.test_status_import import _payload, _upload

HEADER = "staff_number,dependent_name,card_status,status_date,card_stage,card_expires_on,certificates_expire_on\n"


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


def _import(client, text: str):
    preview = _upload(client, text.encode(), "survey.csv", card_status.today())
    assert preview.status_code == 200, preview.get_data(as_text=True)[-3000:]
    html = preview.get_data(as_text=True)
    confirmed = client.post("/reports/status-import/confirm", data=_payload(html))
    assert confirmed.status_code == 302
    return html


def test_each_stage_and_the_expiry_dates_through_the_survey(app, client, dept, login):
    login("admin")
    html = _import(client, HEADER + (
        "2001,,,2026-02-20,郵送済,,\n"              # mailed: card_status follows (applied)
        "1001,陽子,applied,2026-03-05,返戻,,\n"      # returned to sender: waits at the counter
        "3001,,received,2026-03-12,received,2036/02/29,2031-02-28\n"
        "4001,,applied,2026-01-10,at_counter,,\n"))
    assert re.search(r"4 cards(&#39;|')? stage or expiry dates will change\.", html)
    with app.app_context():
        mailed = db.session.get(Staff, dept.staff_ids["2001"])
        assert (mailed.card_status, mailed.card_stage_now, mailed.card_stage_since) == (
            "applied", "mailed", date(2026, 2, 20))
        spouse = db.session.get(Dependent, dept.world.dependent_id)
        assert (spouse.card_status, spouse.card_stage_now, spouse.card_returned_now) == (
            "applied", "at_counter", date(2026, 3, 5))
        holder = db.session.get(Staff, dept.staff_ids["3001"])
        assert (holder.card_status, holder.card_status_on, holder.card_stage_now) == (
            "received", date(2026, 3, 12), "received")
        assert (holder.card_expires_on, holder.certificates_expire_on) == (date(2036, 2, 29), date(2031, 2, 28))
        counter = db.session.get(Staff, dept.staff_ids["4001"])
        assert counter.card_stage_now == "at_counter"
        # One dated event per card_status change, all from the import.
        sources = set(db.session.scalars(select(CardStatusEvent.source)))
        assert sources == {"import"}


def test_a_line_that_says_what_is_on_file_changes_nothing(app, client, dept, login):
    login("admin")
    line = "3001,,received,2026-03-12,received,2036-03-12,2031-03-12\n"
    _import(client, HEADER + line)
    html = _upload(client, (HEADER + line).encode(), "survey.csv", card_status.today()).get_data(as_text=True)
    assert "0 card statuses will change; 1 are already up to date." in html
    assert "stage or expiry dates will change" not in html


def test_a_blank_expiry_keeps_the_date_on_file_and_a_new_one_replaces_it(app, client, dept, login):
    login("admin")
    _import(client, HEADER + "3001,,received,2026-03-12,,2036-03-12,2031-03-12\n")
    _import(client, HEADER + "3001,,received,2026-03-12,,,2031-04-01\n")
    with app.app_context():
        holder = db.session.get(Staff, dept.staff_ids["3001"])
        assert (holder.card_expires_on, holder.certificates_expire_on) == (date(2036, 3, 12), date(2031, 4, 1))


def test_card_cells_that_make_no_sense_stop_the_whole_import(app, client, dept, login):
    login("admin")
    text = HEADER + (
        "2001,,received,,mailed,,\n"                    # the stage and the status disagree
        "3001,,,,posted somewhere,,\n"                  # an unknown stage word
        "4001,,received,,,2036-13-01,\n"                # no such date
        "1001,,received,,,2030-01-01,2031-01-01\n")     # certificates outlast the card
    response = _upload(client, text.encode(), "survey.csv", card_status.today())
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for line, column in ((2, "card_stage"), (3, "card_stage"), (4, "card_expires_on"), (5, "certificates_expire_on")):
        assert re.search(rf"<td>{line}</td><td>{column}</td>", html), (line, column)
    with app.app_context():
        assert db.session.get(Staff, dept.staff_ids["2001"]).card_stage is None
