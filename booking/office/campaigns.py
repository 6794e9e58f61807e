"""Campaigns and their sessions: the overview, editing, copying and cancelling sessions."""
from __future__ import annotations

from datetime import date, datetime, time

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import navigation
from ..auth import role_required
from ..converters import bounded_int
from ..extensions import db
from ..localtime import TOKYO, in_our_years, local, utcnow, year_range_message
from ..models import Campaign, DeskSession, Reservation, ReservationPerson, Slot, Staff
from ..services import audit, campaigns, directory, municipalities, waitlist
from ..services.errors import DomainError
from ..web import request_actor
from . import bp
from .common import refused
from .forms import REMINDER_CHOICES, CampaignForm, ConfirmForm, SessionCopyForm, SessionForm, opts
from .units import unit_choices

navigation.register("office.overview", _l("Campaigns"), ("admin", "chief", "clerk"), order=10, section="bookings")


def _today() -> date:
    return local(utcnow()).date()


@bp.get("/")
@login_required
def overview() -> ResponseReturnValue:
    data = campaigns.overview(today=_today(), published_only=current_user.role != "admin")
    from ..services import messages

    failed_mail = messages.failed_count() if current_user.role == "admin" else 0
    return render_template("office/overview.html", data=data, user=current_user, failed_mail=failed_mail)


# --- campaigns --------------------------------------------------------------------------


def _naive_local(value: datetime | None) -> datetime | None:
    return local(value).replace(tzinfo=None) if value else None


def _minute_or_kept(value: datetime, old: datetime | None) -> datetime:
    """The form's local minute as an instant; an untouched field keeps the stored seconds."""
    chosen = value.replace(tzinfo=TOKYO)
    if old is not None and local(old).replace(tzinfo=None, second=0, microsecond=0) == value:
        return old
    return chosen


@bp.route("/campaigns/new", methods=["GET", "POST"])
@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_campaign(campaign_id: int | None = None) -> ResponseReturnValue:
    campaign = campaigns.get_campaign(campaign_id) if campaign_id else None
    form = CampaignForm(obj=campaign)
    form.target_unit_ids.choices = opts(unit_choices())
    form.mailing_municipality_codes.choices = opts(
        [(m.code, f"{m.name} ({m.code})") for m in municipalities.all_municipalities()])
    if request.method == "GET" and campaign is not None:
        form.booking_opens_at.data = _naive_local(campaign.booking_opens_at)
        form.booking_closes_at.data = _naive_local(campaign.booking_closes_at)
        form.target_unit_ids.data = [u.id for u in campaign.target_units]
        form.mailing_municipality_codes.data = [m.code for m in campaign.mailing_municipalities]
    _offer_the_campaigns_reminder(form, campaign)
    status = 200
    if form.validate_on_submit():
        values = {
            "title": form.title.data,
            "booking_opens_at": _minute_or_kept(form.booking_opens_at.data,
                                               campaign.booking_opens_at if campaign else None),
            "booking_closes_at": _minute_or_kept(form.booking_closes_at.data,
                                                campaign.booking_closes_at if campaign else None),
            "published": form.is_published.data, "what_to_bring": form.what_to_bring.data or "",
            "cutoff_minutes": form.cutoff_minutes.data, "target_unit_ids": form.target_unit_ids.data or [],
            "allows_single_photo_id_with_pin": form.allows_single_photo_id_with_pin.data,
            "mailing_municipality_codes": form.mailing_municipality_codes.data or [],
            # Left out of the form (an older page, a script): the campaign keeps its own, a new one 30.
            "no_show_grace_minutes": form.no_show_grace_minutes.data,
            "waitlist_offer_minutes": form.waitlist_offer_minutes.data,
            "contact_phone": form.contact_phone.data if "contact_phone" in request.form else None,
            "reminder_minutes_before": form.reminder_minutes_before.data
            if "reminder_minutes_before" in request.form else campaigns.Keep.KEEP,
            # Empty: the app setting; left out of the form: the campaign keeps its own.
            "desk_offline_keep_minutes": form.desk_offline_keep_minutes.data
            if "desk_offline_keep_minutes" in request.form else campaigns.Keep.KEEP,
        }
        try:
            if campaign is None:
                values["no_show_grace_minutes"] = 30 if values["no_show_grace_minutes"] is None \
                    else values["no_show_grace_minutes"]
                values["contact_phone"] = values["contact_phone"] or ""
                for name in ("reminder_minutes_before", "desk_offline_keep_minutes"):
                    if values[name] is campaigns.Keep.KEEP:
                        values[name] = None
                values["waitlist_offer_minutes"] = values["waitlist_offer_minutes"] or 120
                saved = campaigns.create_campaign(request_actor(), **values)
            else:
                campaigns.update_campaign(request_actor(), campaign, **values)
                saved = campaign
        except DomainError as error:
            status = refused(error, form)
        else:
            flash(_("Campaign %(title)s was saved.", title=saved.title), "success")
            return redirect(url_for(".show_campaign", campaign_id=saved.id))
    elif request.method == "POST":
        status = 422
    return render_template("office/campaign_form.html", form=form, campaign=campaign), status


