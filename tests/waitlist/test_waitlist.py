"""The waiting list (issue 19) through the API, the booker's pages and the scheduled job."""
from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock_time

from sqlalchemy import select

from booking.extensions import db
from booking.localtime import TOKYO
from booking.models import Campaign, DeskSession, OutboxMessage, Reservation, Staff, User, WaitlistEntry
from booking.services import accounts, campaigns, disclosure
from booking.services.actor import Actor
from tests.waitlist.conftest import entry, join, offer_mails, seats_taken, statuses, violations


def cancel(client, reservation: dict) -> None:
    answer = client.post(f"/api/v1/reservations/{reservation['manage_token']}/cancel")
    assert answer.status_code == 200, answer.get_json()


def test_a_cancelled_seat_is_held_for_the_first_party_waiting_and_booked_on_accept(app, client, full):
    (first_number, first_code), (second_number, second_code) = full.waiting[:2]
    first = join(client, full.session_id, first_number, first_code)
    second = join(client, full.session_id, second_number, second_code)
    assert (first["status"], first["place"], second["place"]) == ("waiting", 1, 2)

    cancel(client, full.booked[0])
    offered = entry(client, first["token"])
    assert offered["status"] == "offered" and offered["offer"]["slot_id"] == full.slot_id
    # The held seat counts as taken: nobody else can book it.
    assert seats_taken(app, full.slot_id) == (2, 2)
    assert entry(client, second["token"])["place"] == 1
    assert offer_mails(app) == [(first["id"], 1)]

    answer = client.post(f"/api/v1/waitlist/{first['token']}/accept")
    assert answer.status_code == 200, answer.get_json()
    booked = answer.get_json()
    assert booked["status"] == "booked"
    assert entry(client, first["token"])["status"] == "accepted"
    # Accepting twice answers with the same booking and takes nothing more.
    again = client.post(f"/api/v1/waitlist/{first['token']}/accept")
    assert (again.status_code, again.get_json()["code"]) == (200, booked["code"])
    assert seats_taken(app, full.slot_id) == (2, 2)
    assert violations(app) == []


def test_a_party_is_never_split_and_a_smaller_one_behind_it_may_go_first(app, client, world, full):
    family = join(client, full.session_id, world.staff_number, world.invitation_code,
                  dependent_ids=[world.dependent_id])
    single = join(client, full.session_id, *full.waiting[0])
    assert family["seats"] == 2

    cancel(client, full.booked[0])
    assert entry(client, family["token"])["status"] == "waiting"
    assert entry(client, single["token"])["status"] == "offered"
    assert entry(client, family["token"])["place"] == 1

    # The single leaves: the one seat goes back, still too few for the family.
    assert client.post(f"/api/v1/waitlist/{single['token']}/leave").get_json()["status"] == "withdrawn"
    assert entry(client, family["token"])["status"] == "waiting"
    assert seats_taken(app, full.slot_id) == (1, 2)

    cancel(client, full.booked[1])
    assert entry(client, family["token"])["status"] == "offered"
    assert seats_taken(app, full.slot_id) == (2, 2)
    assert violations(app) == []


def test_joining_is_refused_while_the_party_could_book_and_twice_on_one_session(client, world, full):
    answer = client.post("/api/v1/waitlist", json={
        "session_id": world.session_id, "staff_number": full.waiting[0][0],
        "invitation_code": full.waiting[0][1]})
    assert (answer.status_code, answer.get_json()["error"]) == (409, "seats_free")
    join(client, full.session_id, *full.waiting[0])
    again = client.post("/api/v1/waitlist", json={
        "session_id": full.session_id, "staff_number": full.waiting[0][0], "invitation_code": full.waiting[0][1]})
    assert (again.status_code, again.get_json()["error"]) == (409, "already_waiting")
    wrong = client.post("/api/v1/waitlist", json={
        "session_id": full.session_id, "staff_number": full.waiting[1][0], "invitation_code": "WRONG"})
    assert wrong.status_code == 403


def test_an_expired_offer_passes_to_the_next_party_once(app, client, runner, full):
    first = join(client, full.session_id, *full.waiting[0])
    second = join(client, full.session_id, *full.waiting[1])
    cancel(client, full.booked[0])
    expires = datetime.fromisoformat(entry(client, first["token"])["offer"]["expires_at"])
    later = (expires + timedelta(minutes=1)).astimezone(TOKYO).replace(tzinfo=None).isoformat()

    result = runner.invoke(args=["run-due-jobs", "--now", later, "--no-mail"])
    assert result.exit_code == 0, result.output
    assert "waitlist_offers: 1 offers expired, 1 offers made" in result.output
    assert entry(client, first["token"])["status"] == "expired"
    assert entry(client, second["token"])["status"] == "offered"
    refused = client.post(f"/api/v1/waitlist/{first['token']}/accept")
    assert (refused.status_code, refused.get_json()["error"]) == (409, "offer_closed")
    # The same minute again (another worker): nothing more happens, nothing is mailed twice.
    runner.invoke(args=["run-due-jobs", "--now", later, "--no-mail"])
    assert offer_mails(app) == sorted([(first["id"], 1), (second["id"], 1)])
    assert seats_taken(app, full.slot_id) == (2, 2)
    assert violations(app) == []


