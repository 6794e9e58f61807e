"""Booker views: load, check, call one act of services.bookings as the booker, redirect or render."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import ratelimits
from ..extensions import db, limiter
from ..formatting import clock
from ..localtime import utcnow
from ..models import DeskSession, Reservation, Staff, WaitlistEntry
from ..services import (
    addresses,
    applicants,
    approvals,
    bookings,
    browse,
    confirmations,
    invitations,
    reservations,
    tokens,
    waitlist,
)
from ..services.errors import DomainError, status_for
from ..web import request_actor
from . import bp
from .forms import BookForm, ConfirmForm, EmailForm, IdentifyForm, MoveForm


def _staff_or_404(token: str) -> Staff:
    staff = invitations.staff_for_link(token)
    if staff is None:
        abort(404, description=_(
            "This invitation link is no longer valid. Ask your unit chief or the My Number "
            "section for a new invitation, or sign in with your staff number and invitation code."))
    return staff


@bp.route("/", methods=["GET", "POST"])
@ratelimits.invitation_codes
def identify() -> ResponseReturnValue:
    form = IdentifyForm()
    if form.validate_on_submit():
        staff = invitations.staff_for_code(form.staff_number.data, form.invitation_code.data)
        if staff is not None:
            return redirect(url_for(".invitation", token=invitations.link_token(staff)))
        flash(_("The staff number or invitation code is wrong. Check your invitation slip and try again."), "error")
        return render_template("public/identify.html", form=form), 403
    return render_template("public/identify.html", form=form)


@bp.get("/i/<token>")
@ratelimits.secret_links
def invitation(token: str) -> ResponseReturnValue:
    """The sessions to choose from; when the staff member already holds the reservation, that one."""
    staff = _staff_or_404(token)
    now = utcnow()
    campaigns = browse.open_campaigns(staff, now)
    held = {r.campaign_id: r for r in reservations.reservations_of(staff)}
    open_ids = {c.id for c in campaigns}
    # A booking whose campaign has closed for booking is still shown: the link must lead to it.
    elsewhere = [r for r in held.values() if r.campaign_id not in open_ids and r.status == "booked"]
    unbooked = [c for c in campaigns if c.id not in held]
    shown = [r for r in held.values() if r.campaign_id in open_ids] + elsewhere
    if not unbooked and len(shown) == 1:
        return redirect(url_for(".manage", token=reservations.manage_token(shown[0])))
    offers = [
        (c, reservations.manage_token(held[c.id]) if c.id in held else None,
         [] if c.id in held else browse.session_choices(c, staff, now))
        for c in campaigns
    ]
    return render_template(
        "public/invitation.html", staff=staff, token=token, offers=offers,
        elsewhere=[(r, reservations.manage_token(r)) for r in elsewhere],
    )


@bp.route("/i/<token>/sessions/<int:session_id>", methods=["GET", "POST"])
@ratelimits.secret_links
def choose_slot(token: str, session_id: int) -> ResponseReturnValue:
    staff = _staff_or_404(token)
    session = db.get_or_404(DeskSession, session_id)
    if not session.campaign.is_published or session.is_cancelled:
        abort(404)
    existing = reservations.active_reservation(staff.id, session.campaign_id)
    if existing is not None and request.args.get("waitlist") != "1":
        return redirect(url_for(".manage", token=reservations.manage_token(existing)))
    now = utcnow()
    form = BookForm()
    if not form.is_submitted():
        form.people_shown.data = "1"
        if staff.card_status == "received":
            form.include_staff.data = False  # they hold a card: most likely booking for their family
    choices = browse.slot_choices(session, now)
    form.slot_id.choices = [(c.slot.id, c.slot.id) for c in choices]
    form.dependent_ids.choices = [(d.id, d.name) for d in staff.dependents]
    status = 200
    if form.validate_on_submit():
        try:
            reservation = bookings.book(request_actor(staff=staff), form.slot_id.data, staff,
                                        dependent_ids=form.dependent_ids.data or [],
                                        include_staff=form.staff_comes is not False)
        except DomainError as error:
            db.session.rollback()  # undo the refused act before the form is shown again with fresh seats
            choices = browse.slot_choices(session, now)  # expired by the rollback: read afresh
            flash(_refusal_message(error, form.slot_id.data, form.people, choices), "error")
            status = status_for(error.code)
            _forget_closed_choice(form, choices)
        else:
            return redirect(url_for(".manage", token=reservations.manage_token(reservation), new=1))
    elif request.method == "POST":
        status = 422
    return render_template(
        "public/choose_slot.html", staff=staff, token=token, session=session, choices=choices, form=form,
        seats=form.people, notices=_notices_by_dependent(staff, session),
        is_full=not any(c.is_open for c in choices), waiting=_waiting_here(staff, session),
    ), status


@bp.post("/i/<token>/sessions/<int:session_id>/waitlist")
@ratelimits.secret_links
def join_waitlist(token: str, session_id: int) -> ResponseReturnValue:
    """Join a full session's waiting list with the people ticked (the whole party)."""
    staff = _staff_or_404(token)
    form = BookForm()
    form.dependent_ids.choices = [(d.id, d.name) for d in staff.dependents]
    actor = request_actor(staff=staff)
    try:
        entry = waitlist.join(actor, session_id, staff, dependent_ids=form.dependent_ids.data or [],
                              include_staff=form.staff_comes is not False, locale=bookings.booker_locale(actor))
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for(".choose_slot", token=token, session_id=session_id))
    return redirect(url_for(".waitlist_entry", token=waitlist.entry_token(entry)))


