"""Cards and certificates expiring month by month for the next 18 months (issue 18): an SVG chart
drawn on the server (no script) and a table, on a printable page and on the dashboard."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from booking.services import card_life, card_status


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")


def _receive(client, headers, number: str, expires: date | None, certificates: date | None = None,
             stage: str = "received") -> None:
    body = {"stage": stage, "on": "2016-04-01"}
    if expires:
        body["card_expires_on"] = expires.isoformat()
    if certificates:
        body["certificates_expire_on"] = certificates.isoformat()
    answer = client.post(f"/api/v1/staff/{number}/card", json=body, headers=headers)
    assert answer.status_code == 200, answer.get_json()


def _table(html: str) -> dict[str, tuple[int, int]]:
    rows = re.findall(r'<tr><td>(\d{4}-\d\d)</td><td class="n">(\d+)</td><td class="n">(\d+)</td></tr>', html)
    return {month: (int(cards), int(certificates)) for month, cards, certificates in rows}


def test_each_of_the_next_18_months_counts_the_cards_and_certificates_expiring_in_it(
        app, client, world, admin_headers, login, english):
    today = card_status.today()
    first = today.replace(day=1)
    world.add_staff(6, start=6000)
    _receive(client, admin_headers, "6000", today, today)                              # the day itself: this month
    _receive(client, admin_headers, "6001", card_life.add_months(first, 17), card_life.add_months(first, 1))
    _receive(client, admin_headers, "6002", card_life.add_months(first, 18))             # the 19th month: left out
    _receive(client, admin_headers, "6003", today - timedelta(days=1)
             if today.day > 1 else None)                                                   # expired already
    _receive(client, admin_headers, "6004", card_life.add_months(first, 1) + timedelta(days=3))
    _receive(client, admin_headers, "6005", card_life.add_months(first, 2), stage="applied")  # no card held
    login("admin")
    page = client.get("/reports/expiring")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    table = _table(html)
    months = [card_life.add_months(first, n).strftime("%Y-%m") for n in range(18)]
    assert list(table) == months
    assert table[months[0]] == (1, 1)
    assert table[months[1]] == (1, 1)
    assert table[months[17]] == (1, 0)
    assert sum(c for c, _ in table.values()) == 3 and sum(c for _, c in table.values()) == 2
    chart = html[html.index("<svg class=\"chart\""):]
    chart = chart[:chart.index("</svg>")]
    # Drawn on the server: the chart is in the page as it is served, labelled for screen readers.
    assert 'role="img"' in chart and "<title>" in chart and "<script" not in chart
    assert chart.count('class="bar-card"') == 3 and chart.count('class="bar-cert"') == 2


def test_the_dashboard_shows_the_chart_and_links_the_printable_page(client, world, admin_headers, login, english):
    _receive(client, admin_headers, "1001", card_life.add_months(card_status.today(), 3))
    login("admin")
    html = client.get("/reports/").get_data(as_text=True)
    assert "Cards and certificates expiring in the next 18 months" in html
    assert html.count('class="bar-card"') == 2  # the legend's swatch and the one bar
    assert 'href="/reports/expiring"' in html


def test_only_hq_readers_open_it(client, world, login):
    login("chief", "A")
    assert client.get("/reports/expiring").status_code == 403


def test_people_who_have_left_are_not_counted(app, client, world, admin_headers, login, english):
    from sqlalchemy import update

    from booking.extensions import db
    from booking.models import Staff

    today = card_status.today()
    month = card_life.add_months(today.replace(day=1), 2)
    world.add_staff(2, start=7000)
    _receive(client, admin_headers, "7000", month)
    _receive(client, admin_headers, "7001", month)
    with app.app_context():
        db.session.execute(update(Staff).where(Staff.staff_number == "7001").values(left_on=today))
        db.session.commit()
    login("admin")
    table = _table(client.get("/reports/expiring").get_data(as_text=True))
    assert table[month.strftime("%Y-%m")] == (1, 0)
