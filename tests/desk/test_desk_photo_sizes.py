"""Big photos (issue 17, item 7): what a worker decodes is capped at 16 million pixels.

A baseline JPEG bigger than that is decoded at 1/2, 1/4 or 1/8 of its size straight from the
file (Pillow's draft); a PNG, a WebP or a JPEG of several scans (progressive) bigger than that
is refused with a message that says what to do, from its header, before anything is decoded.
"""
from __future__ import annotations

import io

from desk_images import encoded, photo_like
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from booking.extensions import db
from booking.models import CheckIn, Photo


def upload(client, check_in_id, data: bytes, headers, name="photo.jpg", mimetype="image/jpeg"):
    boundary, body = encode_multipart({"photo": FileStorage(io.BytesIO(data), name, content_type=mimetype)})
    return client.post(f"/api/v1/checkins/{check_in_id}/photo", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


def gradient(width: int, height: int) -> Image.Image:
    """A picture that is cheap to make at any size and not blank: a grey ramp (one byte a pixel)."""
    return Image.linear_gradient("L").resize((width, height))


def stored_size(app) -> tuple[int, int] | None:
    with app.app_context():
        photo = db.session.scalar(select(Photo))
        return None if photo is None else (photo.width, photo.height)


def test_an_8900_pixel_square_jpeg_is_decoded_at_a_quarter_of_its_size(app, client, clerk_headers, check_in_ids):
    # Issue 17: 1.3 MB on the wire, 79 million pixels; it used to take 5 s and 700 MB of one worker.
    data = encoded(gradient(8900, 8900), quality=60)

    response = upload(client, check_in_ids[0], data, clerk_headers)

    assert response.status_code == 201, response.get_json()
    # Decoded at 2225 x 2225, then cut to the card's shape; before, 4666 x 6000 from all 79 million.
    assert response.get_json() == {"width": 1730, "height": 2225}
    assert stored_size(app) == (1730, 2225)


def test_a_jpeg_just_over_the_cap_is_decoded_at_half_its_size(app, client, clerk_headers, check_in_ids):
    # 4800 x 3600 is 17.3 million pixels: read as 2400 x 1800, cut to 1400 x 1800.
    image = photo_like(480, 360).resize((4800, 3600))
    data = encoded(image, quality=80)
    # An application segment that holds the bytes of a scan marker: the scans are counted by
    # walking the segments, so this one does not count (as an EXIF thumbnail would not).
    data = data[:2] + b"\xff\xeb\x00\x0a" + b"\xff\xda\x00\x08\xff\xc2\x00\x00" + data[2:]

    response = upload(client, check_in_ids[0], data, clerk_headers)

    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"width": 1400, "height": 1800}


def test_a_12_megapixel_phone_photo_is_decoded_whole_and_turned_upright(app, client, clerk_headers, check_in_ids):
    # 4032 x 3024 as a phone stores a portrait photo: on its side, with EXIF orientation 6.
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encoded(photo_like(1008, 756).resize((4032, 3024)), quality=90, exif=exif.tobytes())

    response = upload(client, check_in_ids[0], data, clerk_headers)

    assert response.status_code == 201, response.get_json()
    # Upright 3024 x 4032, cut to the card's 3.5 : 4.5 at full width.
    assert response.get_json() == {"width": 3024, "height": 3888}


def test_a_png_over_16_megapixels_is_refused_with_what_to_do(app, client, clerk_headers, check_in_ids):
    data = encoded(gradient(5000, 4000), "PNG")

    response = upload(client, check_in_ids[0], data, clerk_headers, name="scan.png", mimetype="image/png")

    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_photo"
    assert "too large to process: 5000 \u00d7 4000 pixels" in body["message"]
    assert "desk camera" in body["message"] and "16 megapixels" in body["message"]
    assert body["fields"]["photo"] == body["message"]
    assert stored_size(app) is None


def test_a_progressive_jpeg_over_16_megapixels_is_refused(app, client, clerk_headers, check_in_ids):
    # libjpeg keeps every coefficient of a progressive JPEG however small it decodes it
    # (240 MB for 8900 x 8900): such a file cannot be read smaller, so it is refused.
    data = encoded(gradient(5000, 4000), quality=60, progressive=True)

    response = upload(client, check_in_ids[0], data, clerk_headers)

    assert response.status_code == 422
    assert "too large to process: 5000 \u00d7 4000 pixels" in response.get_json()["message"]


def test_a_progressive_jpeg_of_ordinary_size_is_still_taken(app, client, clerk_headers, check_in_ids):
    data = encoded(photo_like(1200, 1600), quality=90, progressive=True)

    response = upload(client, check_in_ids[0], data, clerk_headers)

    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"width": 1200, "height": 1542}


def test_the_desk_page_says_why_a_too_large_photo_was_refused(app, login, booked):
    clerk = login("clerk")
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    with app.app_context():
        check_in_id = db.session.scalars(select(CheckIn.id).order_by(CheckIn.id)).first()

    response = clerk.post(f"/desk/check-ins/{check_in_id}/photo?lang=en",
                          data={"photo": (io.BytesIO(encoded(gradient(5000, 4000), "PNG")), "p.png", "image/png")},
                          content_type="multipart/form-data", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The photo is too large to process: 5000 \u00d7 4000 pixels." in page
    assert stored_size(app) is None


def test_the_desk_page_answers_a_photo_over_the_upload_limit_with_a_readable_413(app, login, booked):
    app.config["PHOTO_MAX_UPLOAD_BYTES"] = 200_000
    clerk = login("clerk")
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    with app.app_context():
        check_in_id = db.session.scalars(select(CheckIn.id).order_by(CheckIn.id)).first()

    response = clerk.post(f"/desk/check-ins/{check_in_id}/photo?lang=en",
                          data={"photo": (io.BytesIO(b"\xff" * 300_000), "p.jpg", "image/jpeg")},
                          content_type="multipart/form-data")

    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The file is too large" in page and "take it again with the desk camera" in page