def _reminder_label(minutes: int | None) -> str:
    labels = {value: label for value, label in REMINDER_CHOICES}
    return str(labels.get("" if minutes is None else minutes) or _("%(n)s minutes before", n=minutes))


def _offer_the_campaigns_reminder(form: CampaignForm, campaign: Campaign | None) -> None:
    """A reminder time set through the API that the list does not offer stays choosable."""
    minutes = campaign.reminder_minutes_before if campaign is not None else None
    if minutes is not None and minutes not in {value for value, _label in REMINDER_CHOICES}:
        form.reminder_minutes_before.choices = opts(
            [*REMINDER_CHOICES, (minutes, _reminder_label(minutes))])


@bp.get("/campaigns/<int:campaign_id>")
@login_required
def show_campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = campaigns.get_campaign(campaign_id)
    if not campaign.is_published and current_user.role != "admin":
        abort(404)
    data = campaigns.overview(today=_today())
    fill = next(c for c in data.campaigns if c.campaign.id == campaign.id)
    return render_template("office/campaign.html", campaign=campaign, fill=fill, today=data.today,
                           reminder=_reminder_label(campaign.reminder_minutes_before))


# --- sessions ---------------------------------------------------------------------------


def _session_form(campaign_id: int, session: DeskSession | None = None) -> SessionForm:
    form = SessionForm(obj=session)
    form.venue_id.choices = opts([("", _("— choose —"))] + [
        (v.id, v.name) for v in directory.list_venues()])
    return form


def _preview_of(form: SessionForm) -> campaigns.SlotPreview | None:
    data = (form.date.data, form.start_time.data, form.end_time.data, form.slot_minutes.data, form.desks.data)
    if any(v is None for v in data):
        return None
    return campaigns.preview(*data)


def _session_values(form: SessionForm) -> dict:
    return {"venue_id": form.venue_id.data, "day": form.date.data, "start": form.start_time.data,
            "end": form.end_time.data, "slot_minutes": form.slot_minutes.data, "desks": form.desks.data}


@bp.route("/campaigns/<int:campaign_id>/sessions/new", methods=["GET", "POST"])
@role_required("admin")
def create_session(campaign_id: int) -> ResponseReturnValue:
    campaign = campaigns.get_campaign(campaign_id)
    form = _session_form(campaign_id)
    if request.method == "GET":
        copy_of = request.args.get("like", type=bounded_int)
        if copy_of:
            like = campaigns.get_session(copy_of)
            form = _session_form(campaign_id, like)
            form.date.data = None
    status = 200
    preview = None
    warnings: list[dict] = []
    if form.validate_on_submit():
        preview = _preview_of(form)
        if request.form.get("action") != "preview":
            try:
                session = campaigns.add_session(request_actor(), campaign, **_session_values(form),
                                                confirmed=bool(form.confirm_warnings.data)).session
            except DomainError as error:
                warnings = error.extra.get("warnings", [])
                status = refused(error, form)
            else:
                flash(_("The session was saved with %(n)s slots.", n=len(session.slots)), "success")
                return redirect(url_for(".show_campaign", campaign_id=campaign.id) + f"#session-{session.id}")
    elif request.method == "POST":
        status = 422
    return render_template("office/session_form.html", form=form, campaign=campaign, session=None,
                           preview=preview, affected=None, warnings=warnings), status


@bp.get("/sessions/preview")
@role_required("admin")
def preview_session() -> ResponseReturnValue:
    """The slots a session would get, for the form's script (the same plan_slots as saving)."""
    try:
        day = date.fromisoformat(request.args.get("date", ""))
        start = time.fromisoformat(request.args.get("start_time", ""))
        end = time.fromisoformat(request.args.get("end_time", ""))
        minutes = int(request.args.get("slot_minutes", ""))
        desks = int(request.args.get("desks", ""))
    except ValueError:
        return jsonify(error="invalid", message=_("Fill in the date, times, slot length and desks.")), 422
    if not (1 <= minutes <= 1440 and 1 <= desks <= 100):
        return jsonify(error="invalid", message=_("Use 1 to 1440 minutes and 1 to 100 desks.")), 422
    if not in_our_years(day):
        return jsonify(error="invalid", message=year_range_message()), 422
    result = campaigns.preview(day, start, end, minutes, desks).as_dict()
    result["summary"] = _("%(count)s slots × %(desks)s desks = %(capacity)s places",
                          count=result["count"], desks=desks, capacity=result["capacity"])
    return jsonify(result)