def test_an_offer_never_outlasts_the_cut_off_and_none_is_made_after_it(app, client, runner, world, full):
    with app.app_context():
        campaign = db.session.get(Campaign, world.campaign_id)
        campaign.waitlist_offer_minutes = 30 * 24 * 60
        db.session.commit()
        cutoff = timedelta(minutes=campaign.cutoff_minutes)
    first = join(client, full.session_id, *full.waiting[0])
    second = join(client, full.session_id, *full.waiting[1])
    cancel(client, full.booked[0])
    offer = entry(client, first["token"])["offer"]
    deadline = datetime.fromisoformat(offer["starts_at"]) - cutoff
    assert datetime.fromisoformat(offer["expires_at"]) == deadline

    at_cutoff = deadline.astimezone(TOKYO).replace(tzinfo=None).isoformat()
    result = runner.invoke(args=["run-due-jobs", "--now", at_cutoff, "--no-mail"])
    assert "waitlist_offers: 1 offers expired, 0 offers made" in result.output
    assert entry(client, second["token"])["status"] == "waiting"
    assert seats_taken(app, full.slot_id) == (1, 2)
    assert offer_mails(app) == [(first["id"], 1)]


def test_an_offer_moves_the_booking_the_person_holds(app, client, world, full):
    held = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code}).get_json()
    waiting = join(client, full.session_id, world.staff_number, world.invitation_code)
    cancel(client, full.booked[0])
    answer = client.post(f"/api/v1/waitlist/{waiting['token']}/accept")
    assert answer.status_code == 200, answer.get_json()
    moved = answer.get_json()
    assert moved["code"] == held["code"]
    assert seats_taken(app, world.slot_ids[0])[0] == 0
    assert seats_taken(app, full.slot_id) == (2, 2)
    with app.app_context():
        reservation = db.session.scalar(select(Reservation).where(Reservation.code == held["code"]))
        assert reservation.slot_id == full.slot_id
    assert violations(app) == []


def test_the_offer_mail_links_to_the_page_with_one_button(app, client, runner, full):
    first = join(client, full.session_id, *full.waiting[0])
    cancel(client, full.booked[0])
    runner.invoke(args=["run-due-jobs"])
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer"))
        assert mail.status == "not_sent"  # no SMTP server in tests: rendered and kept
        body = mail.body
    link = next(line for line in body.splitlines() if "/w/" in line).strip()
    page = client.get(link.replace("http://localhost", ""))
    assert page.status_code == 200
    assert 'data-offer' in page.get_data(as_text=True)
    answer = client.post(f"/w/{first['token']}/accept")
    assert answer.status_code == 302 and "/r/" in answer.headers["Location"]
    assert statuses(app)[first["id"]] == "accepted"


def test_the_booker_joins_from_the_full_session_page_and_sees_their_place(app, client, world, full):
    page = client.get(f"/i/{world.invitation_token}/sessions/{full.session_id}")
    assert "data-waitlist-join" in page.get_data(as_text=True)
    answer = client.post(f"/i/{world.invitation_token}/sessions/{full.session_id}/waitlist",
                         data={"people_shown": "1", "include_staff": "y", "dependent_ids": [world.dependent_id]})
    assert answer.status_code == 302
    place = client.get(answer.headers["Location"])
    assert 'data-place="1"' in place.get_data(as_text=True)
    with app.app_context():
        [waiting] = db.session.scalars(select(WaitlistEntry)).all()
        assert (waiting.seats, waiting.dependent_ids) == (2, [world.dependent_id])
    left = client.post(answer.headers["Location"].replace("http://localhost", "") + "/leave")
    assert left.status_code == 302
    assert list(statuses(app).values()) == ["withdrawn"]


def test_the_office_sees_the_list_with_places_and_offers(app, client, full):
    from booking.services import accounts
    from tests.office.conftest import password_hash, sign_in

    first = join(client, full.session_id, *full.waiting[0])
    join(client, full.session_id, *full.waiting[1])
    join(client, full.session_id, *full.waiting[2])
    cancel(client, full.booked[0])
    with app.app_context():
        accounts.ensure_user("clerk", "clerk").password_hash = password_hash()
        db.session.commit()
    assert sign_in(client, "clerk").status_code == 302
    page = client.get(f"/office/sessions/{full.session_id}/waitlist")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-status="offered"') == 1 and html.count('data-status="waiting"') == 2
    rows = html.split("<tbody>")[1]
    assert rows.index(full.waiting[0][0]) < rows.index(full.waiting[1][0]) < rows.index(full.waiting[2][0])
    assert statuses(app)[first["id"]] == "offered"