@bp.get("/w/<token>")
@ratelimits.secret_links
def waitlist_entry(token: str) -> ResponseReturnValue:
    """The booker's place on a waiting list, and the offer with its one button when seats are held."""
    entry = _entry_or_404(token)
    return render_template("public/waitlist.html", entry=entry, token=token, place=waitlist.place(entry),
                           people=waitlist.people_of(entry), form=ConfirmForm(), now=utcnow(),
                           invitation_token=invitations.link_token(entry.staff))


@bp.post("/w/<token>/accept")
@ratelimits.secret_links
def accept_offer(token: str) -> ResponseReturnValue:
    entry = _entry_or_404(token)
    try:
        reservation = waitlist.accept(request_actor(staff=entry.staff), entry)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for(".waitlist_entry", token=token)), 303
    return redirect(url_for(".manage", token=reservations.manage_token(reservation), new=1))


@bp.post("/w/<token>/leave")
@ratelimits.secret_links
def leave_waitlist(token: str) -> ResponseReturnValue:
    entry = _entry_or_404(token)
    waitlist.leave(request_actor(staff=entry.staff), entry)
    flash(_("You have left the waiting list."), "success")
    return redirect(url_for(".waitlist_entry", token=token))


def _entry_or_404(token: str) -> WaitlistEntry:
    try:
        return waitlist.by_token(token)
    except DomainError as error:
        abort(404, description=str(error.message))


def _waiting_here(staff: Staff, session: DeskSession) -> tuple[WaitlistEntry, str] | None:
    """The staff member's open place on this session's list, with its link."""
    entry = next((e for e in waitlist.entries_of(staff) if e.desk_session_id == session.id), None)
    return (entry, waitlist.entry_token(entry)) if entry else None


@bp.get("/r/<token>")
@ratelimits.secret_links
def manage(token: str) -> ResponseReturnValue:
    reservation = _reservation_or_404(token)
    from flask_login import current_user

    # A clerk who scans the QR with the phone's own camera app lands here: take
    # them to the desk's check-in screen (?view=booker shows the booker's page).
    if (current_user.is_authenticated and current_user.role in ("clerk", "admin")
            and request.args.get("view") != "booker"):
        return redirect(url_for("desk.check_in_screen", reservation_id=reservation.id))
    return render_template(
        "public/manage.html",
        reservation=reservation,
        token=token,
        manage_url=confirmations.manage_url(reservation),
        is_new=request.args.get("new") == "1",
        cancel_form=ConfirmForm(),
        invitation_token=invitations.link_token(reservation.staff),
        duty_approval=approvals.booker_status(reservation),
        email_form=EmailForm(),
        email_sent=request.args.get("email") == "sent",
        email_confirmed=request.args.get("email") == "confirmed",
        booking_closed=browse.booking_closed(reservation.campaign, utcnow()),
    )


