"""Guessing is slow: wrong invitation codes (form and API share one allowance), unknown manage
tokens and invitation links, and office sign-ins are limited per address; the refusal says when
to try again, and right answers are never counted."""
from __future__ import annotations

import pytest

LIMIT = 10  # INVITATION_ATTEMPTS_LIMIT: "10 per 15 minutes"


@pytest.fixture
def en(client):
    client.set_cookie("lang", "en")
    return client


def _wrong_form(client, number):
    return client.post("/", data={"staff_number": number, "invitation_code": "WRONG1"})


def _wrong_api(client, sec, number):
    return client.post("/api/v1/reservations", headers={"Accept-Language": "en"},
                       json={"slot_id": sec.ids["slots"][3], "staff_number": number, "invitation_code": "WRONG1"})


def test_the_form_and_the_api_share_one_allowance_of_wrong_codes(en, sec):
    number = sec.invitation["staff_a"][2]
    for i in range(LIMIT):
        response = _wrong_form(en, number) if i % 2 else _wrong_api(en, sec, number)
        assert response.status_code == 403, i
    assert _wrong_form(en, number).status_code == 429
    answer = _wrong_api(en, sec, number)
    assert answer.status_code == 429 and answer.get_json()["error"] == "too_many_attempts"


def test_the_api_lockout_says_when_to_try_again(en, sec):
    number = sec.invitation["staff_a"][2]
    for _ in range(LIMIT):
        _wrong_api(en, sec, number)
    answer = _wrong_api(en, sec, number)
    body = answer.get_json()
    assert answer.status_code == 429
    assert 0 < int(answer.headers["Retry-After"]) <= 15 * 60
    assert "Try again after" in body["message"] and "minutes" in body["message"]
    assert body["retry_at"]


def test_the_form_lockout_page_says_when_to_try_again(en, sec):
    number = sec.invitation["staff_a"][2]
    for _ in range(LIMIT):
        _wrong_form(en, number)
    page = _wrong_form(en, number)
    assert page.status_code == 429
    assert "try again after" in page.get_data(as_text=True).lower()


def test_right_codes_are_never_counted(en, sec):
    _link, code, number = sec.invitation["staff_b"]
    for _ in range(LIMIT + 5):
        assert en.post("/", data={"staff_number": number, "invitation_code": code}).status_code == 302