def test_a_real_place_and_offer_match_the_documented_schema(client, full):
    from openapi_schema_validator import OAS31Validator

    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["paths"]["/api/v1/waitlist"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    validator = OAS31Validator({**schema, "components": document["components"]})
    first = join(client, full.session_id, *full.waiting[0])
    validator.validate(first)
    cancel(client, full.booked[0])
    offered = entry(client, first["token"])
    assert offered["offer"] is not None
    validator.validate(offered)


def test_the_section_sets_how_long_offers_hold(app, client, world, admin_headers):
    body = {"title": "t", "booking_opens_at": "2030-01-01T09:00", "booking_closes_at": "2030-02-01T09:00"}
    made = client.post("/api/v1/campaigns", json={**body, "waitlist_offer_minutes": 30}, headers=admin_headers)
    assert (made.status_code, made.get_json()["waitlist_offer_minutes"]) == (201, 30)
    refused = client.post("/api/v1/campaigns", json={**body, "waitlist_offer_minutes": 5}, headers=admin_headers)
    assert refused.status_code == 422 and "waitlist_offer_minutes" in refused.get_json()["fields"]
    plain = client.post("/api/v1/campaigns", json=body, headers=admin_headers).get_json()
    assert plain["waitlist_offer_minutes"] == 120


def test_a_booker_with_a_booking_is_led_from_the_full_session_to_its_list(app, client, world, full):
    held = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code}).get_json()
    page = client.get(f"/r/{held['manage_token']}/move/{full.session_id}").get_data(as_text=True)
    assert "data-waitlist-move" in page
    link = page.split("data-waitlist-move><a href=\"")[1].split('"')[0].replace("&amp;", "&")
    joined = client.get(link).get_data(as_text=True)
    assert "data-waitlist-join" in joined


def test_the_retention_purge_deletes_the_campaigns_waiting_lists(app, client, runner, world, full):
    from sqlalchemy import func

    join(client, full.session_id, *full.waiting[0])
    join(client, full.session_id, *full.waiting[1])
    cancel(client, full.booked[0])  # one offer holds a seat
    when = world.session_day + timedelta(days=400)
    result = runner.invoke(args=["purge-personal-data", "--now", f"{when.isoformat()}T12:00:00+09:00"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 0
    # The held seat went back; the booking left is a count now, still in the slot's seats.
    assert seats_taken(app, full.slot_id) == (1, 2)
    assert violations(app) == []


def test_the_office_reads_the_offer_mail_among_the_messages(app, client, full, admin_headers):
    join(client, full.session_id, *full.waiting[0])
    cancel(client, full.booked[0])
    listed = client.get("/api/v1/messages?kind=waitlist_offer", headers=admin_headers)
    assert listed.status_code == 200
    assert [m["kind"] for m in listed.get_json()] == ["waitlist_offer"]


def test_a_session_edit_removing_a_slot_once_offered_keeps_working(app, client, world, full):
    """An accepted offer still names its slot: moving the session's hours deletes that slot."""
    first = join(client, full.session_id, *full.waiting[0])
    cancel(client, full.booked[0])
    assert client.post(f"/api/v1/waitlist/{first['token']}/accept").status_code == 200
    with app.test_request_context():
        admin = accounts.ensure_user("wl-admin", "admin")
        session = db.session.get(DeskSession, full.session_id)
        campaigns.update_session(Actor("page", user=db.session.get(User, admin.id)), session,
                                 venue_id=session.venue_id, day=session.date, start=clock_time(17, 10),
                                 end=clock_time(17, 20), slot_minutes=10, desks=2, resolution="move")
        db.session.commit()
    assert entry(client, first["token"])["status"] == "accepted"
    assert violations(app) == []


def test_erasing_a_staff_member_gives_their_held_seats_to_the_next_party(app, client, world, full):
    first = join(client, full.session_id, *full.waiting[0])
    second = join(client, full.session_id, *full.waiting[1])
    cancel(client, full.booked[0])
    assert entry(client, first["token"])["status"] == "offered"
    with app.test_request_context():
        admin = accounts.ensure_user("wl-admin", "admin")
        staff = db.session.scalar(select(Staff).where(Staff.staff_number == full.waiting[0][0]))
        disclosure.erase(Actor("page", user=db.session.get(User, admin.id)), staff, confirm=staff.staff_number)
        db.session.commit()
    assert entry(client, second["token"])["status"] == "offered"
    assert seats_taken(app, full.slot_id) == (2, 2)
    assert violations(app) == []
