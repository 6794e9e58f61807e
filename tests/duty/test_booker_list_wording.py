"""Issue 16, item 8 on the booker's list: the own-unit tag is not a warning colour, and a day
worker's list does not start with "Other dates" when nothing is above it."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import Staff, Unit
from booking.services import invitations


@pytest.fixture
def seeded(app):
    from booking.demo import seed

    with app.test_request_context(base_url="http://localhost"):
        seed()
        db.session.commit()
    return app


def link(app, unit: str, crew: str) -> str:
    with app.test_request_context(base_url="http://localhost"):
        staff = db.session.scalar(select(Staff).join(Staff.unit).where(Unit.code == unit, Staff.crew == crew)
                                  .order_by(Staff.id))
        return f"/i/{invitations.link_token(staff)}"


def test_a_day_workers_list_does_not_open_with_other_dates(seeded, client):
    client.set_cookie("lang", "en")
    # Station B's sessions are 18:00-19:00, after its day workers' hours: none suits them best.
    page = client.get(link(seeded, "B", "日勤")).get_data(as_text=True)
    headings = re.findall(r'<h2 class="day-group">(.*?)</h2>', page)
    assert headings and headings[0] != "Other dates"
    assert "Dates that suit your duty best" not in headings


def test_the_own_unit_tag_is_information_not_a_warning(seeded, client):
    page = client.get(link(seeded, "B", "1部")).get_data(as_text=True)
    assert 'class="tag tag--own"' in page
    assert not re.search(r'class="tag">(あなたの所属|Your unit)<', page)
