"""The desk's queued actions: check-ins, photos and application records made on a device, perhaps
offline, and sent later, in order, perhaps more than once.

Each action carries an id made on the device. The first arrival of an id is applied and its
answer kept (DeskAction); any later arrival of the same id gets that answer again and changes
nothing. What the clerk must decide is answered, never dropped: a booking cancelled or moved
while the desk was offline is a ``conflict``; a person another desk checked in already is one
check-in and a ``note``, on that check-in and in the answer.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..formatting import clock
from ..localtime import TOKYO, utcnow
from ..models import CheckIn, DeskAction, DeskSession, Photo, Reservation, ReservationPerson
from . import applicants, applications, checkin, photos, tokens
from .accounts import require_role
from .actor import Actor
from .database import begin_write
from .errors import DomainError, status_for

KINDS = ("check_in", "photo", "application")
#: Ids made on the device: a UUID, or anything of these characters.
_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: How far back a device's clock is believed; an older or a future time becomes the arrival time.
MAX_OFFLINE = timedelta(days=1)


@dataclass
class Action:
    """One action as the device sent it."""

    action_id: str
    device_id: str
    kind: str
    made_at: datetime | None = None
    reservation_id: int | None = None
    #: The slot the device saw the booking in: another one now means it was moved meanwhile.
    slot_id: int | None = None
    people: list[int] = field(default_factory=list)
    person_id: int | None = None
    photo: IO[bytes] | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    submit: bool = False


def check_shape(action: Action) -> None:
    """Refuse a malformed action before anything is looked up (a 400 for the device, not an answer)."""
    problems = {}
    if not _ID.match(action.action_id or ""):
        problems["action_id"] = _l("An id made on the device (8 to 64 letters, digits, - or _).")
    if not _ID.match(action.device_id or ""):
        problems["device_id"] = _l("An id made on the device (8 to 64 letters, digits, - or _).")
    if action.kind not in KINDS:
        problems["kind"] = _l("One of check_in, photo, application.")
    elif action.kind == "check_in" and action.reservation_id is None:
        problems["reservation_id"] = _l("Missing.")
    elif action.kind != "check_in" and action.person_id is None:
        problems["person_id"] = _l("Missing.")
    if problems:
        raise DomainError("invalid", _l("Check the highlighted fields."), fields=problems)


def answered(action_id: str) -> DeskAction | None:
    return db.session.scalar(select(DeskAction).where(DeskAction.action_id == action_id))


def apply(actor: Actor, desk_session: DeskSession, action: Action, *, now: datetime | None = None) -> DeskAction:
    """Apply the action once; a retry of an id already answered gets the first answer back."""
    require_role(actor, *checkin.DESK_ROLES)
    assert actor.user is not None
    check_shape(action)
    now = now or utcnow()
    begin_write()
    earlier = answered(action.action_id)
    if earlier is not None:
        return earlier
    made = action.made_at if action.made_at and now - MAX_OFFLINE <= action.made_at <= now else now
    for attempt in (1, 2):
        try:
            outcome, answer = _APPLY[action.kind](actor, desk_session, action, made)
            break
        except DomainError as error:
            if status_for(error.code) >= 500:
                # The server cannot take it now (a full photo disk): not an answer to keep, so that
                # the tablet keeps the action (and its photo) and sends it again.
                db.session.rollback()
                raise
            # The services roll back on a lost race: start again and keep only the answer.
            db.session.rollback()
            begin_write()
            earlier = answered(action.action_id)
            if earlier is not None:
                return earlier
            if error.code == "already_checked_in" and attempt == 1:
                continue  # another desk's check-in committed meanwhile: now it is seen, and noted
            outcome, answer = "conflict", {"code": error.code, "message": str(error.message),
                                           "fields": {k: str(v) for k, v in error.fields.items()} or None}
            break
    record = DeskAction(
        action_id=action.action_id, device_id=action.device_id, kind=action.kind, user_id=actor.user.id,
        reservation_id=answer.pop("_reservation_id", action.reservation_id), made_at=made, received_at=now,
        outcome=outcome,
        answer={"action_id": action.action_id, "kind": action.kind, "outcome": outcome, **answer},
    )
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        # The same id arrived twice at once (PostgreSQL): the one that committed first answers.
        db.session.rollback()
        earlier = answered(action.action_id)
        if earlier is None:
            raise
        return earlier
    return record


# --- the three kinds ----------------------------------------------------------------------


def _check_in_out(record: CheckIn) -> dict:
    return {"id": record.id, "person_id": record.reservation_person_id,
            "checked_in_at": record.checked_in_at.astimezone(TOKYO).isoformat(),
            "clerk": checkin.clerk_label(record.clerk), "note": record.note}


def _check_in(actor: Actor, desk_session: DeskSession, action: Action, made: datetime) -> tuple[str, dict]:
    assert action.reservation_id is not None
    reservation = checkin.reservation_by_id(action.reservation_id)
    base = {"reservation_id": reservation.id, "_reservation_id": reservation.id}
    if reservation.status == "cancelled":
        return "conflict", {**base, "code": "cancelled", "message": str(_l(
            "This reservation was cancelled while the desk was offline. Nobody was checked in: "
            "if there is room, seat the person as a walk-in."))}
    if action.slot_id is not None and reservation.slot_id != action.slot_id:
        return "conflict", {**base, "code": "moved", "message": str(_l(
            "This reservation was moved to %(when)s while the desk was offline. Nobody was checked in: "
            "open it to decide.", when=reservation.slot.starts_at.astimezone(TOKYO).strftime("%m/%d %H:%M")))}
    if reservation.slot.desk_session_id != desk_session.id:
        return "conflict", {**base, "code": "other_session", "message": str(_l(
            "This reservation is for another session (%(when)s). Nobody was checked in: open that "
            "session's desk to check it in.",
            when=reservation.slot.starts_at.astimezone(TOKYO).strftime("%m/%d %H:%M")))}
    people = [p.id for p in reservation.people]
    wanted = action.people or people
    done = checkin.check_ins_of(reservation)
    fresh = [p for p in wanted if p not in done]
    rows = checkin.check_in(actor, reservation, present=fresh, now=made) if fresh else []
    twice = [done[p] for p in wanted if p in done]
    for record in twice:
        # The other desk's clerk sees it on their roster; this desk sees it in the answer.
        line = str(_l("Also checked in on another desk at %(time)s by %(clerk)s.",
                      time=clock(made.astimezone(TOKYO)), clerk=checkin.clerk_label(actor.user)))
        record.note = f"{record.note}\n{line}".strip()
    db.session.flush()
    answer: dict[str, Any] = {**base, "check_ins": [_check_in_out(r) for r in rows + twice]}
    if not twice:
        return "applied", answer
    first = twice[0]
    answer.update(code="already_checked_in", message=str(_l(
        "%(names)s had already been checked in by another desk (at %(time)s by %(clerk)s): one check-in kept.",
        names="、".join(r.person.name for r in twice), time=clock(first.checked_in_at.astimezone(TOKYO)),
        clerk=checkin.clerk_label(first.clerk))))
    return "note", answer


def _check_in_of(person_id: int) -> CheckIn:
    record = db.session.scalar(select(CheckIn).where(CheckIn.reservation_person_id == person_id))
    if record is None:
        person = db.session.get(ReservationPerson, person_id)
        raise DomainError("not_checked_in", _l(
            "%(name)s is not checked in (the check-in was refused), so this was not saved.",
            name=person.name if person is not None else "?"))
    return record


def _photo(actor: Actor, desk_session: DeskSession, action: Action, made: datetime) -> tuple[str, dict]:
    assert action.person_id is not None
    record = _check_in_of(action.person_id)
    if action.photo is None:
        raise DomainError("invalid_photo", _l("Take a photo or choose a photo file first."))
    photo = photos.attach_photo(actor, record, action.photo, now=made)
    return "applied", {"_reservation_id": record.person.reservation_id, "person_id": action.person_id,
                       "check_in_id": record.id, "width": photo.width, "height": photo.height}


def _application(actor: Actor, desk_session: DeskSession, action: Action, made: datetime) -> tuple[str, dict]:
    assert action.person_id is not None
    record = _check_in_of(action.person_id)
    _application_row, assessment = applications.record_application(actor, record, action.changes,
                                                                   submit=action.submit)
    return "applied", {"_reservation_id": record.person.reservation_id, "person_id": action.person_id,
                       "check_in_id": record.id, "delivery": assessment.delivery,
                       "message": str(applications.delivery_sentence(assessment))}


_APPLY: dict[str, Callable[[Actor, DeskSession, Action, datetime], tuple[str, dict]]] = {
    "check_in": _check_in, "photo": _photo, "application": _application,
}


# --- what the device keeps -------------------------------------------------------------------


def roster(desk_session: DeskSession) -> list[dict]:
    """The session's bookings with what the desk needs offline: people, times, check-ins and notes."""
    reservations = checkin.session_reservations(desk_session)
    ids = [r.id for r in reservations] or [-1]
    check_ins = {c.reservation_person_id: c for c in db.session.scalars(
        select(CheckIn).options(joinedload(CheckIn.clerk)).join(CheckIn.person)
        .where(ReservationPerson.reservation_id.in_(ids)))}
    with_photo = set(db.session.scalars(
        select(CheckIn.reservation_person_id).join(Photo, Photo.check_in_id == CheckIn.id)
        .join(CheckIn.person).where(ReservationPerson.reservation_id.in_(ids))))
    rows = []
    for reservation in reservations:
        rows.append(_roster_row(reservation, desk_session, check_ins, with_photo))
    return rows


