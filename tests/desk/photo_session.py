"""A session with a family checked in, photos taken and 申請書IDs recorded (shared by the photo
sheet tests here and in tests/browser, imported by this unique name)."""
from __future__ import annotations

import io

from desk_images import encoded, photo_like

from booking.extensions import db
from booking.models import Reservation
from booking.services import accounts, applications, checkin, photos
from booking.services.actor import Actor

APPLICATION_ID = "12345678901234567890123"


def session_with_photos(app, book_for, *, password: str = "pass-word-1") -> dict:
    """The world's booker and spouse checked in: the booker with a photo and a 申請書ID, the spouse
    with a photo and no 申請書ID yet. A second booking checked in without a photo."""
    first = book_for()
    from booking.services import directory

    with app.test_request_context(base_url="http://localhost"):
        other = directory.add_staff(staff_number="3001", family_name="高橋", given_name="健一",
                                    family_name_kana="タカハシ", given_name_kana="ケンイチ",
                                    unit=directory.unit_by_code("A"))
        db.session.commit()
        other_id = other.id
    second = book_for("3001", slot_index=1)
    with app.test_request_context(base_url="http://localhost"):
        clerk = accounts.ensure_user("sheet-clerk", "clerk", password=password)
        actor = Actor("page", user=clerk)
        booker, spouse = checkin.check_in(actor, db.session.get(Reservation, first.id))
        (alone,) = checkin.check_in(actor, db.session.get(Reservation, second.id))
        photos.attach_photo(actor, booker, io.BytesIO(encoded(photo_like(1200, 1600), "JPEG", quality=90)))
        photos.attach_photo(actor, spouse, io.BytesIO(encoded(photo_like(1200, 1600, seed=3), "JPEG", quality=90)))
        applications.record_application(actor, booker, {"application_id": APPLICATION_ID})
        db.session.commit()
        return {"session_id": first.session_id, "booker": booker.id, "spouse": spouse.id, "alone": alone.id,
                "other": other_id}