@bp.post("/r/<token>/email")
@ratelimits.secret_links
def change_email(token: str) -> ResponseReturnValue:
    """The booker gives an address; a link is sent to it, and it is used once they open it."""
    reservation = _reservation_or_404(token)
    form = EmailForm()
    if form.validate_on_submit():
        try:
            addresses.request_change(request_actor(staff=reservation.staff), reservation, form.email.data or "")
        except DomainError as error:
            for message in (error.fields or {}).values():
                form.email.errors = [*form.email.errors, str(message)]
        else:
            return redirect(url_for(".manage", token=token, email="sent") + "#mail")
    return render_template(
        "public/manage.html", reservation=reservation, token=token,
        manage_url=confirmations.manage_url(reservation), is_new=False, cancel_form=ConfirmForm(),
        invitation_token=invitations.link_token(reservation.staff),
        duty_approval=approvals.booker_status(reservation), email_form=form, email_sent=False,
        email_confirmed=False,
    ), 422


@bp.route("/r/<token>/email/<code>", methods=["GET", "POST"])
@ratelimits.secret_links
def confirm_email(token: str, code: str) -> ResponseReturnValue:
    """The link in the confirmation mail: a page with a button (mail scanners that open links do
    not confirm anything), and the button confirms."""
    reservation = _reservation_or_404(token)
    staff = reservation.staff
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            addresses.confirm(request_actor(staff=staff), reservation, code)
        except DomainError as error:
            return render_template("public/confirm_email.html", reservation=reservation, token=token,
                                   form=form, error=str(error.message)), 404
        return redirect(url_for(".manage", token=token, email="confirmed") + "#mail")
    valid = bool(staff.pending_email) and tokens.same(addresses.confirm_token(staff), code)
    return render_template("public/confirm_email.html", reservation=reservation, token=token, form=form,
                           address=staff.pending_email if valid else "",
                           error="" if valid else _("This confirmation link is no longer valid. Enter your "
                                                     "address again on your booking page.")), 200 if valid else 404


@bp.route("/r/<token>/cancel", methods=["GET", "POST"])
@ratelimits.secret_links
def cancel(token: str) -> ResponseReturnValue:
    """GET asks "are you sure?" on a page of its own (no script needed); POST cancels."""
    reservation = _reservation_or_404(token)
    form = ConfirmForm()
    if request.method == "GET":
        if reservation.status != "booked":
            return redirect(url_for(".manage", token=token))
        return render_template("public/cancel.html", reservation=reservation, token=token, form=form,
                               booking_closed=browse.booking_closed(reservation.campaign, utcnow()))
    if not form.validate_on_submit():
        abort(400)
    try:
        bookings.cancel(request_actor(staff=reservation.staff), reservation)
    except DomainError as error:
        flash(str(error.message), "error")  # refused before anything changed
    else:
        flash(_("Your reservation has been cancelled. The seat is free for someone else."), "success")
    return redirect(url_for(".manage", token=token))


@bp.get("/r/<token>/move")
@ratelimits.secret_links
def move(token: str) -> ResponseReturnValue:
    reservation = _reservation_or_404(token)
    if reservation.status != "booked":
        return redirect(url_for(".manage", token=token))
    now = utcnow()
    closed = browse.booking_closed(reservation.campaign, now)
    days = [] if closed else browse.session_choices(reservation.campaign, reservation.staff, now,
                                                    seats=reservation.seats)
    return render_template("public/move.html", reservation=reservation, token=token, days=days,
                           booking_closed=closed)


