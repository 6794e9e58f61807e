"""API.md "Refusals every call shares", the error body, its language and the attempt limit."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"


def _is_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def japanese(english: str) -> str:
    """What the Japanese catalogue says for an English message (itself while it has no entry)."""
    catalogue = Translations.load(str(TRANSLATIONS), ["ja"]) if TRANSLATIONS.exists() else NullTranslations()
    return catalogue.gettext(english)


# --- size, shape and types -----------------------------------------------------------


def test_a_json_body_over_the_limit_is_413(app, client, world, book):
    padding = "x" * (app.config["API_MAX_JSON_BYTES"] + 1)
    body = _is_error(book(0, padding=padding), 413, "too_large")
    assert "fields" not in body


def test_a_json_body_just_under_the_limit_is_read(app, client, world, book):
    payload = {"slot_id": world.slot_ids[0], "staff_number": world.staff_number,
               "invitation_code": world.invitation_code}
    room = app.config["API_MAX_JSON_BYTES"] - len(json.dumps({**payload, "padding": ""})) - 10
    assert book(0, padding="x" * room).status_code == 201


def test_a_chunked_json_body_over_the_limit_is_413(app, client, world):
    data = json.dumps({"slot_id": world.slot_ids[0], "staff_number": world.staff_number,
                       "invitation_code": world.invitation_code,
                       "padding": "x" * (app.config["API_MAX_JSON_BYTES"] + 1)}).encode()

    # No Content-Length: the server must stop reading at the limit, not trust a header.
    response = client.post("/api/v1/reservations", input_stream=io.BytesIO(data), content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    _is_error(response, 413, "too_large")


def test_a_staff_file_over_the_limit_is_413(app, client, world, admin_headers):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    data = "staff_number,family_name\n" + "1,x\n" * 1000
    response = client.post("/api/v1/staff/import", data=data, content_type="text/csv", headers=admin_headers)
    _is_error(response, 413, "too_large")


def test_unknown_json_fields_are_ignored(client, world, book):
    response = book(0, colour="red", nested={"a": [1, 2]}, dependent_ids=[])
    assert response.status_code == 201
    assert "colour" not in response.get_json()


@pytest.mark.parametrize(("field", "value"), [
    ("slot_id", "first"), ("slot_id", 1.5), ("slot_id", None), ("slot_id", True),
    ("staff_number", 1001), ("dependent_ids", "all"), ("dependent_ids", ["one"]),
    ("invitation_code", ["A"]),
])
def test_wrong_types_are_422_invalid_naming_the_field(client, world, book, field, value):
    body = _is_error(book(0, **{field: value}), 422, "invalid")
    assert any(name == field or name.startswith(f"{field}.") for name in body["fields"]), body["fields"]
    assert all(isinstance(text, str) and text for text in body["fields"].values())


def test_a_missing_required_field_is_named(client, world):
    body = _is_error(client.post("/api/v1/reservations", json={"staff_number": "1001"}), 422, "invalid")
    assert "slot_id" in body["fields"]


@pytest.mark.parametrize("data", ["not json", "[1, 2]", '"text"', ""])
def test_a_body_that_is_not_a_json_object_is_422_invalid(client, world, data):
    response = client.post("/api/v1/reservations", data=data, content_type="application/json")
    body = _is_error(response, 422, "invalid")
    assert "body" in body["fields"]


def test_campaign_datetimes_of_the_wrong_type_are_named(client, world, admin_headers):
    response = client.post("/api/v1/campaigns", json={
        "title": "x", "booking_opens_at": "tomorrow", "booking_closes_at": "2030-01-01T00:00",
        "published": "yes"}, headers=admin_headers)
    body = _is_error(response, 422, "invalid")
    assert {"booking_opens_at", "published"} <= set(body["fields"])


# --- unknown paths and methods under /api/v1 -------------------------------------------


def test_an_unknown_api_path_answers_json_404(client):
    _is_error(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_a_wrong_method_answers_json_405(client, world):
    response = client.delete("/api/v1/campaigns")
    _is_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


# --- language -------------------------------------------------------------------------


ENGLISH_WRONG_CODE = "The staff number or invitation code is wrong. Check your invitation and try again."


def test_messages_are_english_for_en(client, world, book):
    response = book(0, invitation_code="AAAAAAAA", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert _is_error(response, 403, "invalid_invitation")["message"] == ENGLISH_WRONG_CODE


def test_messages_are_japanese_by_default(client, world, book):
    response = book(0, invitation_code="AAAAAAAA")
    assert _is_error(response, 403, "invalid_invitation")["message"] == japanese(ENGLISH_WRONG_CODE)


def test_messages_are_japanese_for_ja(client, world, book):
    response = book(0, invitation_code="AAAAAAAA", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})
    assert _is_error(response, 403, "invalid_invitation")["message"] == japanese(ENGLISH_WRONG_CODE)


def test_lazy_domain_messages_follow_the_language(client, world, book):
    book(0, dependent_ids=[world.dependent_id])
    [(number, code)] = world.add_staff(1)
    english = book(0, staff_number=number, invitation_code=code, headers={"Accept-Language": "en"})
    assert _is_error(english, 409, "slot_full")["message"] == "This time is full. Choose another time."
    default = book(0, staff_number=number, invitation_code=code)
    assert _is_error(default, 409, "slot_full")["message"] == japanese("This time is full. Choose another time.")


def test_field_messages_follow_the_language(client, world, book):
    [(number, code)] = world.add_staff(1)
    body = _is_error(book(0, staff_number=number, invitation_code=code, dependent_ids=[world.dependent_id],
                          headers={"Accept-Language": "en"}), 422, "invalid")
    assert body["fields"]["dependent_ids"] == "Only your own registered dependents can come along."


def test_http_error_messages_follow_the_language(client, world):
    english = client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"})
    assert _is_error(english, 404, "not_found")["message"] == "Nothing is here. Check the address."
    default = client.get("/api/v1/nothing-here")
    assert _is_error(default, 404, "not_found")["message"] == japanese("Nothing is here. Check the address.")


@pytest.mark.parametrize(("path", "headers", "expected"), [
    ("/api/v1/campaigns", {}, "ja"),
    ("/api/v1/campaigns", {"Accept-Language": "en-US,en;q=0.8"}, "en"),
    ("/api/v1/campaigns", {"Accept-Language": "fr, en;q=0.5"}, "en"),
    ("/api/v1/campaigns", {"Accept-Language": "fr"}, "ja"),
    ("/api/v1/campaigns", {"Accept-Language": "ja,en;q=0.5"}, "ja"),
    # The booker pages remember a choice in a cookie; the API follows Accept-Language only.
    ("/api/v1/campaigns", {"Accept-Language": "en", "Cookie": "lang=ja"}, "en"),
    ("/api/v1/campaigns", {"Cookie": "lang=en"}, "ja"),
    # Paths that match no view still answer in the caller's language.
    ("/api/v1/nothing-here", {"Accept-Language": "en"}, "en"),
])
def test_the_api_language_follows_accept_language(app, path, headers, expected):
    from flask_babel import get_locale

    with app.test_request_context(path, headers=headers):
        assert str(get_locale()) == expected


# --- too many attempts ---------------------------------------------------------------


def _limit(app) -> int:
    return int(re.match(r"\s*(\d+)", app.config["INVITATION_ATTEMPTS_LIMIT"]).group(1))


def test_repeated_wrong_invitation_codes_end_in_429(app, client, world, book):
    for _ in range(_limit(app)):
        _is_error(book(0, invitation_code="AAAAAAAA"), 403, "invalid_invitation")
    response = book(0, invitation_code="AAAAAAAA")
    _is_error(response, 429, "too_many_attempts")
    assert int(response.headers["Retry-After"]) > 0


def test_once_limited_even_the_right_code_waits(app, client, world, book, seats):
    for _ in range(_limit(app)):
        book(0, invitation_code="AAAAAAAA")
    _is_error(book(0), 429, "too_many_attempts")
    assert seats(world.slot_ids[0]) == 0


def test_the_limit_follows_the_configuration(app, client, world, book):
    app.config["INVITATION_ATTEMPTS_LIMIT"] = "2 per minute"
    for _ in range(2):
        _is_error(book(0, invitation_code="AAAAAAAA"), 403, "invalid_invitation")
    _is_error(book(0, invitation_code="AAAAAAAA"), 429, "too_many_attempts")


def test_right_codes_and_other_refusals_do_not_count_as_attempts(app, client, world, book):
    app.config["INVITATION_ATTEMPTS_LIMIT"] = "2 per minute"
    pairs = world.add_staff(4)
    for number, code in pairs:
        assert book(0, staff_number=number, invitation_code=code).status_code in (201, 409)
    _is_error(book(0, slot_id=999999), 404, "not_found")
    _is_error(book(0, invitation_code="AAAAAAAA"), 403, "invalid_invitation")
    _is_error(book(0, invitation_code="AAAAAAAA"), 403, "invalid_invitation")
    _is_error(book(0, invitation_code="AAAAAAAA"), 429, "too_many_attempts")


def test_a_chunked_staff_file_over_the_limit_is_413_and_imports_nothing(app, client, world, admin_headers):
    from booking.extensions import db
    from booking.models import Staff

    app.config["MAX_CONTENT_LENGTH"] = 4096
    header = ("staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,"
              "card_status\n")
    rows = "".join(f"{5000 + n},鈴木,花子,スズキ,ハナコ,A,2部,,,none\n" for n in range(200))
    data = (header + rows).encode()
    assert len(data) > 4096
    # No Content-Length: a server that only checks the header would read a truncated file
    # and import the lines before the cut.
    response = client.post("/api/v1/staff/import", input_stream=io.BytesIO(data), content_type="text/csv",
                           headers={**admin_headers, "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    _is_error(response, 413, "too_large")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Staff.id))) == 1


# --- field messages are the app's own, in the caller's language -------------------------------


@pytest.mark.parametrize(("payload", "field", "english"), [
    ({"slot_id": "first"}, "slot_id", "Enter a whole number."),
    ({"slot_id": None}, "slot_id", "Enter a whole number."),
    ({"staff_number": 1001}, "staff_number", "Enter text."),
    ({"dependent_ids": "all"}, "dependent_ids", "Send a list."),
])
def test_field_messages_are_translatable_sentences(client, world, book, payload, field, english):
    body = _is_error(book(0, headers={"Accept-Language": "en"}, **payload), 422, "invalid")
    assert body["fields"][field] == english
    body = _is_error(book(0, **payload), 422, "invalid")
    assert body["fields"][field] == japanese(english)


def test_a_missing_field_is_reported_as_required(client, world):
    body = _is_error(client.post("/api/v1/reservations", json={"staff_number": "1001"},
                                 headers={"Accept-Language": "en"}), 422, "invalid")
    assert body["fields"]["slot_id"] == "This field is required."


@pytest.mark.parametrize(("field", "value"), [
    ("booking_opens_at", 1900000000), ("booking_opens_at", True), ("booking_closes_at", 2030.5),
])
def test_a_number_is_not_a_datetime(client, world, admin_headers, field, value):
    payload = {"title": "x", "booking_opens_at": "2030-01-01T09:00", "booking_closes_at": "2030-02-01T09:00",
               "published": False, field: value}
    body = _is_error(client.post("/api/v1/campaigns", json=payload, headers=admin_headers), 422, "invalid")
    assert set(body["fields"]) == {field}


@pytest.mark.parametrize(("field", "value"), [("date", 20300710), ("start_time", 54000), ("end_time", 19.0)])
def test_a_number_is_not_a_date_or_time(client, world, admin_headers, field, value):
    payload = {"venue_id": world.venue_id, "date": "2030-07-10", "start_time": "15:00", "end_time": "19:00",
               "slot_minutes": 10, "desks": 2, field: value}
    response = client.post(f"/api/v1/campaigns/{world.campaign_id}/sessions", json=payload, headers=admin_headers)
    assert set(_is_error(response, 422, "invalid")["fields"]) == {field}
