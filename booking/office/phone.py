"""Bookings taken by phone: find the caller, see their booking, book, move or cancel it for them.

Every change goes through services.bookings (channel "phone"), the same acts the
booker's own pages and the API use, so capacity, window and duplicate rules and the
audit event cannot differ between the paths.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import navigation
from ..auth import role_required
from ..converters import bounded_int
from ..extensions import db
from ..localtime import utcnow
from ..models import DeskSession, Reservation
from ..services import bookings, browse, directory, messages, reservations
from ..services.errors import DomainError
from ..services.tokens import format_code
from ..web import request_actor
from . import bp
from .common import refused
from .forms import ConfirmForm, PhoneBookForm, PhoneSearchForm, opts

navigation.register("office.phone", _l("Phone bookings"), ("admin", "clerk"), order=20, section="bookings")

PHONE_ROLES = ("admin", "clerk")


@bp.get("/phone")
@role_required(*PHONE_ROLES)
def phone() -> ResponseReturnValue:
    form = PhoneSearchForm(request.args)
    q = (form.q.data or "").strip() if form.validate() else ""
    results = directory.find_staff(current_user, q) if q else []
    return render_template("office/phone.html", form=form, q=q, results=results)


def _reservation_for(staff_id: int, reservation_id: int) -> Reservation:
    reservation = db.session.get(Reservation, reservation_id)
    if reservation is None or reservation.staff_id != staff_id:
        abort(404)
    return reservation


@bp.get("/phone/staff/<int:staff_id>")
@role_required(*PHONE_ROLES)
def phone_staff(staff_id: int) -> ResponseReturnValue:
    staff = directory.get_staff(current_user, staff_id)
    now = utcnow()
    held = reservations.reservations_of(staff)
    held_campaigns = {r.campaign_id for r in held}
    offers = [(c, browse.session_choices(c, staff, now)) for c in browse.open_campaigns(staff, now)
              if c.id not in held_campaigns]
    mail = {r.id: messages.of_reservation(request_actor(), r) for r in held}
    return render_template("office/phone_staff.html", staff=staff, held=held, offers=offers, mail=mail,
                           confirm=ConfirmForm(), q=request.args.get("q", ""))


@bp.route("/phone/staff/<int:staff_id>/sessions/<int:session_id>", methods=["GET", "POST"])
@role_required(*PHONE_ROLES)
def phone_book(staff_id: int, session_id: int) -> ResponseReturnValue:
    """Book a slot for the caller, or move their booking here when ?move=<reservation id>."""
    staff = directory.get_staff(current_user, staff_id)
    session = db.get_or_404(DeskSession, session_id)
    if not session.campaign.is_published or session.is_cancelled:
        abort(404)
    moving = None
    move_id = request.values.get("move", type=bounded_int)
    if move_id:
        moving = _reservation_for(staff.id, move_id)
    else:
        existing = reservations.active_reservation(staff.id, session.campaign_id)
        if existing is not None:
            flash(_("%(name)s already has a reservation in this campaign: move it instead.", name=staff.name),
                  "error")
            return redirect(url_for(".phone_staff", staff_id=staff.id))
    now = utcnow()
    form = PhoneBookForm()
    if moving is not None and not form.is_submitted():  # who comes, as booked
        form.include_staff.data, form.dependent_ids.data = reservations.who_comes(moving)
    choices = browse.slot_choices(session, now, moving=moving)
    form.slot_id.choices = opts([(c.slot.id, str(c.slot.id)) for c in choices])
    form.dependent_ids.choices = opts([(d.id, d.name) for d in staff.dependents])
    status = 200
    if form.validate_on_submit():
        actor = request_actor()
        dependent_ids: list[int] = form.dependent_ids.data or []
        try:
            if moving is not None:
                asked = form.staff_comes is not None  # else who comes stays as booked
                reservation = bookings.move(actor, moving, form.slot_id.data, now=now,
                                            dependent_ids=dependent_ids if asked else None,
                                            include_staff=form.staff_comes)
            else:
                reservation = bookings.book(actor, form.slot_id.data, staff, now=now,
                                            dependent_ids=dependent_ids, include_staff=form.staff_comes is not False)
        except DomainError as error:
            status = refused(error, form)
            choices = browse.slot_choices(session, now, moving=moving)  # expired by the rollback
        else:
            return redirect(url_for(".phone_done", staff_id=staff.id, reservation_id=reservation.id,
                                    done="moved" if moving is not None else "booked"))
    elif request.method == "POST":
        status = 422
    return render_template("office/phone_book.html", staff=staff, session=session, form=form, choices=choices,
                           moving=moving), status


@bp.get("/phone/staff/<int:staff_id>/reservations/<int:reservation_id>")
@role_required(*PHONE_ROLES)
def phone_done(staff_id: int, reservation_id: int) -> ResponseReturnValue:
    """The code to read out to the caller, large; nothing to print or send."""
    staff = directory.get_staff(current_user, staff_id)
    reservation = _reservation_for(staff.id, reservation_id)
    return render_template("office/phone_done.html", staff=staff, reservation=reservation,
                           done=request.args.get("done", ""), confirm=ConfirmForm(),
                           mail_messages=messages.of_reservation(request_actor(), reservation), mail_staff=staff)


@bp.post("/phone/staff/<int:staff_id>/reservations/<int:reservation_id>/cancel")
@role_required(*PHONE_ROLES)
def phone_cancel(staff_id: int, reservation_id: int) -> ResponseReturnValue:
    staff = directory.get_staff(current_user, staff_id)
    reservation = _reservation_for(staff.id, reservation_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".phone_staff", staff_id=staff.id))
    try:
        bookings.cancel(request_actor(), reservation)
    except DomainError as error:
        refused(error)
    else:
        flash(_("Reservation %(code)s was cancelled. Tell the caller the seat has been freed.",
                code=format_code(reservation.code)), "success")
    return redirect(url_for(".phone_staff", staff_id=staff.id))