@bp.route("/r/<token>/move/<int:session_id>", methods=["GET", "POST"])
@ratelimits.secret_links
def move_to_slot(token: str, session_id: int) -> ResponseReturnValue:
    reservation = _reservation_or_404(token)
    session = db.get_or_404(DeskSession, session_id)
    if session.campaign_id != reservation.campaign_id or reservation.status != "booked":
        return redirect(url_for(".manage", token=token))
    now = utcnow()
    if request.method == "GET" and browse.booking_closed(reservation.campaign, now):
        return redirect(url_for(".move", token=token))  # which says booking has closed and whom to call
    form = MoveForm()
    if not form.is_submitted():  # who comes, as booked
        form.people_shown.data = "1"
        form.include_staff.data, form.dependent_ids.data = reservations.who_comes(reservation)
    choices = browse.slot_choices(session, now, moving=reservation)
    form.slot_id.choices = [(c.slot.id, c.slot.id) for c in choices]
    form.dependent_ids.choices = [(d.id, d.name) for d in reservation.staff.dependents]
    status = 200
    if form.validate_on_submit():
        sequence = reservation.sequence
        try:
            asked = form.staff_comes is not None  # else who comes stays as booked
            moved = bookings.move(request_actor(staff=reservation.staff), reservation, form.slot_id.data,
                                  dependent_ids=(form.dependent_ids.data or []) if asked else None,
                                  include_staff=form.staff_comes)
        except DomainError as error:
            db.session.rollback()  # undo the refused act before the form is shown again with fresh seats
            reservation = _reservation_or_404(token)
            choices = browse.slot_choices(session, now, moving=reservation)
            flash(_refusal_message(error, form.slot_id.data, form.people, choices), "error")
            status = status_for(error.code)
            _forget_closed_choice(form, choices)
        else:
            if moved.sequence == sequence:
                flash(_("Nothing was changed: that is already your time and the people coming."), "info")
            else:
                flash(_("Your reservation has been changed. If you added it to your calendar, add it again "
                        "to update the entry."), "success")
            return redirect(url_for(".manage", token=token))
    elif request.method == "POST":
        status = 422
    return render_template(
        "public/move_to_slot.html", reservation=reservation, token=token, session=session,
        choices=choices, form=form, seats=form.people, staff=reservation.staff,
        notices=_notices_by_dependent(reservation.staff, session),
        is_full=not any(c.is_open and c.slot.id not in {p.slot_id for p in reservation.people} for c in choices)
        and session.id != reservation.slot.desk_session_id,
        invitation_token=invitations.link_token(reservation.staff),
    ), status


@bp.get("/r/<token>/calendar.ics")
@ratelimits.secret_links
def calendar(token: str) -> ResponseReturnValue:
    reservation = _reservation_or_404(token)
    return current_app.response_class(
        confirmations.calendar_file(reservation),
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="mynumber-{reservation.code}.ics"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/r/<token>/qr.png")
@ratelimits.secret_links
def qr(token: str) -> ResponseReturnValue:
    reservation = _reservation_or_404(token)
    return current_app.response_class(
        confirmations.qr_png(reservation), mimetype="image/png", headers={"Cache-Control": "private, max-age=3600"}
    )


def _reservation_or_404(token: str) -> Reservation:
    try:
        return reservations.by_manage_token(token)
    except DomainError as error:
        abort(404, description=str(error.message))


def _notices_by_dependent(staff: Staff, session: DeskSession) -> dict[int, list[applicants.Notice]]:
    """What to tell about each dependent on the session's day (under 15, under 1)."""
    return {d.id: applicants.notices(d, session.date) for d in staff.dependents}


def _forget_closed_choice(form: BookForm, choices: list[browse.SlotChoice]) -> None:
    """After a refusal keep what was chosen, except a time the party can no longer start at."""
    still_open = {c.slot.id for c in choices if c.is_open and c.reach >= form.people}
    if form.slot_id.data not in still_open:
        form.slot_id.data = None


def _refusal_message(error: DomainError, slot_id: int | None, seats: int, choices: list[browse.SlotChoice]) -> str:
    """The service's message, made concrete when the time has room for fewer people than asked."""
    chosen = next((c for c in choices if c.slot.id == slot_id), None)
    if error.code == "slot_full" and chosen is not None:
        if 0 < chosen.reach < seats:
            return ngettext(
                "From %(time)s there is a seat for only %(num)s person in a row, but you need %(seats)s. "
                "Choose another time, or fewer people.",
                "From %(time)s there are seats for only %(num)s people in a row, but you need %(seats)s. "
                "Choose another time, or fewer people.",
                chosen.reach, time=clock(chosen.slot.starts_at), seats=seats,
            )
        return _("Someone else just took the last seat at %(time)s. Your choices are kept: "
                 "choose another time and book again.", time=clock(chosen.slot.starts_at))
    return str(error.message)


@bp.app_context_processor
def _retry_time() -> dict[str, Callable[[], str | None]]:
    """``retry_time()`` for the 429 page: the local time the rate limit ends, e.g. 15:42."""

    def retry_time() -> str | None:
        current = limiter.current_limit
        if current is None or not current.breached or not current.reset_at:
            return None
        return clock(datetime.fromtimestamp(current.reset_at, UTC))

    return {"retry_time": retry_time}
