"""A chief's calendar subscription: the sessions at their venues, by a secret URL.

Calendar apps cannot sign in, so the URL itself is the credential: an HMAC
of the user and a nonce (tokens.url_token), of which only a SHA-256 is kept.
Rotating the nonce revokes the old URL. The feed shows sessions and counts,
never names.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from icalendar import Calendar, Event, vText
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..localtime import TOKYO, at_tokyo, utcnow
from ..models import CalendarFeed, Campaign, DeskSession, User, Venue
from . import audit, reports, tokens
from .actor import Actor
from .confirmations import add_timezones
from .errors import DomainError


def _token(feed: CalendarFeed) -> str:
    return tokens.url_token("calendar-feed", feed.user_id, feed.nonce)


def feed_for(user: User, *, rotate: bool = False) -> CalendarFeed:
    """The user's feed, created on first use; ``rotate`` gives it a new URL and revokes the old one."""
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if feed is None:
        feed = CalendarFeed(user_id=user.id)
        db.session.add(feed)
        rotate = True
    if rotate:
        feed.nonce = tokens.new_nonce()
        feed.token_hash = tokens.digest(_token(feed))
        feed.created_at = utcnow()
    db.session.flush()
    return feed


def rotate(actor: Actor) -> CalendarFeed:
    """A new URL for the acting user's feed; the old one stops working at once."""
    if actor.user is None:
        raise DomainError("forbidden", _l("Your account may not do this."))
    feed = feed_for(actor.user, rotate=True)
    audit.record("calendar_feed.rotate", actor=actor, target_type="user", target_id=actor.user.id)
    return feed


def feed_url(feed: CalendarFeed) -> str:
    return url_for("chiefs.calendar_feed", token=_token(feed), _external=True)


def user_for_token(token: str) -> User | None:
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == tokens.digest(token or "")))
    if feed is None or not feed.user.is_active or feed.user.role not in ("chief", "admin"):
        return None
    return feed.user


def calendar_for(user: User, unit_ids: set[int] | None, *, today: date, now: datetime | None = None) -> bytes:
    """Published sessions at venues of the user's units (all for an admin), from 60 days back."""
    now = now or utcnow()
    query = (
        select(DeskSession)
        .join(Campaign, DeskSession.campaign_id == Campaign.id)
        .join(Venue, DeskSession.venue_id == Venue.id)
        .options(joinedload(DeskSession.venue), joinedload(DeskSession.campaign))
        .where(Campaign.is_published.is_(True), DeskSession.date >= today - timedelta(days=60))
        .order_by(DeskSession.date, DeskSession.start_time)
    )
    if unit_ids is not None:
        query = query.where(Venue.unit_id.in_(unit_ids))
    sessions = list(db.session.scalars(query).unique())
    lines = {line.session.id: line for line in reports.session_lines(unit_ids)} if sessions else {}
    host = urlsplit(current_app.config.get("PUBLIC_BASE_URL") or "http://outreach-desk.invalid").hostname

    calendar = Calendar()
    calendar.add("prodid", "-//Outreach Desk//Desk sessions//JA")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("My Number card desks"))
    calendar.add("x-wr-timezone", "Asia/Tokyo")
    for session in sessions:
        start = at_tokyo(session.date, session.start_time)
        end = at_tokyo(session.date, session.end_time)
        if end <= start:  # an end before the start means the next day (DeskSession.date)
            end += timedelta(days=1)
        event = Event()
        event.add("uid", f"desk-session-{session.id}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", start.astimezone(TOKYO))
        event.add("dtend", end.astimezone(TOKYO))
        event.add("summary", _("My Number card desk: %(venue)s", venue=session.venue.name))
        event.add("location", vText(f"{session.venue.name}, {session.venue.address}"))
        line = lines.get(session.id)
        description = [session.campaign.title]
        if line is not None:
            description.append(_("Seats taken: %(taken)s / %(capacity)s", taken=line.taken, capacity=line.capacity))
            description.append(_("Booked from your units: %(n)s", n=line.people))
        description.append(url_for("chiefs.session_roster", session_id=session.id, _external=True))
        event.add("description", "\n".join(description))
        event.add("status", "CANCELLED" if session.is_cancelled else "CONFIRMED")
        calendar.add_component(event)
    add_timezones(calendar)
    return calendar.to_ical()
