"""The QR code behind qr_url: a PNG that says the manage URL with its token, and nothing personal."""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

from booking.services.confirmations import token_from_qr


@pytest.fixture
def booked(client, world):
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code, "dependent_ids": [world.dependent_id]})
    assert response.status_code == 201
    return response.get_json()


def local(url: str) -> str:
    return url.replace("http://localhost", "")


def decode(png: bytes) -> str:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    [barcode] = zxingcpp.read_barcodes(image)
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    return barcode.text


def tampered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def test_qr_url_answers_a_png(client, booked):
    response = client.get(local(booked["qr_url"]))
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")


def test_the_qr_says_the_manage_url_with_the_token(client, booked):
    text = decode(client.get(local(booked["qr_url"])).data)
    assert text == booked["manage_url"]
    assert urlsplit(text).path == f"/r/{booked['manage_token']}"


def test_the_qr_holds_no_personal_data(client, world, booked):
    text = decode(client.get(local(booked["qr_url"])).data)
    parts = urlsplit(text)
    assert parts.query == "" and parts.fragment == ""
    segments = parts.path.strip("/").split("/")
    assert segments == ["r", booked["manage_token"]]
    for secret in (world.staff_number, str(world.staff_id), str(booked["id"]), str(world.dependent_id),
                   booked["code"], world.invitation_code):
        assert secret not in segments
    for name in ("佐藤", "翔太", "陽子", "サトウ"):
        assert name not in text


def test_token_from_qr_returns_the_token(client, booked):
    text = decode(client.get(local(booked["qr_url"])).data)
    assert token_from_qr(text) == booked["manage_token"]


@pytest.mark.parametrize("text", ["", "hello", "http://localhost/", "http://localhost/i/abc", "WIFI:S:x;;"])
def test_token_from_qr_refuses_other_texts(text):
    assert token_from_qr(text) is None


def test_the_decoded_token_opens_the_reservation(client, booked):
    token = token_from_qr(decode(client.get(local(booked["qr_url"])).data))
    response = client.get(f"/api/v1/reservations/{token}")
    assert response.status_code == 200
    assert response.get_json()["code"] == booked["code"]


def test_a_tampered_token_is_refused(client, booked):
    bad = tampered(booked["manage_token"])
    assert client.get(f"/r/{bad}/qr.png").status_code == 404
    response = client.get(f"/api/v1/reservations/{token_from_qr(booked['manage_url'].replace(booked['manage_token'], bad))}")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_the_qr_stays_the_same_after_a_move(client, world, booked):
    before = decode(client.get(local(booked["qr_url"])).data)
    client.post(f"/api/v1/reservations/{booked['manage_token']}/reschedule", json={"slot_id": world.slot_ids[1]})
    assert decode(client.get(local(booked["qr_url"])).data) == before
