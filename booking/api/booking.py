"""Browsing published campaigns and booking with an invitation or over the phone."""
from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import ratelimits
from ..extensions import db
from ..models import Campaign, DeskSession, Slot, Staff
from ..services import bookings, directory, invitations, reservations, slots, waitlist
from ..services.actor import Actor
from ..services.errors import DomainError
from ..web import request_actor
from . import bp, serialize
from .common import api_user, body
from .schemas import RescheduleIn, ReservationIn, WaitlistIn


@bp.get("/campaigns")
def list_campaigns() -> ResponseReturnValue:
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.is_published.is_(True)).order_by(Campaign.booking_opens_at, Campaign.id)
    )
    return jsonify([
        {k: v for k, v in serialize.campaign(c).items() if k in ("id", "title", "booking_opens_at", "booking_closes_at")}
        for c in campaigns
    ])


@bp.get("/campaigns/<int:campaign_id>/sessions")
def list_sessions(campaign_id: int) -> ResponseReturnValue:
    user = api_user()
    campaign = slots.get_campaign(campaign_id, published_only=not (user and user.role == "admin"))
    sessions = db.session.scalars(
        select(DeskSession)
        .options(joinedload(DeskSession.venue))
        .where(DeskSession.campaign_id == campaign.id, DeskSession.is_cancelled.is_(False))
        .order_by(DeskSession.date, DeskSession.start_time, DeskSession.id)
    ).all()
    # The slots as plain rows, not objects: a campaign has hundreds of them.
    slot_rows: dict[int, list[dict]] = {s.id: [] for s in sessions}
    for row in db.session.execute(
        select(Slot.desk_session_id, Slot.id, Slot.starts_at, Slot.ends_at, Slot.capacity, Slot.seats_taken)
        .where(Slot.desk_session_id.in_(slot_rows))
        .order_by(Slot.starts_at, Slot.id)
    ):
        slot_rows[row.desk_session_id].append(serialize.slot_row(row))
    return jsonify([serialize.session(s, slot_rows[s.id]) for s in sessions])


@bp.post("/reservations")
@ratelimits.invitation_codes
def create_reservation() -> ResponseReturnValue:
    data = body(ReservationIn)
    staff, actor = _booker(data.staff_number, data.invitation_code)
    reservation = bookings.book(actor, data.slot_id, staff, dependent_ids=data.dependent_ids,
                                include_staff=data.include_staff)
    # Serialised before the commit, which would expire every loaded record and
    # make the answer reload them one query at a time.
    answer = serialize.reservation(reservation)
    return jsonify(answer), 201


def _booker(staff_number: str, invitation_code: str | None) -> tuple[Staff, Actor]:
    """The staff member and who acts: the booker with their invitation code, or an admin taking a call."""
    user = api_user()
    if invitation_code:
        staff = invitations.staff_for_code(staff_number, invitation_code)
        if staff is None:
            raise DomainError(
                "invalid_invitation",
                _("The staff number or invitation code is wrong. Check your invitation and try again."),
            )
        actor = request_actor(staff=staff)
    elif user is not None and user.role == "admin":
        # A booking taken over the phone, as on the office's phone page.
        staff = directory.staff_by_number(staff_number)
        actor = request_actor()
    else:
        raise DomainError(
            "invalid_invitation",
            _("Enter the invitation code from your invitation to book."),
        )
    return staff, actor


@bp.get("/reservations/<token>")
@ratelimits.secret_links
def show_reservation(token: str) -> ResponseReturnValue:
    return jsonify(serialize.reservation(reservations.by_manage_token(token)))


@bp.post("/reservations/<token>/cancel")
@ratelimits.secret_links
def cancel_reservation(token: str) -> ResponseReturnValue:
    reservation = reservations.by_manage_token(token)
    reservation = bookings.cancel(request_actor(staff=reservation.staff), reservation)
    return jsonify(serialize.reservation(reservation))


@bp.post("/reservations/<token>/reschedule")
@ratelimits.secret_links
def reschedule_reservation(token: str) -> ResponseReturnValue:
    reservation = reservations.by_manage_token(token)
    data = body(RescheduleIn)
    reservation = bookings.move(request_actor(staff=reservation.staff), reservation, data.slot_id,
                                dependent_ids=data.dependent_ids, include_staff=data.include_staff)
    return jsonify(serialize.reservation(reservation))


@bp.post("/waitlist")
@ratelimits.invitation_codes
def join_waitlist() -> ResponseReturnValue:
    data = body(WaitlistIn)
    staff, actor = _booker(data.staff_number, data.invitation_code)
    entry = waitlist.join(actor, data.session_id, staff, dependent_ids=data.dependent_ids,
                          include_staff=data.include_staff, locale=bookings.booker_locale(actor))
    return jsonify(serialize.waitlist_entry(entry)), 201


@bp.get("/waitlist/<token>")
@ratelimits.secret_links
def show_waitlist_entry(token: str) -> ResponseReturnValue:
    return jsonify(serialize.waitlist_entry(waitlist.by_token(token)))


@bp.post("/waitlist/<token>/leave")
@ratelimits.secret_links
def leave_waitlist(token: str) -> ResponseReturnValue:
    entry = waitlist.by_token(token)
    entry = waitlist.leave(request_actor(staff=entry.staff), entry)
    return jsonify(serialize.waitlist_entry(entry))


@bp.post("/waitlist/<token>/accept")
@ratelimits.secret_links
def accept_waitlist_offer(token: str) -> ResponseReturnValue:
    entry = waitlist.by_token(token)
    reservation = waitlist.accept(request_actor(staff=entry.staff), entry)
    return jsonify(serialize.reservation(reservation))
