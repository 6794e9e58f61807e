"""Application photos taken at the desk (rule 7: personal data).

The upload is decoded for real with Pillow (never trusting its name or type),
turned upright from its EXIF orientation, cropped to the card photo's 3.5 : 4.5
portrait and re-encoded as a bare RGB JPEG that fits the online application's
limits (480-6000 px a side, 20 KB-7 MB). Re-encoding from raw pixels drops all
metadata: EXIF (GPS included), ICC profiles, comments, XMP.

Files live under ``PHOTO_DIR`` (outside static/) with random names. File
changes follow the database transaction: a new file is removed again if the
transaction does not commit, and a replaced file is removed only once the
replacement has committed.
"""
from __future__ import annotations

import errno
import io
import os
import secrets
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageStat, UnidentifiedImageError
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from ..extensions import db
from ..localtime import utcnow
from ..memory import release_memory
from ..models import (
    Campaign,
    CheckIn,
    DeskSession,
    Photo,
    Reservation,
    ReservationPerson,
    Slot,
)
from . import audit
from .accounts import require_role
from .actor import Actor
from .database import begin_write
from .errors import DomainError, NotFound
from .slots import session_bounds

#: The card photo's shape, width : height (縦4.5cm × 横3.5cm).
RATIO_W, RATIO_H = 35, 45
MIN_SIDE, MAX_SIDE = 480, 6000
MIN_BYTES, MAX_BYTES = 20 * 1024, 7 * 1024 * 1024
#: The most pixels decoded for one photo (16 million: 48 MB of RGB). A phone's 12-megapixel photo
#: (4032 x 3024) is read whole. A bigger JPEG is read at 1/2, 1/4 or 1/8 of its size straight from
#: the file (Pillow's draft: libjpeg decodes it smaller, in a fraction of the time and memory): an
#: 8900 x 8900 JPEG becomes 2225 x 2225, still far above the application's 480 pixels. PNG and
#: WebP files cannot be read smaller, nor can JPEGs saved in several scans (progressive): libjpeg
#: keeps every coefficient of the whole picture however small it decodes it. Those are refused
#: above this size, with a message that says what to do. (issue 17: an 8900 x 8900 JPEG used to
#: take 5.2 s and 700 MB of one worker.)
MAX_DECODED_PIXELS = 16_000_000
#: What Image.open may try; the JPEG opener also reads MPO (multi-picture JPEG from phones).
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
RETENTION_RANGE = (1, 3650)
#: Photos one worker decodes at a time. On two cores more would not finish sooner, and each
#: holds up to about 150 MB while it is processed; the rest wait their turn (a second or so).
DECODERS = 2
_decoding = threading.BoundedSemaphore(DECODERS)

#: EXIF orientation → the transposition that makes the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class ProcessedPhoto:
    data: bytes
    width: int
    height: int


def _invalid(message: Any) -> DomainError:
    return DomainError("invalid_photo", message, fields={"photo": message})


