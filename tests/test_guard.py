"""Rule 6: a 12-digit number that passes the individual-number check digit is refused in
every free-text field; numbers that fail the check digit are ordinary text."""
from __future__ import annotations

import random

import pytest

from booking.services.errors import DomainError
from booking.services.guard import (
    contains_individual_number,
    is_individual_number,
    refuse_individual_numbers,
)


def check_digit(eleven: str) -> str:
    """Written here from the rule, independently of the app: P_n is the n-th of the first
    eleven digits from the right, Q_n = n + 1 (n <= 6) or n - 5 (n >= 7); the check digit
    is 11 - (sum P_n Q_n mod 11), or 0 when that remainder is 0 or 1."""
    total = sum(int(d) * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(eleven), start=1))
    remainder = total % 11
    return "0" if remainder <= 1 else str(11 - remainder)


def valid(eleven: str) -> str:
    return eleven + check_digit(eleven)


def invalid(eleven: str) -> str:
    return eleven + str((int(check_digit(eleven)) + 1) % 10)


PREFIXES = [f"{random.Random(seed).randrange(10**11):011d}" for seed in range(300)]
VALID = valid("31415926535")
INVALID = invalid("31415926535")


# --- the check digit -------------------------------------------------------------------------


def test_the_published_example_passes():
    assert is_individual_number("123456789018")


def test_exactly_one_last_digit_passes_for_each_prefix():
    for prefix in PREFIXES:
        passing = [d for d in "0123456789" if is_individual_number(prefix + d)]
        assert passing == [check_digit(prefix)], prefix


def test_remainders_zero_and_one_give_check_digit_zero():
    zero_or_one = [p for p in PREFIXES if sum(int(d) * (n + 1 if n <= 6 else n - 5)
                                              for n, d in enumerate(reversed(p), start=1)) % 11 <= 1]
    assert zero_or_one, "the sample should include such prefixes"
    for prefix in zero_or_one:
        assert is_individual_number(prefix + "0")


@pytest.mark.parametrize("text", ["", "12345678901", "1234567890123", "12345678901a", "1234-5678-9018"])
def test_is_individual_number_wants_exactly_twelve_digits(text):
    assert not is_individual_number(text)


# --- finding one in text -----------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    VALID,
    f"{VALID[:4]}-{VALID[4:8]}-{VALID[8:]}",
    f"{VALID[:4]} {VALID[4:8]} {VALID[8:]}",
    VALID.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    f"番号は{VALID}です",
    f"tel 024-000-0000, no. {VALID}.",
])
def test_a_valid_number_is_found_in_text(text):
    assert contains_individual_number(text)


@pytest.mark.parametrize("text", [
    INVALID,
    f"{INVALID[:4]}-{INVALID[4:8]}-{INVALID[8:]}",
    "0" + VALID,          # part of a longer number (13 digits)
    VALID + "9",
    VALID[:11],
    "090-1234-5678",      # a phone number
    "本人確認書類",
])
def test_other_numbers_are_ordinary_text(text):
    assert not contains_individual_number(text)


def test_the_refusal_names_each_field_that_holds_one():
    with pytest.raises(DomainError) as caught:
        refuse_individual_numbers({"notes": f"x {VALID}", "name": "ok", "address": INVALID, "count": 123456789018})
    assert caught.value.code == "individual_number_refused"
    assert set(caught.value.fields) == {"notes"}


def test_nothing_is_refused_without_one():
    refuse_individual_numbers({"notes": INVALID, "name": "佐藤"})


# --- through the JSON API ------------------------------------------------------------------------


def _refused(response, field: str) -> None:
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "individual_number_refused"
    assert body["message"]
    assert field in body["fields"]
    assert VALID not in response.get_data(as_text=True), "the number must not be echoed back"


DEPENDENT = {"family_name": "佐藤", "given_name": "一郎", "family_name_kana": "サトウ", "given_name_kana": "イチロウ",
             "relation": "長男"}


@pytest.mark.parametrize(("path", "payload", "field"), [
    ("/api/v1/units", {"code": "B", "name": f"北署 {VALID}"}, "name"),
    ("/api/v1/venues", {"name": "北署", "address": "福島市", "notes": f"番号{VALID}"}, "notes"),
    ("/api/v1/venues", {"name": "北署", "address": f"福島市 {VALID[:4]}-{VALID[4:8]}-{VALID[8:]}"}, "address"),
    ("/api/v1/staff/1001/dependents", {**DEPENDENT, "relation": VALID}, "relation"),
    ("/api/v1/campaigns", {"title": "t", "booking_opens_at": "2030-01-01T00:00",
                           "booking_closes_at": "2030-02-01T00:00", "published": False,
                           "what_to_bring": f"マイナンバー {VALID}"}, "what_to_bring"),
])
def test_admin_text_fields_refuse_an_individual_number(client, world, admin_headers, path, payload, field):
    _refused(client.post(path, json=payload, headers=admin_headers), field)


def test_nothing_is_created_when_a_field_is_refused(app, client, world, admin_headers):
    from booking.extensions import db
    from booking.models import Venue

    client.post("/api/v1/venues", json={"name": "北署", "address": "福島市", "notes": VALID}, headers=admin_headers)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Venue.id))) == 1


def test_a_booker_field_refuses_an_individual_number(client, world):
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number, "invitation_code": VALID})
    _refused(response, "invitation_code")


def test_an_unknown_field_holding_one_is_refused_too(client, world):
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code, "memo": {"lines": [f"my number {VALID}"]}})
    assert response.status_code == 422
    assert response.get_json()["error"] == "individual_number_refused"


@pytest.mark.parametrize(("path", "payload"), [
    ("/api/v1/units", {"code": "B", "name": f"北署 {INVALID}"}),
    ("/api/v1/venues", {"name": "北署", "address": "福島市", "notes": f"番号{INVALID}"}),
    ("/api/v1/staff/1001/dependents", {**DEPENDENT, "relation": INVALID}),
])
def test_a_number_failing_the_check_digit_is_accepted(client, world, admin_headers, path, payload):
    response = client.post(path, json=payload, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
