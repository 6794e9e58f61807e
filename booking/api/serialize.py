"""Records as the API's JSON objects."""
from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from flask import url_for

from ..localtime import TOKYO
from ..models import (
    Campaign,
    Dependent,
    DeskSession,
    OutboxMessage,
    Reservation,
    Slot,
    Staff,
    Unit,
    Venue,
    WaitlistEntry,
)
from ..services.confirmations import manage_url
from ..services.reservations import manage_token


class SlotColumns(Protocol):
    """A row of a query that selected a slot's columns rather than the Slot."""

    id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    seats_taken: int


def instant(value: datetime) -> str:
    """ISO 8601 with the Tokyo offset, as bookers and clerks read it."""
    return value.astimezone(TOKYO).isoformat()


def unit(u: Unit) -> dict:
    return {"id": u.id, "code": u.code, "name": u.name, "parent_code": u.parent.code if u.parent else None}


def venue_brief(v: Venue) -> dict:
    return {"id": v.id, "name": v.name, "address": v.address}


def venue(v: Venue) -> dict:
    return {**venue_brief(v), "unit_code": v.unit.code if v.unit else None, "notes": v.notes}


def dependent(d: Dependent) -> dict:
    return {
        "id": d.id,
        "family_name": d.family_name,
        "given_name": d.given_name,
        "family_name_kana": d.family_name_kana,
        "given_name_kana": d.given_name_kana,
        "relation": d.relation,
        "card_status": d.card_status,
        "birth_date": d.birth_date.isoformat() if d.birth_date else None,
        "municipality_code": d.municipality_code,
        **card_dates(d),
    }


def card_dates(person: Staff | Dependent) -> dict:
    """The card's finer state beside card_status (API.md: new fields beside it)."""

    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "card_stage": person.card_stage_now,
        "card_stage_on": day(person.card_stage_since),
        "card_returned_on": day(person.card_returned_now),
        "card_expires_on": day(person.card_expires_on),
        "certificates_expire_on": day(person.certificates_expire_on),
    }


def card(person: Staff | Dependent, staff: Staff, delivery: str | None) -> dict:
    return {
        "staff_number": staff.staff_number,
        "dependent_id": person.id if isinstance(person, Dependent) else None,
        "card_status": person.card_status,
        **card_dates(person),
        "delivery": delivery,
    }


def campaign(c: Campaign) -> dict:
    return {
        "id": c.id,
        "title": c.title,
        "booking_opens_at": instant(c.booking_opens_at),
        "booking_closes_at": instant(c.booking_closes_at),
        "published": c.is_published,
        "what_to_bring": c.what_to_bring,
        "cutoff_minutes": c.cutoff_minutes,
        "allows_single_photo_id_with_pin": c.allows_single_photo_id_with_pin,
        "mailing_municipality_codes": [m.code for m in c.mailing_municipalities],
        "reminder_minutes_before": c.reminder_minutes_before,
        "contact_phone": c.contact_phone,
        "no_show_grace_minutes": c.no_show_grace_minutes,
        "waitlist_offer_minutes": c.waitlist_offer_minutes,
        "desk_offline_keep_minutes": c.desk_offline_keep_minutes,
    }


def slot(s: Slot) -> dict:
    return {
        "id": s.id,
        "starts_at": instant(s.starts_at),
        "ends_at": instant(s.ends_at),
        "capacity": s.capacity,
        "remaining": s.remaining,
    }


def slot_row(row: SlotColumns) -> dict:
    """slot() from a row of (id, starts_at, ends_at, capacity, seats_taken) columns."""
    return {
        "id": row.id,
        "starts_at": instant(row.starts_at),
        "ends_at": instant(row.ends_at),
        "capacity": row.capacity,
        "remaining": max(row.capacity - row.seats_taken, 0),
    }


def session(s: DeskSession, slots: list[dict] | None = None) -> dict:
    """A session with its slots; ``slots`` already serialised, or taken from ``s.slots``."""
    return {
        "id": s.id,
        "venue": venue_brief(s.venue),
        "date": s.date.isoformat(),
        "start_time": s.start_time.strftime("%H:%M"),
        "end_time": s.end_time.strftime("%H:%M"),
        "slot_minutes": s.slot_minutes,
        "desks": s.desks,
        "slots": slots if slots is not None else [slot(x) for x in s.slots],
    }


def reservation(r: Reservation) -> dict:
    token = manage_token(r)
    return {
        "id": r.id,
        "code": r.code,
        "status": r.status,
        "channel": r.channel,
        "slot": {
            "id": r.slot.id,
            "starts_at": instant(r.slot.starts_at),
            "ends_at": instant(r.slot.ends_at),
            "venue": venue_brief(r.slot.desk_session.venue),
        },
        # Each person's own time: a party larger than the first slot continues in the next ones.
        "people": [{"kind": p.kind, "name": p.name, "starts_at": instant(p.slot.starts_at)}
                   for p in sorted(r.people, key=lambda p: (p.slot.starts_at, p.kind != "staff", p.id))],
        "manage_token": token,
        "manage_url": manage_url(r),
        "ics_url": url_for("public.calendar", token=token, _external=True),
        "qr_url": url_for("public.qr", token=token, _external=True),
    }


def message(m: OutboxMessage) -> dict:
    """A message as the API lists it: never its text."""
    return {
        "id": m.id,
        "kind": m.kind,
        "to": m.to_address,
        "status": m.status,
        "attempts": m.attempts,
        "sent_at": instant(m.sent_at) if m.sent_at else None,
        "last_error": m.last_error or None,
        "created_at": instant(m.created_at),
    }


def waitlist_entry(entry: WaitlistEntry) -> dict:
    """A place on a waiting list; ``token`` opens it (and accepts its offer)."""
    from ..services import waitlist

    return {
        "id": entry.id,
        "token": waitlist.entry_token(entry),
        "session_id": entry.desk_session_id,
        "campaign_id": entry.campaign_id,
        "status": entry.status,
        "place": waitlist.place(entry),
        "seats": entry.seats,
        "include_staff": entry.include_staff,
        "dependent_ids": list(entry.dependent_ids),
        "created_at": instant(entry.created_at),
        "offer": None if entry.status != "offered" else {
            "slot_id": entry.offer_slot_id,
            "starts_at": instant(entry.offer_slot.starts_at) if entry.offer_slot else None,
            "expires_at": instant(entry.offer_expires_at) if entry.offer_expires_at else None,
        },
        "reservation_id": entry.reservation_id,
    }
