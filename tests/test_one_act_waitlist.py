"""One act, one service (DESIGN rule 12) for the waiting list (issue 19): joining, leaving and
accepting an offer, through the API and the booker's pages, each write exactly one audit event;
seats offered by a cancellation are named in the cancellation's event."""
from __future__ import annotations

from tests.test_one_act_bookings import last_event_id, one_event
from tests.waitlist.conftest import full, join  # noqa: F401 - full is a fixture


def test_joining_and_leaving_through_the_api_and_the_page_write_one_event_each(app, client, world, full):  # noqa: F811
    number, code = full.waiting[0]
    since = last_event_id(app)
    response = client.post("/api/v1/waitlist", json={
        "session_id": full.session_id, "staff_number": number, "invitation_code": code})
    assert response.status_code == 201, response.get_json()
    by_api = response.get_json()
    one_event(app, since, "waitlist.join", actor=f"booker:{number}", channel="api", target_id=by_api["id"])

    since = last_event_id(app)
    page = app.test_client()
    response = page.post(f"/i/{world.invitation_token}/sessions/{full.session_id}/waitlist",
                         data={"people_shown": "1", "include_staff": "y"})
    assert response.status_code == 302
    event = one_event(app, since, "waitlist.join", actor=f"booker:{world.staff_number}", channel="page")
    page_token = response.headers["Location"].rsplit("/w/", 1)[1]

    since = last_event_id(app)
    response = client.post(f"/api/v1/waitlist/{by_api['token']}/leave")
    assert response.status_code == 200
    one_event(app, since, "waitlist.leave", actor=f"booker:{number}", channel="api", target_id=by_api["id"])

    since = last_event_id(app)
    assert page.post(f"/w/{page_token}/leave").status_code == 302
    one_event(app, since, "waitlist.leave", actor=f"booker:{world.staff_number}", channel="page",
              target_id=event.target_id)


def test_a_cancellation_names_the_offers_it_made_and_accepting_is_the_booking_event(app, client, full):  # noqa: F811
    first = join(client, full.session_id, *full.waiting[0])
    second = join(client, full.session_id, *full.waiting[1])
    cancelled_by = full.booked[0]

    since = last_event_id(app)
    assert client.post(f"/api/v1/reservations/{cancelled_by['manage_token']}/cancel").status_code == 200
    event = one_event(app, since, "reservation.cancel", actor=f"booker:{full.booked_by[0]}", channel="api")
    assert event.details["waitlist_offers"] == [first["id"]]

    since = last_event_id(app)
    response = client.post(f"/api/v1/waitlist/{first['token']}/accept")
    assert response.status_code == 200, response.get_json()
    booked = one_event(app, since, "reservation.book", actor=f"booker:{full.waiting[0][0]}", channel="api",
                       target_id=response.get_json()["id"])
    assert booked.details["waitlist_entry_id"] == first["id"]

    # The page's button is the same act.
    assert client.post(f"/api/v1/reservations/{full.booked[1]['manage_token']}/cancel").status_code == 200
    since = last_event_id(app)
    assert app.test_client().post(f"/w/{second['token']}/accept").status_code == 302
    one_event(app, since, "reservation.book", actor=f"booker:{full.waiting[1][0]}", channel="page")