def _roster_row(reservation: Reservation, desk_session: DeskSession, check_ins: dict[int, CheckIn],
                with_photo: set[int]) -> dict:
    staff = reservation.staff
    people = []
    for person in reservation.people:
        record = check_ins.get(person.id)
        birth_date = person.dependent.birth_date if person.dependent is not None else None
        people.append({
            "id": person.id, "name": person.name, "kana": person.kana, "kind": person.kind,
            # What the application panel asks, as the online one does (services.applications.assess):
            # the age group of a dependent without a birth date, a representative for a child,
            # the old card of a renewal.
            "asks_age_group": person.dependent is not None and birth_date is None,
            "minor": birth_date is not None and applicants.age_on(birth_date, desk_session.date) < 15,
            "is_renewal": (person.dependent or staff).card_status == "received",
            "time": clock(person.slot.starts_at.astimezone(TOKYO)),
            "notices": [str(n.text) for n in applicants.notices(person.dependent, desk_session.date)],
            "check_in": ({**_check_in_out(record), "photo": person.id in with_photo}
                         if record is not None else None),
        })
    return {
        "id": reservation.id, "code": tokens.format_code(reservation.code), "slot_id": reservation.slot_id,
        #: The SHA-256 of the token in the booking's QR code (as the server keeps it): the tablet
        #: finds a scanned booking offline without holding any token itself.
        "qr": reservation.manage_token_hash,
        "time": clock(reservation.slot.starts_at.astimezone(TOKYO)), "status": reservation.status,
        "name": staff.name, "kana": staff.kana, "unit": staff.unit.name, "people": people,
    }
