"""Families at the desk: what a child's age means (applicants.notices) said per person on the check-in
screen, the walk-in page and the board, and a family larger than a slot seated across slots."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from booking.desk import views as desk_views
from booking.extensions import db
from booking.localtime import at_tokyo
from booking.models import AuditEvent, Reservation, ReservationPerson, Slot, Staff
from booking.services import directory, reservations
from booking.services.actor import Actor

REPRESENTED = "Under 15 on the day: comes with a parent (the legal representative)"
NO_PHOTO = "Under 1 on the day: no photo is needed."


def years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years) if (day.month, day.day) != (2, 29) else day.replace(
        year=day.year - years, day=28)


@dataclass
class Family:
    staff_id: int
    spouse_id: int  # no date of birth on record
    child_id: int  # 9 on the session day
    baby_id: int  # a few weeks old
    teen_id: int  # turns 15 on the session day itself


@pytest.fixture
def family(app, world) -> Family:
    with app.test_request_context():
        staff = db.session.get(Staff, world.staff_id)
        names = {"family_name": "佐藤", "family_name_kana": "サトウ"}
        child = directory.add_dependent(Actor.system(), staff, given_name="陽向", given_name_kana="ヒナタ",
                                        relation="長男", birth_date=years_before(world.session_day, 9), **names)
        baby = directory.add_dependent(Actor.system(), staff, given_name="結衣", given_name_kana="ユイ",
                                       relation="長女", birth_date=world.session_day - timedelta(days=40), **names)
        teen = directory.add_dependent(Actor.system(), staff, given_name="蓮", given_name_kana="レン",
                                       relation="次男", birth_date=years_before(world.session_day, 15), **names)
        db.session.commit()
        return Family(staff.id, world.dependent_id, child.id, baby.id, teen.id)


@pytest.fixture
def clerk(login):
    client = login("clerk")
    client.set_cookie("lang", "en")
    return client


def book(app, world, dependent_ids: list[int], slot_index: int = 0) -> int:
    with app.test_request_context():
        reservation = reservations.reserve(world.slot_ids[slot_index], db.session.get(Staff, world.staff_id),
                                           dependent_ids=dependent_ids)
        db.session.commit()
        return reservation.id


def person_block(page: str, name: str) -> str:
    """The markup of one person's line or card, from their name to the next person's."""
    start = page.index(f'<span class="person__name">{name}</span>') if f'<span class="person__name">{name}</span>' in page \
        else page.index(f'desk-person__name">{name}')
    end = min([i for i in (page.find('class="person"', start), page.find('<article', start)) if i != -1] or [len(page)])
    return page[start:end]


def test_the_check_in_screen_says_per_person_what_their_age_means_on_the_session_day(app, clerk, world, family):
    reservation_id = book(app, world, [family.spouse_id, family.child_id, family.baby_id, family.teen_id])
    page = clerk.get(f"/desk/reservations/{reservation_id}").get_data(as_text=True)

    child, baby = person_block(page, "佐藤 陽向"), person_block(page, "佐藤 結衣")
    assert REPRESENTED in child and NO_PHOTO not in child
    assert REPRESENTED in baby and NO_PHOTO in baby
    # Nothing said without a date of birth (the spouse), nor for the staff member, nor for a
    # 14-year-old who is 15 on the session day: the day counts, not today.
    for name in ("佐藤 陽子", "佐藤 翔太", "佐藤 蓮"):
        block = person_block(page, name)
        assert "desk-notice" not in block, (name, block)

    # After the check-in the cards with the photo buttons say it too.
    clerk.post(f"/desk/reservations/{reservation_id}/check-in", data={
        "people": [p for p in _people(app, reservation_id)]})
    page = clerk.get(f"/desk/reservations/{reservation_id}").get_data(as_text=True)
    card = page[page.index('desk-person__name">佐藤 結衣'):]
    card = card[:card.index("</article>")]
    assert REPRESENTED in card and NO_PHOTO in card


def _people(app, reservation_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(ReservationPerson.id)
                                       .where(ReservationPerson.reservation_id == reservation_id)))


def test_the_check_in_screen_in_japanese(app, login, world, family):
    clerk = login("clerk")
    reservation_id = book(app, world, [family.baby_id])
    page = clerk.get(f"/desk/reservations/{reservation_id}?lang=ja").get_data(as_text=True)
    assert "写真は不要" in page and "法定代理人" in page


def test_the_walk_in_page_says_it_when_the_clerk_chooses_who_came_along(clerk, world, family):
    page = clerk.get(f"/desk/sessions/{world.session_id}/walk-in?staff_id={world.staff_id}").get_data(as_text=True)
    choices = page[page.index('<fieldset class="people">'):page.index("</fieldset>")]
    rows = {name: choices[choices.index(name):] for name in ("佐藤 陽子", "佐藤 陽向", "佐藤 結衣", "佐藤 蓮")}
    rows = {name: text[:text.index("</label>")] for name, text in rows.items()}
    assert REPRESENTED in rows["佐藤 陽向"] and NO_PHOTO not in rows["佐藤 陽向"]
    assert REPRESENTED in rows["佐藤 結衣"] and NO_PHOTO in rows["佐藤 結衣"]
    assert "desk-notice" not in rows["佐藤 陽子"] and "desk-notice" not in rows["佐藤 蓮"]


def test_the_board_row_tags_each_person_briefly(app, login, clerk, world, family):
    reservation_id = book(app, world, [family.spouse_id, family.baby_id])
    row = next(r for r in clerk.get(f"/desk/sessions/{world.session_id}/board.json").get_json()["rows"]
               if r["id"] == reservation_id)
    tags = {p["name"]: [t["code"] for t in p["tags"]] for p in row["people"]}
    assert tags == {"佐藤 翔太": [], "佐藤 陽子": [], "佐藤 結衣": ["represented", "no_photo"]}
    board = clerk.get(f"/desk/sessions/{world.session_id}").get_data(as_text=True)
    deps = board[board.index('class="desk-row__deps"'):]
    deps = deps[:deps.index("</td>")]
    assert "Under 15, with legal representative" in deps and "No photo needed" in deps
    assert deps.index("佐藤 陽子") < deps.index("佐藤 結衣") < deps.index("No photo needed")

    japanese = login("clerk").get(f"/desk/sessions/{world.session_id}?lang=ja").get_data(as_text=True)
    assert "15歳未満・法定代理人同伴" in japanese and "写真不要" in japanese


def test_a_family_of_three_walks_into_an_empty_two_desk_session_without_an_override(app, clerk, world, family):
    response = clerk.post(f"/desk/sessions/{world.session_id}/walk-in",
                          data={"staff_id": world.staff_id, "dependent_ids": [family.spouse_id, family.child_id]})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        reservation = db.session.scalar(select(Reservation))
        assert (reservation.channel, reservation.status, reservation.seats) == ("walk_in", "checked_in", 3)
        # The session is next week: seated from its first slot, two there and one in the next.
        seated = sorted(p.slot_id for p in reservation.people)
        assert seated == [world.slot_ids[0], world.slot_ids[0], world.slot_ids[1]]
        assert [tuple(r) for r in db.session.execute(
            select(Slot.seats_taken, Slot.capacity).where(Slot.id.in_(world.slot_ids[:2])).order_by(Slot.starts_at))
        ] == [(2, 2), (1, 2)]
        assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("walk_in%"))).all() == [
            "walk_in"]

    # The check-in screen gives the party's whole time and each person's own.
    page = clerk.get(response.headers["Location"]).get_data(as_text=True)
    assert "Seated from 15:00, the last of them at 15:10, and checked in." in page
    assert "15:00–15:20" in page
    assert "from 15:10" in page[page.index('desk-person__name">佐藤 陽向'):].split("</article>")[0]
    assert "from 15:00" in page[page.index('desk-person__name">佐藤 翔太'):].split("</article>")[0]
    # The board too: the child's own time beside their name.
    board = clerk.get(f"/desk/sessions/{world.session_id}").get_data(as_text=True)
    assert '佐藤 陽向 <span class="desk-row__later">15:10</span>' in board


def test_a_party_is_due_now_while_any_of_its_people_s_slots_is_running(app, clerk, world, family, monkeypatch):
    reservation_id = book(app, world, [family.spouse_id, family.child_id])  # 15:00 ×2 and 15:10 ×1

    def board_at(hour: int, minute: int) -> dict:
        monkeypatch.setattr(desk_views, "utcnow", lambda: at_tokyo(world.session_day, time(hour, minute)))
        return clerk.get(f"/desk/sessions/{world.session_id}/board.json").get_json()

    def due(data: dict, name: str) -> list[int]:
        return [r["id"] for r in data[name]]

    assert due(board_at(14, 55), "due_next") == [reservation_id]
    assert due(board_at(15, 5), "due_now") == [reservation_id]
    # The first slot is over, the child's is running: still due now, not "late".
    data = board_at(15, 12)
    assert due(data, "due_now") == [reservation_id]
    assert next(r for r in data["rows"] if r["id"] == reservation_id)["when"] == "now"
    assert next(r for r in board_at(15, 25)["rows"] if r["id"] == reservation_id)["when"] == "late"


def test_a_booking_for_dependents_only_says_the_booker_does_not_come(app, clerk, world, family):
    with app.test_request_context():
        reservation = reservations.reserve(world.slot_ids[2], db.session.get(Staff, world.staff_id),
                                           dependent_ids=[family.child_id], include_staff=False)
        db.session.commit()
        reservation_id = reservation.id
    row = next(r for r in clerk.get(f"/desk/sessions/{world.session_id}/board.json").get_json()["rows"]
               if r["id"] == reservation_id)
    assert row["staff_note"] == "Booker, not coming"
    assert [p["name"] for p in row["people"]] == ["佐藤 陽向"]
    assert "Booker, not coming" in clerk.get(f"/desk/sessions/{world.session_id}").get_data(as_text=True)
