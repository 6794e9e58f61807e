"""The roster flags, before the day, the people registered where the campaign's desks cannot
verify for mailing: they still apply, and collect the card at their own town's counter."""
from __future__ import annotations

import pytest

from booking.extensions import db
from booking.models import Campaign, Dependent
from booking.services import directory, municipalities
from booking.services.actor import Actor

FLAG = "Registered in 伊達市"


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English messages (Japanese is the default)."""
    client.set_cookie("lang", "en")


def register(app, world, *, campaign_towns: list[str] | None = None) -> None:
    with app.test_request_context():
        municipalities.save(Actor.system(), code="072010", name="福島市", is_home=True)
        municipalities.save(Actor.system(), code="073016", name="伊達市")
        directory.staff_by_number("1001").municipality_code = "072010"
        directory.staff_by_number("3001").municipality_code = "073016"
        if campaign_towns is not None:
            municipalities.set_campaign_mailing(Actor.system(), db.session.get(Campaign, world.campaign_id),
                                                campaign_towns)
        db.session.commit()


def test_the_roster_flags_a_resident_of_a_town_the_desks_do_not_serve(app, client, dept, world, login):
    register(app, world)
    login("admin")
    page = client.get(f"/chiefs/sessions/{world.session_id}/roster").get_data(as_text=True)
    assert page.count(FLAG) == 1  # 3001 only: 1001 and his spouse live in the home town
    assert "Card collected at the counter" in page


def test_a_dependent_registered_elsewhere_is_flagged_on_their_own(app, client, dept, world, login):
    register(app, world)
    with app.app_context():
        db.session.get(Dependent, world.dependent_id).municipality_code = "073016"
        db.session.commit()
    login("admin")
    page = client.get(f"/chiefs/sessions/{world.session_id}/roster").get_data(as_text=True)
    assert page.count(FLAG) == 2


def test_a_town_that_joined_the_desk_is_not_flagged(app, client, dept, world, login):
    register(app, world, campaign_towns=["072010", "073016"])
    login("admin")
    page = client.get(f"/chiefs/sessions/{world.session_id}/roster").get_data(as_text=True)
    assert FLAG not in page


def test_nobody_is_flagged_when_no_home_municipality_is_set(app, client, dept, world, login):
    with app.app_context():
        municipalities.save(Actor.system(), code="073016", name="伊達市")
        directory.staff_by_number("3001").municipality_code = "073016"
        db.session.commit()
    login("admin")
    page = client.get(f"/chiefs/sessions/{world.session_id}/roster").get_data(as_text=True)
    assert FLAG not in page