def _too_large(width: int, height: int) -> DomainError:
    return _invalid(_l(
        "The photo is too large to process: %(w)s \u00d7 %(h)s pixels. Take it again with the desk "
        "camera, or choose a photo of at most %(mp)s megapixels (a phone photo as the camera saves it).",
        w=width, h=height, mp=MAX_DECODED_PIXELS // 1_000_000))


def crop_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The largest centred 3.5 : 4.5 box in a width x height image (the desk's face guide)."""
    if width * RATIO_H > height * RATIO_W:  # wider than the card: trim the sides
        crop_w, crop_h = height * RATIO_W // RATIO_H, height
    else:  # taller: trim top and bottom
        crop_w, crop_h = width, width * RATIO_H // RATIO_W
    left = (width - crop_w) // 2
    top = (height - crop_h) // 2
    return left, top, left + crop_w, top + crop_h


def process(stream: IO[bytes]) -> ProcessedPhoto:
    """Decode, orient, crop and re-encode one upload; refuse what is not a usable photo."""
    data = stream.read()
    with _decoding:
        try:
            return _process(data)
        finally:
            release_memory()


def _process(data: bytes) -> ProcessedPhoto:
    not_a_photo = _l("This file is not a photo the system can read. Take the photo again with the "
                     "camera, or choose a JPEG or PNG file.")
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 million pixels and refuses from 179 million; the limits here
            # are lower and are checked from the header, before anything is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        image, orientation = _decode(image, data)
    except DomainError:
        raise
    except Image.DecompressionBombError:
        raise _invalid(_l("The photo is too large to process. Take it again with the desk camera, or "
                          "choose a photo of at most %(mp)s megapixels.",
                          mp=MAX_DECODED_PIXELS // 1_000_000)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _invalid(not_a_photo) from None

    # Cut to the card's shape first, in the file's own orientation (a centred box stays centred
    # when turned), and turn only what is kept upright: the decoded picture is never copied whole.
    crop_w, crop_h = _card_size(image.size, orientation)
    _check_min_side(crop_w, crop_h)
    stored_w, stored_h = (crop_h, crop_w) if _turned(orientation) else (crop_w, crop_h)
    left, top = (image.width - stored_w) // 2, (image.height - stored_h) // 2
    try:
        image = image.crop((left, top, left + stored_w, top + stored_h))
        if _is_blank(image):
            raise _invalid(_l("The photo looks blank (almost one colour). Check that the camera shows the "
                              "person's face and take it again."))
        if orientation in _UPRIGHT:
            image = image.transpose(_UPRIGHT[orientation])
        if crop_h > MAX_SIDE:
            image = image.resize((MAX_SIDE * RATIO_W // RATIO_H, MAX_SIDE), Image.Resampling.LANCZOS)
        # A fresh image filled from the pixels carries no info dict: nothing of the upload's
        # metadata (EXIF with GPS, ICC profiles, comments, XMP) can reach the encoder.
        bare = _bare_rgb(image)
    except DomainError:
        raise
    except (OSError, ValueError):
        raise _invalid(not_a_photo) from None
    del image
    return _encode(bare)


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        return 1
    return value if isinstance(value, int) else 1


def _turned(orientation: int) -> bool:
    return orientation in (5, 6, 7, 8)  # a quarter turn: width and height swap


def _card_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Width and height of the card-shaped part of an upright picture stored at this size."""
    left, top, right, bottom = crop_box(*((size[1], size[0]) if _turned(orientation) else size))
    return right - left, bottom - top


def _check_min_side(crop_w: int, crop_h: int) -> None:
    if crop_w < MIN_SIDE:
        raise _invalid(_l(
            "The photo is too small: %(w)s \u00d7 %(h)s pixels once cut to the card's shape, and the "
            "application needs at least %(min)s pixels across. Take it again with the desk camera "
            "(not a screenshot or a thumbnail).", w=crop_w, h=crop_h, min=MIN_SIDE))


def _decode(image: Image.Image, data: bytes) -> tuple[Image.Image, int]:
    """The pixels and the EXIF orientation; a big JPEG decoded at the smallest scale that keeps enough.

    Only the header has been read when this is called: what is refused costs nothing."""
    width, height = image.size
    if width * height <= MAX_DECODED_PIXELS:
        image.load()  # before the orientation: a PNG may carry its EXIF after the pixels
        return image, _orientation(image)
    if image.format not in ("JPEG", "MPO") or _jpeg_scans(data) != 1:
        raise _too_large(width, height)
    orientation = _orientation(image)  # a JPEG's EXIF is in its header
    crop_w, crop_h = _card_size(image.size, orientation)
    _check_min_side(crop_w, crop_h)
    for scale in (2, 4, 8):
        if -(-width // scale) * -(-height // scale) <= MAX_DECODED_PIXELS and crop_w // scale >= MIN_SIDE:
            image.draft(image.mode, (width // scale, height // scale))
            if image.size[0] * image.size[1] > MAX_DECODED_PIXELS:
                break  # the decoder could not scale this file
            image.load()
            return image, orientation
    raise _too_large(width, height)


def _jpeg_scans(data: bytes) -> int:
    """How many scans the first picture of a JPEG has (one for a baseline JPEG, as phones save them).

    A JPEG of several scans (progressive, or one scan per colour) makes libjpeg keep every DCT
    coefficient of the whole picture in memory, however small it is decoded: 240 MB for 8900 x 8900.
    The markers are walked by their lengths, so an EXIF thumbnail's own markers are skipped."""
    pos, size, scans = 2, len(data), 0
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return scans  # damaged: the decoder will say so
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # end of the picture
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker != 0xDA:
            continue
        scans += 1
        # The scan's coded data runs to the next marker; 0xFF 0x00 is a coded 0xFF, and the
        # restart markers belong to the scan.
        while True:
            pos = data.find(b"\xff", pos)
            if pos < 0 or pos + 1 >= size:
                return scans
            following = data[pos + 1]
            if following == 0x00 or 0xD0 <= following <= 0xD7:
                pos += 2
            elif following == 0xFF:
                pos += 1
            else:
                break
    return scans


def _is_blank(image: Image.Image) -> bool:
    """A black frame from a camera not yet started, a covered lens, an empty file: one flat colour."""
    try:
        small = image.convert("L").resize((64, 82))
    except (OSError, ValueError):
        return False
    return ImageStat.Stat(small).stddev[0] < 3


def _bare_rgb(image: Image.Image) -> Image.Image:
    """The picture as a new RGB image on white (transparent parts become white), with no metadata."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256).convert("L")
    bare = Image.new("RGB", image.size, (255, 255, 255))
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        bare.paste(rgba, mask=rgba.getchannel("A"))
    else:
        bare.paste(image)  # converted to RGB on the way when it is not
    return bare


def _encode(image: Image.Image) -> ProcessedPhoto:
    def jpeg(img: Image.Image, quality: int, subsampling: int = 2) -> bytes:
        buffer = io.BytesIO()
        img.save(buffer, format="JPEG", quality=quality, subsampling=subsampling, optimize=True)
        return buffer.getvalue()

    data = jpeg(image, 90)
    for quality in (85, 80, 70, 60):
        if len(data) <= MAX_BYTES:
            break
        data = jpeg(image, quality)
    while len(data) > MAX_BYTES and image.width > MIN_SIDE:
        width = max(MIN_SIDE, int(image.width * 0.8))
        image = image.resize((width, width * RATIO_H // RATIO_W), Image.Resampling.LANCZOS)
        data = jpeg(image, 80)
    if len(data) < MIN_BYTES:
        data = jpeg(image, 97, subsampling=0)
    if len(data) < MIN_BYTES:
        raise _invalid(_l("The photo looks blank (almost one colour). Check that the camera shows the "
                          "person's face and take it again."))
    return ProcessedPhoto(data, image.width, image.height)


# --- storing -----------------------------------------------------------------------


def photo_dir() -> Path:
    path = Path(current_app.config["PHOTO_DIR"])
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def path_of(photo: Photo) -> Path:
    return photo_dir() / photo.storage_name


_NEW_FILES = "photos.written"
_REPLACED_FILES = "photos.replaced"


@event.listens_for(Session, "after_commit")
def _commit_files(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)
    for path in session.info.pop(_REPLACED_FILES, []):
        _unlink(path)


@event.listens_for(Session, "after_transaction_end")
def _undo_files(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    # Anything still listed was written by a transaction that did not commit.
    for path in session.info.pop(_NEW_FILES, []):
        _unlink(path)
    session.info.pop(_REPLACED_FILES, None)


#: Errors of a photo folder that cannot take the file: the disk (or the user's quota) is full,
#: or it is mounted read-only. The desk is told so, plainly, rather than getting a 500.
_STORAGE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def _write_file(temporary: Path, target: Path, data: bytes) -> None:
    """Write a photo to a temporary name and move it into place; nothing is left on failure."""
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, target)
        except BaseException:
            _unlink(temporary)
            raise
    except OSError as error:
        if error.errno not in _STORAGE_ERRORS:
            raise
        current_app.logger.error("photo folder cannot take a file: %s", error)
        raise DomainError("photo_storage_full", _l(
            "The photo could not be saved: the server's storage for photos is full or cannot be "
            "written. The check-in itself is kept. Tell the system administrator, then take the "
            "photo again.")) from error


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False


def retention_deadline(desk_session: DeskSession, days: int) -> datetime:
    _start, end = session_bounds(desk_session.date, desk_session.start_time, desk_session.end_time)
    return end + timedelta(days=days)


def _session_of(check_in: CheckIn) -> DeskSession:
    return check_in.person.reservation.slot.desk_session


#: Only the desk and the My Number section take and see photos (rule 7).
PHOTO_ROLES = ("clerk", "admin")


def attach_photo(actor: Actor, check_in: CheckIn, stream: IO[bytes], *, now: datetime | None = None) -> Photo:
    """Process an upload and store it as the person's photo; a retake replaces the earlier one.

    One audit event: ``photo.take``, or ``photo.retake`` for a retake."""
    require_role(actor, *PHOTO_ROLES)
    now = now or utcnow()
    processed = process(stream)
    begin_write()
    # Lock the check-in so that two retakes at once cannot both insert a photo row.
    check_in = db.session.scalars(
        select(CheckIn).where(CheckIn.id == check_in.id).with_for_update()
    ).one()
    desk_session = _session_of(check_in)
    days = desk_session.campaign.photo_retention_days

    folder = photo_dir()
    name = f"{secrets.token_hex(16)}.jpg"
    target = folder / name
    temporary = folder / f".{name}.part"
    _write_file(temporary, target, processed.data)
    db.session.info.setdefault(_NEW_FILES, []).append(target)

    photo = db.session.scalar(select(Photo).where(Photo.check_in_id == check_in.id))
    action = "photo.retake" if photo is not None else "photo.take"
    if photo is None:
        photo = Photo(check_in_id=check_in.id)
        db.session.add(photo)
    else:
        db.session.info.setdefault(_REPLACED_FILES, []).append(folder / photo.storage_name)
    photo.storage_name = name
    photo.width = processed.width
    photo.height = processed.height
    photo.byte_size = len(processed.data)
    photo.taken_at = now
    photo.delete_after = retention_deadline(desk_session, days)
    db.session.flush()
    audit.record(action, actor=actor, target_type="check_in", target_id=check_in.id,
                 width=processed.width, height=processed.height, bytes=len(processed.data))
    return photo


def photo_of(check_in_id: int) -> Photo:
    photo = db.session.scalar(select(Photo).where(Photo.check_in_id == check_in_id))
    if photo is None:
        raise NotFound(_l("No photo has been taken for this person."))
    return photo


def read_photo(actor: Actor, check_in_id: int, *, download: bool = False) -> tuple[Photo, bytes]:
    """The stored JPEG, for a clerk or admin; every view and download is audited (rule 7)."""
    if actor.user is None or actor.user.role not in PHOTO_ROLES:
        raise DomainError("forbidden", _l("Only desk clerks and the My Number section may see photos."))
    photo = photo_of(check_in_id)
    try:
        data = path_of(photo).read_bytes()
    except FileNotFoundError:
        raise NotFound(_l("The photo file is missing. Take the photo again.")) from None
    audit.record("photo.download" if download else "photo.view", actor=actor, target_type="check_in",
                 target_id=check_in_id)
    return photo, data


# --- retention -----------------------------------------------------------------------


def set_retention(actor: Actor, campaign: Campaign, days: int) -> int:
    """Change a campaign's retention; the deadlines of photos already taken move with it."""
    require_role(actor, "admin")
    low, high = RETENTION_RANGE
    if not isinstance(days, int) or not low <= days <= high:
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"photo_retention_days": _l("Enter a number of days from %(low)s to %(high)s.",
                                                             low=low, high=high)})
    previous = campaign.photo_retention_days
    campaign.photo_retention_days = days
    photos = db.session.execute(
        select(Photo, DeskSession)
        .join(Photo.check_in).join(CheckIn.person).join(ReservationPerson.reservation)
        .join(Reservation.slot).join(Slot.desk_session)
        .where(Reservation.campaign_id == campaign.id)
    ).all()
    for photo, desk_session in photos:
        photo.delete_after = retention_deadline(desk_session, days)
    db.session.flush()
    audit.record("photo.retention", actor=actor, target_type="campaign", target_id=campaign.id,
                 previous_days=previous, days=days, photos=len(photos))
    return len(photos)


@dataclass(frozen=True)
class PurgeResult:
    photos: int
    orphan_files: int


def purge_expired(actor: Actor, *, now: datetime | None = None,
                  orphan_age: timedelta = timedelta(hours=6)) -> PurgeResult:
    """Delete photos past their retention deadline, files first, then rows.

    Safe to run again and from cron: a file already gone is fine, and a row
    left behind by an interrupted run is deleted next time. Files with no row
    (left by a crash between writing and committing) are removed once they are
    older than ``orphan_age``, so an upload in flight is never touched.
    """
    now = now or utcnow()
    expired = db.session.scalars(select(Photo).where(Photo.delete_after <= now).order_by(Photo.id)).all()
    folder = photo_dir()
    for photo in expired:
        _unlink(folder / photo.storage_name)
        db.session.delete(photo)
    db.session.flush()
    if expired:
        audit.record("photo.purge", actor=actor, target_type="photo", photos=len(expired))

    known = set(db.session.scalars(select(Photo.storage_name)))
    cutoff = now.timestamp() - orphan_age.total_seconds()
    orphans = 0
    for entry in folder.iterdir():
        if not entry.is_file() or entry.name in known:
            continue
        if entry.stat().st_mtime < cutoff and _unlink(entry):
            orphans += 1
    return PurgeResult(len(expired), orphans)
