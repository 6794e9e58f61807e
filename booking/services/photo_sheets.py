"""A session's photos for the applications: a print sheet for paper forms (4.5 × 3.5 cm each)
and a ZIP of JPEGs named by 申請書ID for online submission.

Both hand out many faces at once, so each is one audited act (rule 7): the sheet's photos are
read by the same request that writes the page (embedded, not fetched one by one), and the ZIP
is built in memory from the files read once.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Application, CheckIn, DeskSession, Photo, ReservationPerson, Slot
from . import audit
from .accounts import require_role
from .actor import Actor
from .photos import PHOTO_ROLES, path_of


@dataclass(frozen=True)
class SessionPhoto:
    check_in_id: int
    name: str
    kana: str
    application_id: str | None
    data: bytes | None  # None: no photo taken, or its file is missing


def _rows(desk_session: DeskSession) -> list[SessionPhoto]:
    """Everyone checked in at the session, in slot and name order, with their photo if any."""
    check_ins = db.session.scalars(
        select(CheckIn).join(CheckIn.person).join(ReservationPerson.slot)
        .where(Slot.desk_session_id == desk_session.id)
        .options(joinedload(CheckIn.person).joinedload(ReservationPerson.reservation),
                 joinedload(CheckIn.person).joinedload(ReservationPerson.dependent))
        .order_by(Slot.starts_at, ReservationPerson.id)).unique().all()
    ids = [c.id for c in check_ins]
    photos = {p.check_in_id: p for p in db.session.scalars(select(Photo).where(Photo.check_in_id.in_(ids)))}
    application_ids: dict[int, str | None] = {
        check_in_id: application_id for check_in_id, application_id in db.session.execute(
            select(Application.check_in_id, Application.application_id).where(Application.check_in_id.in_(ids)))}
    rows = []
    for check_in in check_ins:
        photo = photos.get(check_in.id)
        data = None
        if photo is not None:
            try:
                data = path_of(photo).read_bytes()
            except FileNotFoundError:
                data = None
        rows.append(SessionPhoto(check_in.id, check_in.person.name, check_in.person.kana,
                                 application_ids.get(check_in.id), data))
    return rows


def print_sheet(actor: Actor, desk_session: DeskSession) -> list[SessionPhoto]:
    """The photos of everyone checked in at the session, for the print page (one audit event)."""
    require_role(actor, *PHOTO_ROLES)
    rows = _rows(desk_session)
    audit.record("photo.session_print", actor=actor, target_type="desk_session", target_id=desk_session.id,
                 photos=sum(1 for row in rows if row.data is not None))
    return rows


def zip_name(desk_session: DeskSession) -> str:
    return f"photos-{desk_session.date.isoformat()}-session{desk_session.id}.zip"


def session_zip(actor: Actor, desk_session: DeskSession) -> bytes:
    """A ZIP of the session's photos as ``<申請書ID>.jpg``; whoever has a photo but no 申請書ID yet,
    or no photo, is listed in README.txt inside it, never silently left out (one audit event)."""
    require_role(actor, *PHOTO_ROLES)
    rows = _rows(desk_session)
    named = [row for row in rows if row.data is not None and row.application_id]
    without_id = [row for row in rows if row.data is not None and not row.application_id]
    without_photo = [row for row in rows if row.data is None]
    lines = [_("Photos of the session on %(day)s at %(venue)s, named by 申請書ID.",
               day=desk_session.date.isoformat(), venue=desk_session.venue.name),
             _("%(count)s photos in this file.", count=len(named)), ""]
    if without_id:
        lines.append(_("Photo taken but no 申請書ID recorded (not in this file):"))
        lines += [f"  {row.name}（{row.kana}） check-in {row.check_in_id}" for row in without_id]
        lines.append("")
    if without_photo:
        lines.append(_("Checked in without a photo (babies under 1 need none):"))
        lines += [f"  {row.name}（{row.kana}）" + (f" {row.application_id}" if row.application_id else "")
                  for row in without_photo]
        lines.append("")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for row in named:
            assert row.data is not None
            archive.writestr(f"{row.application_id}.jpg", row.data)
        # CRLF and a BOM so that Windows Notepad, which the section's PCs open .txt files with,
        # shows the Japanese names.
        archive.writestr("README.txt", ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    audit.record("photo.session_download", actor=actor, target_type="desk_session", target_id=desk_session.id,
                 photos=len(named), without_application_id=len(without_id))
    return buffer.getvalue()
