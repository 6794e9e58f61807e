"""A populated database for the fault and personal-data tests (imported by this unique name)."""
from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

from booking.extensions import db
from booking.services import accounts, applications, checkin, directory, photos, reservations
from booking.services.actor import Actor


def photo_bytes(seed: int = 3) -> bytes:
    """A photo-like JPEG that the desk's photo processing accepts."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((700, 900)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(80):
        x, y, r = rng.randrange(700), rng.randrange(900), rng.randrange(5, 80)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = Image.blend(image, Image.effect_noise((700, 900), 40).convert("RGB"), 0.25)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class Populated:
    checked_in_id: int      # the world's staff member and spouse, checked in, with a photo
    booked_ids: list[int]   # two other staff, booked
    cancelled_id: int       # a third, cancelled
    check_in_ids: list[int]
    photo_name: str
    clerk_id: int


def populate(app, world) -> Populated:
    world.add_staff(3, start=3000)
    with app.test_request_context(base_url="http://localhost"):
        clerk = accounts.ensure_user("desk-clerk", "clerk")
        staff = directory.staff_by_number(world.staff_number)
        first = reservations.reserve(world.slot_ids[0], staff, dependent_ids=[world.dependent_id])
        db.session.commit()
        rows = checkin.check_in(Actor("page", user=clerk), first)
        db.session.commit()
        photo = photos.attach_photo(Actor("page", user=clerk), rows[0], io.BytesIO(photo_bytes()))
        applications.record_application(Actor("page", user=clerk), rows[0],
                                        {"application_id": "12345678901234567890123"}, submit=True)
        db.session.commit()
        booked = []
        for number in ("3000", "3001"):
            booked.append(reservations.reserve(world.slot_ids[1], directory.staff_by_number(number)).id)
        gone = reservations.reserve(world.slot_ids[2], directory.staff_by_number("3002"))
        db.session.commit()
        reservations.cancel(gone)
        db.session.commit()
        return Populated(first.id, booked, gone.id, [r.id for r in rows], photo.storage_name, clerk.id)