def _affected_rows(ids: list[int]) -> list[Reservation]:
    if not ids:
        return []
    return list(db.session.scalars(
        select(Reservation)
        .options(joinedload(Reservation.staff).joinedload(Staff.unit), joinedload(Reservation.slot),
                 selectinload(Reservation.people).joinedload(ReservationPerson.dependent))
        .where(Reservation.id.in_(ids))
        .order_by(Reservation.id)
    ).unique())


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_session(session_id: int) -> ResponseReturnValue:
    session = campaigns.get_session(session_id)
    form = _session_form(session.campaign_id, session)
    status = 200
    preview = None
    affected = None
    warnings: list[dict] = []
    if form.validate_on_submit():
        preview = _preview_of(form)
        action = request.form.get("action", "save")
        if action != "preview":
            resolution = action if action in campaigns.RESOLUTIONS else None
            try:
                change = campaigns.update_session(request_actor(), session, resolution=resolution,
                                                  confirmed=bool(form.confirm_warnings.data), **_session_values(form))
            except DomainError as error:
                warnings = error.extra.get("warnings", [])
                affected_ids = error.extra.get("affected", [])
                status = refused(error, form)
                session = campaigns.get_session(session_id)
                affected = _affected_rows(affected_ids) if affected_ids else None
            else:
                if change.event is not None and (change.moved or change.cancelled):
                    flash(_("The session was changed. Contact the people listed below."), "success")
                    return redirect(url_for(".session_contacts", session_id=session.id, event_id=change.event.id))
                flash(_("The session was saved."), "success")
                return redirect(url_for(".show_campaign", campaign_id=session.campaign_id)
                                + f"#session-{session.id}")
    elif request.method == "POST":
        status = 422
    return render_template("office/session_form.html", form=form, campaign=session.campaign, session=session,
                           preview=preview or _preview_of(form), affected=affected, warnings=warnings), status


@bp.route("/sessions/<int:session_id>/copy", methods=["GET", "POST"])
@role_required("admin")
def copy_session(session_id: int) -> ResponseReturnValue:
    session = campaigns.get_session(session_id)
    form = SessionCopyForm()
    status = 200
    errors: list[str] = []
    if form.validate_on_submit():
        days = [d for d in form.dates.data if d]
        try:
            copies = campaigns.copy_session(request_actor(), session, days)
        except DomainError as error:
            status = refused(error)
            errors = [str(m) for m in error.fields.values()]
        else:
            flash(_("The session was copied to %(n)s dates.", n=len(copies)), "success")
            return redirect(url_for(".show_campaign", campaign_id=session.campaign_id))
    elif request.method == "POST":
        status = 422
        errors = list(dict.fromkeys(str(m) for entry in form.dates for m in entry.errors))
    return render_template("office/session_copy.html", form=form, session=session, errors=errors,
                           preview=campaigns.preview(session.date, session.start_time, session.end_time,
                                                     session.slot_minutes, session.desks)), status


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@role_required("admin")
def cancel_session(session_id: int) -> ResponseReturnValue:
    session = campaigns.get_session(session_id)
    form = ConfirmForm()
    if form.validate_on_submit() and not session.is_cancelled:
        change = campaigns.cancel_session(request_actor(), session, reason=request.form.get("reason", "")[:500])
        assert change.event is not None, "the service cancels (and records) a session not yet cancelled"
        flash(_("The session was cancelled with %(n)s reservations. Contact the people listed below.",
                n=len(change.cancelled)), "success")
        return redirect(url_for(".session_contacts", session_id=session.id, event_id=change.event.id))
    booked = _affected_rows([r.id for r in db.session.scalars(
        select(Reservation).join(Slot).where(Slot.desk_session_id == session.id, Reservation.status == "booked"))])
    return render_template("office/session_cancel.html", session=session, form=form, booked=booked)


@bp.get("/sessions/<int:session_id>/waitlist")
@role_required("admin", "clerk")
def session_waitlist(session_id: int) -> ResponseReturnValue:
    """The session's waiting list: places, offers and their expiry, and what became of each."""
    session = campaigns.get_session(session_id)
    return render_template("office/session_waitlist.html", session=session, rows=waitlist.session_list(session.id),
                           labels=waitlist.STATUS_LABELS, people_of=waitlist.people_of)


@bp.get("/sessions/<int:session_id>/contacts/<int:event_id>")
@role_required("admin")
def session_contacts(session_id: int, event_id: int) -> ResponseReturnValue:
    session = campaigns.get_session(session_id)
    event = audit.event_for("session", session.id, event_id)
    if event is None:
        abort(404)
    from ..services import messages

    contacts = campaigns.contacts(event.details or {})
    unreached = messages.unreached([c.reservation for c in contacts], since=event.occurred_at)
    return render_template("office/session_contacts.html", session=session, event=event,
                           contacts=[c for c in contacts if c.reservation.id in unreached],
                           mailed=[c for c in contacts if c.reservation.id not in unreached],
                           unreached=unreached)
