"""Reminders before a booking (issue 13): per campaign, ``reminder_minutes_before`` its start, or by
default the day before at noon, Tokyo time. None for a booking made after that moment (it was just
confirmed), never for a cancelled one, and exactly once: the outbox row's ``dedupe_key``
(``reminder:<reservation id>``) is unique, so a second run, here or on another worker, adds nothing.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..localtime import TOKYO, at_tokyo, utcnow
from ..models import Campaign, Reservation, Slot
from . import outbox

NOON = time(12, 0)


def reminder_at(starts_at: datetime, minutes_before: int | None) -> datetime:
    """When the reminder of a booking starting at ``starts_at`` is due."""
    if minutes_before is None:
        day_before = starts_at.astimezone(TOKYO).date() - timedelta(days=1)
        return at_tokyo(day_before, NOON)
    return starts_at - timedelta(minutes=minutes_before)


def queue_due(now: datetime | None = None) -> int:
    """Queue the reminders due by ``now``; returns how many were queued."""
    now = now or utcnow()
    longest = db.session.scalar(select(func.max(Campaign.reminder_minutes_before))) or 0
    horizon = now + timedelta(minutes=max(longest, 36 * 60))
    candidates = db.session.scalars(
        select(Reservation)
        .join(Slot, Reservation.slot_id == Slot.id)
        .options(joinedload(Reservation.campaign), joinedload(Reservation.staff), joinedload(Reservation.slot))
        .where(Reservation.status == "booked", Slot.starts_at > now, Slot.starts_at <= horizon)
        .order_by(Slot.starts_at, Reservation.id)
    ).unique()
    queued = 0
    for reservation in candidates:
        due = reminder_at(reservation.slot.starts_at, reservation.campaign.reminder_minutes_before)
        if due > now or reservation.created_at >= due:
            continue
        if outbox.enqueue_once("reminder", reservation, f"reminder:{reservation.id}", now=now):
            queued += 1
    return queued
