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
    response = other.post("/", data={"staff_number": number, "invitation_code": "WRONG1"},
                          environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 403


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