def test_a_locked_out_address_does_not_lock_out_another(app, sec):
    number = sec.invitation["staff_a"][2]
    one = app.test_client()
    for _ in range(LIMIT + 1):
        _wrong_form(one, number)
    other = app.test_client()
    colleague = sec.invitation["staff_b"][2]
    response = other.post("/", data={"staff_number": colleague, "invitation_code": "WRONG1"},
                          environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 403


# --- per staff number as well as per address (issue 17, item 2) -------------------------------


def _from(client, address, number, code="WRONG1", lang="en"):
    return client.post(f"/?lang={lang}", data={"staff_number": number, "invitation_code": code},
                       environ_base={"REMOTE_ADDR": address})


def test_wrong_codes_for_one_number_from_many_addresses_slow_that_numbers_codes(app, sec):
    link, code, number = sec.invitation["staff_a"]
    client = app.test_client()
    for i in range(LIMIT):
        assert _from(client, f"10.1.0.{i + 1}", number).status_code == 403
    # Even the right code waits now, from a fresh address, and is told until when.
    refused = _from(client, "10.2.0.1", number, code)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "try again after" in refused.get_data(as_text=True).lower()
    api = client.post("/api/v1/reservations", headers={"Accept-Language": "en"},
                      json={"slot_id": sec.ids["slots"][3], "staff_number": number, "invitation_code": code},
                      environ_base={"REMOTE_ADDR": "10.2.0.2"})
    assert api.status_code == 429 and api.get_json()["error"] == "too_many_attempts" and api.get_json()["retry_at"]
    # Spelled differently (full-width digits), it is the same number.
    wide = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert _from(client, "10.2.0.3", wide, code).status_code == 429
    # The person's own invitation link is not part of it.
    assert client.get(f"/i/{link}", environ_base={"REMOTE_ADDR": "10.2.0.4"}).status_code in (200, 302)
    # A colleague's number from the same addresses is not slowed.
    assert _from(client, "10.1.0.1", sec.invitation["staff_b"][2], sec.invitation["staff_b"][1]).status_code == 302


def test_one_persons_wrong_codes_hold_up_a_colleague_behind_the_same_address_only_briefly(app, sec):
    app.config["INVITATION_ADDRESS_LIMIT"] = "3 per 2 seconds"  # the default is 10 per 2 minutes
    client = app.test_client()
    for _ in range(3):
        assert _from(client, "192.0.2.7", sec.invitation["staff_a"][2]).status_code == 403
    _link, code, colleague = sec.invitation["staff_b"]
    held = _from(client, "192.0.2.7", colleague, code)
    assert held.status_code == 429 and int(held.headers["Retry-After"]) <= 2
    import time

    time.sleep(2.2)
    assert _from(client, "192.0.2.7", colleague, code).status_code == 302


def test_the_default_address_window_is_short(app):
    from limits import parse_many

    windows = [item.get_expiry() for item in parse_many(app.config["INVITATION_ADDRESS_LIMIT"])]
    assert min(windows) <= 120


def test_a_lockout_never_locks_out_an_admins_api_token(en, sec):
    number = sec.invitation["staff_a"][2]
    for _ in range(LIMIT + 1):
        _wrong_api(en, sec, number)
    assert _wrong_api(en, sec, number).status_code == 429  # this address and this number are locked
    answers = [en.post("/api/v1/reservations", headers=sec.headers("admin"),
                       json={"slot_id": sec.ids["slots"][3], "staff_number": "2002"}).status_code
               for _ in range(20)]
    assert 429 not in answers and answers[0] == 201, answers
    # Only an admin's token: a clerk's token typing codes is a booker like any other.
    clerk = en.post("/api/v1/reservations", headers=sec.headers("clerk"),
                    json={"slot_id": sec.ids["slots"][3], "staff_number": number, "invitation_code": "WRONG1"})
    assert clerk.status_code == 429
    # A wrong token is not exempt either (and counts as nothing: 401 is not a wrong code).
    wrong = en.post("/api/v1/reservations", headers={"Authorization": "Bearer nope", "Accept-Language": "en"},
                    json={"slot_id": sec.ids["slots"][3], "staff_number": "2002"})
    assert wrong.status_code == 429


SECRET_LIMIT = 30  # SECRET_LINK_ATTEMPTS_LIMIT default


def test_guessing_manage_tokens_is_cut_off_across_pages_and_api(en, sec):
    guesses = [f"/r/{'x' * 22}{i}" for i in range(SECRET_LIMIT // 3)]
    guesses += [f"/api/v1/reservations/{'y' * 22}{i}" for i in range(SECRET_LIMIT // 3)]
    guesses += [f"/i/{'z' * 22}{i}" for i in range(SECRET_LIMIT - len(guesses))]
    for url in guesses:
        assert en.get(url).status_code == 404, url
    assert en.get("/r/" + "q" * 22).status_code == 429
    answer = en.post("/api/v1/reservations/" + "q" * 22 + "/cancel", headers={"Accept-Language": "en"})
    assert answer.status_code == 429 and "Try again after" in answer.get_json()["message"]


def test_the_right_manage_link_is_not_counted_however_often_it_is_opened(en, sec):
    token = sec.manage["staff_a"]
    for _ in range(SECRET_LIMIT + 5):
        assert en.get(f"/r/{token}").status_code == 200
        assert en.get(f"/api/v1/reservations/{token}").status_code == 200
    assert en.get(f"/r/{token}/qr.png").status_code == 200


def test_office_sign_in_is_limited_with_a_message_saying_when(en, sec):
    for _ in range(5):
        assert en.post("/office/login", data={"username": "clerk", "password": "nope"}).status_code == 401
    page = en.post("/office/login", data={"username": "clerk", "password": "nope"})
    assert page.status_code == 429 and "Try again after" in page.get_data(as_text=True)
    assert int(page.headers["Retry-After"]) > 0


def test_guessing_calendar_feed_addresses_is_cut_off_and_the_real_feed_is_never_counted(app, en, sec):
    from booking.models import User
    from booking.services import calendar_feed

    with app.test_request_context(base_url="http://localhost"):
        from booking.extensions import db

        chief = db.session.scalar(db.select(User).where(User.username == "chief_a"))
        url = calendar_feed.feed_url(calendar_feed.feed_for(chief))
        db.session.commit()
    feed = url.removeprefix("http://localhost")
    feed_limit = 60  # CALENDAR_FEED_ATTEMPTS_LIMIT default: calendar services poll from shared addresses
    for i in range(feed_limit):
        assert en.get(feed).status_code == 200  # a calendar service polling the real address
        assert en.get(f"/chiefs/calendar/{'f' * 22}{i}.ics").status_code == 404
    refused = en.get(f"/chiefs/calendar/{'g' * 22}.ics")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # A bucket of its own: manage links from this address are not held up by stale feeds.
    assert en.get(f"/r/{'h' * 22}").status_code == 404
