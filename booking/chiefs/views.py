"""Chiefs' pages: thin views over services.reports, card_status and calendar_feed."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import navigation, qr, ratelimits
from ..auth import require_unit_visible, role_required, visible_unit_ids
from ..converters import bounded_int
from ..extensions import db
from ..formatting import clock
from ..localtime import utcnow
from ..models import Dependent, DeskSession, Staff, Unit, Venue
from ..office.common import refused
from ..services import (
    calendar_feed,
    card_status,
    exports,
    invitations,
    report_files,
    reports,
)
from ..services.errors import DomainError
from ..services.exports import CSV_MIMETYPE, XLSX_MIMETYPE
from ..web import local_path, request_actor, same_site_url
from . import bp
from .forms import CardStatusForm, ReasonForm

ROLES = ("chief", "admin")
#: Who reads rosters and the unit pages: the chiefs, the admin, and HQ general affairs (``hq``),
#: who sees every unit but changes nothing (no card status, no reason, no slips, no feed).
READERS = (*ROLES, "hq")
#: Roster rows on one printed A4 page; each row is a fixed 10 mm (print-roster.css).
ROSTER_ROWS_PER_PAGE = 22
#: Invitation slips on one A4 sheet (2 columns x 4 rows).
SLIPS_PER_PAGE = 8
STAFF_PER_PAGE = 100

navigation.register("chiefs.sessions", _l("Rosters"), READERS, order=40, section="units")
navigation.register("chiefs.unit_status", _l("My units"), READERS, order=41, section="units",
                    also=("/chiefs/staff", "/chiefs/slips"))
navigation.register("chiefs.calendar", _l("Calendar feed"), ROLES, order=48, section="units")

FILTER_LABELS = {
    "all": _l("Everyone"),
    "no_card": _l("No card"),
    "no_card_no_reservation": _l("No card and no reservation"),
    "no_show": _l("Did not come (no-show)"),
    "no_reason": _l("No card and no reason recorded"),
}


def _units() -> set[int] | None:
    return visible_unit_ids(current_user)


def paginate(rows: list, per_page: int) -> list[list]:
    """Fixed-size pages; always at least one, so an empty roster still prints its header."""
    return [rows[i:i + per_page] for i in range(0, len(rows), per_page)] or [[]]


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"",
        "Cache-Control": "no-store",
    })


# --- rosters --------------------------------------------------------------------------------


@bp.get("/")
@role_required(*READERS)
def sessions() -> ResponseReturnValue:
    today = card_status.today()
    lines = reports.session_lines(_units(), since=date.fromordinal(today.toordinal() - 30))
    days: dict[tuple[date, int], list] = {}
    for line in lines:
        days.setdefault((line.session.date, line.session.venue_id), []).append(line)
    return render_template("chiefs/sessions.html", days=days, today=today)


def _session_or_404(session_id: int) -> DeskSession:
    session = db.session.scalar(
        select(DeskSession).options(joinedload(DeskSession.campaign), joinedload(DeskSession.venue))
        .where(DeskSession.id == session_id))
    if session is None:
        abort(404)
    return session


def _scope_note() -> str:
    """Whose people a chief's roster holds, printed in its header."""
    if current_user.role == "chief" and current_user.unit is not None:
        return _("People of %(unit)s and the units under it", unit=current_user.unit.name)
    return ""


def _roster_title(sessions: list[DeskSession]) -> tuple[str, str]:
    first = sessions[0]
    campaigns = ", ".join(dict.fromkeys(s.campaign.title for s in sessions))
    times = ", ".join(f"{clock(s.start_time)}–{clock(s.end_time)}" for s in sessions)
    return campaigns, f"{first.venue.name}  {first.date.isoformat()}  {times}"


def _render_roster(sessions: list[DeskSession], rows: list[reports.RosterRow], *,
                   file_base: str) -> ResponseReturnValue:
    fmt = request.args.get("format", "html")
    if fmt in ("csv", "xlsx"):
        exports.roster_exported(request_actor(), [s.id for s in sessions], fmt=fmt, rows=len(rows))
        if fmt == "csv":
            return _download(report_files.roster_csv(rows), CSV_MIMETYPE, f"{file_base}.csv")
        title, subtitle = _roster_title(sessions)
        note = _scope_note()
        return _download(
            report_files.roster_xlsx(rows, title=_("Roster: %(title)s", title=title),
                                     subtitle=subtitle + (f"  ({note})" if note else "")),
            XLSX_MIMETYPE, f"{file_base}.xlsx")
    pages = paginate(rows, ROSTER_ROWS_PER_PAGE)
    return render_template(
        "chiefs/roster_print.html", sessions=sessions, first=sessions[0], pages=pages, total=len(rows),
        scope_note=_scope_note(), printed_at=utcnow(), kind_label=report_files.kind_label,
        start_index=lambda page_index: page_index * ROSTER_ROWS_PER_PAGE,
        back_url=url_for(".sessions"), file_urls={
            "csv": request.base_url + "?format=csv", "xlsx": request.base_url + "?format=xlsx"},
    )


@bp.get("/sessions/<int:session_id>/roster")
@role_required(*READERS)
def session_roster(session_id: int) -> ResponseReturnValue:
    session = _session_or_404(session_id)
    rows = reports.roster_rows([session.id], _units())
    return _render_roster([session], rows, file_base=f"roster-{session.date.isoformat()}-{session.id}")


@bp.get("/venues/<int:venue_id>/<day>/roster")
@role_required(*READERS)
def day_roster(venue_id: int, day: str) -> ResponseReturnValue:
    try:
        on = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if db.session.get(Venue, venue_id) is None:
        abort(404)
    sessions = reports.sessions_for_day(venue_id, on)
    if not sessions:
        abort(404)
    rows = reports.roster_rows([s.id for s in sessions], _units())
    return _render_roster(sessions, rows, file_base=f"roster-{on.isoformat()}-venue{venue_id}")


# --- the unit page --------------------------------------------------------------------------


def _unit_choices() -> list[tuple[Unit, int]]:
    return reports.units_in_order(_units())


def _selected_units() -> tuple[set[int] | None, int | None]:
    """The units to list: one the chief picked (and everything under it), else all they may see."""
    allowed = _units()
    unit_id = request.args.get("unit", type=bounded_int)
    if not unit_id:
        return allowed, None
    require_unit_visible(current_user, unit_id)
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    from ..services.directory import units_under

    return set(units_under(unit)), unit_id


@bp.get("/unit")
@role_required(*READERS)
def unit_status() -> ResponseReturnValue:
    unit_ids, unit_id = _selected_units()
    filter_name = request.args.get("filter", "all")
    if filter_name not in reports.UNIT_FILTERS:
        filter_name = "all"
    page = max(request.args.get("page", 1, type=bounded_int), 1)
    query = reports.staff_query(unit_ids, filter_name)
    count = reports.count_staff(query)
    staff = list(db.session.scalars(
        query.options(joinedload(Staff.unit)).limit(STAFF_PER_PAGE).offset((page - 1) * STAFF_PER_PAGE)))
    summary = reports.total(reports.unit_status(card_status.today(), unit_ids))
    return render_template(
        "chiefs/unit_status.html", lines=reports.staff_lines(staff), count=count, page=page,
        pages=max((count + STAFF_PER_PAGE - 1) // STAFF_PER_PAGE, 1), filter_name=filter_name,
        filters=FILTER_LABELS, unit_id=unit_id, units=_unit_choices(), summary=summary,
        status_labels=card_status.STATUS_LABELS, reason_labels=card_status.REASON_LABELS,
    )


def _staff_or_404(staff_id: int) -> Staff:
    staff = db.session.scalar(select(Staff).options(selectinload(Staff.dependents), joinedload(Staff.unit))
                              .where(Staff.id == staff_id))
    if staff is None:
        abort(404)
    require_unit_visible(current_user, staff.unit_id)
    return staff


def _status_form(person: Staff | Dependent, key: str) -> CardStatusForm:
    form = CardStatusForm(prefix=key.replace(":", "-"), formdata=None)
    form.person.data = key
    form.card_status.data = person.card_status
    form.card_status_on.data = person.card_status_on or card_status.today()
    return form


def _render_staff(staff: Staff, *, status_forms: dict[str, CardStatusForm] | None = None,
                  reason_form: ReasonForm | None = None, status: int = 200) -> ResponseReturnValue:
    status_forms = status_forms or {}
    people: list[tuple[str, Staff | Dependent, CardStatusForm]] = [("staff", staff, status_forms.get("staff") or _status_form(staff, "staff"))]
    for dependent in staff.dependents:
        key = f"dependent:{dependent.id}"
        people.append((key, dependent, status_forms.get(key) or _status_form(dependent, key)))
    reason = card_status.reasons_for([staff.id]).get(staff.id)
    if reason_form is None:
        reason_form = ReasonForm(formdata=None)
        reason_form.reason.data = reason.reason if reason else ""
        reason_form.note.data = reason.note if reason else ""
    histories = {key: card_status.history(person) for key, person, _form in people}
    return render_template(
        "chiefs/staff.html", staff=staff, may_change=current_user.role in ROLES, people=people, reason_form=reason_form, reason=reason,
        histories=histories, status_labels=card_status.STATUS_LABELS, line=reports.staff_lines([staff])[0],
        reason_labels=card_status.REASON_LABELS, back=local_path(request.args.get("back")) or url_for(".unit_status"),
    ), status


@bp.get("/staff/<int:staff_id>")
@role_required(*READERS)
def staff_detail(staff_id: int) -> ResponseReturnValue:
    return _render_staff(_staff_or_404(staff_id))


def _person(staff: Staff, key: str) -> Staff | Dependent:
    if key == "staff":
        return staff
    kind, _sep, raw = key.partition(":")
    if kind == "dependent" and raw.isascii() and raw.isdigit():
        for dependent in staff.dependents:
            if str(dependent.id) == raw:
                return dependent
    abort(404)


@bp.post("/staff/<int:staff_id>/status")
@role_required(*ROLES)
def change_status(staff_id: int) -> ResponseReturnValue:
    staff = _staff_or_404(staff_id)
    key = request.form.get("key", "")
    form = CardStatusForm(prefix=key.replace(":", "-"))
    person = _person(staff, key)
    if not form.validate_on_submit() or form.person.data != key:
        return _render_staff(staff, status_forms={key: form}, status=422)
    try:
        card_status.edit_status(request_actor(), person, form.card_status.data, on=form.card_status_on.data)
    except DomainError as error:
        status = refused(error, form)
        return _render_staff(_staff_or_404(staff_id), status_forms={key: form}, status=status)
    flash(_("The card status of %(name)s is saved.", name=person.name), "success")
    return redirect(url_for(".staff_detail", staff_id=staff.id, back=local_path(request.args.get("back"))))


@bp.post("/staff/<int:staff_id>/reason")
@role_required(*ROLES)
def change_reason(staff_id: int) -> ResponseReturnValue:
    staff = _staff_or_404(staff_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _render_staff(staff, reason_form=form, status=422)
    try:
        card_status.edit_reason(request_actor(), staff, form.reason.data or None, form.note.data or "")
    except DomainError as error:
        status = refused(error, form)
        return _render_staff(_staff_or_404(staff_id), reason_form=form, status=status)
    flash(_("The reason is saved."), "success")
    return redirect(url_for(".staff_detail", staff_id=staff.id, back=local_path(request.args.get("back"))))


# --- invitation slips -----------------------------------------------------------------------


@bp.get("/slips")
@role_required(*ROLES)
def print_slips() -> ResponseReturnValue:
    """A4 sheets of cut-out invitation slips for the chosen staff, or for the filtered list."""
    ids = request.args.getlist("staff", type=bounded_int)
    if ids:
        query = select(Staff).where(Staff.id.in_(ids)).order_by(Staff.family_name_kana, Staff.id)
        allowed = _units()
        if allowed is not None:
            query = query.where(Staff.unit_id.in_(allowed))
    else:
        unit_ids, _unit_id = _selected_units()
        filter_name = request.args.get("filter", "no_card_no_reservation")
        if filter_name not in reports.UNIT_FILTERS:
            filter_name = "no_card_no_reservation"
        query = reports.staff_query(unit_ids, filter_name)
    staff = list(db.session.scalars(query.options(joinedload(Staff.unit)).limit(2000)))
    by_unit = reports.upcoming_sessions_by_unit(card_status.today())
    slips = []
    for person in staff:
        url = invitations.link_url(person)
        slips.append({
            "staff": person, "url": url, "code": invitations.code(person),
            "qr": qr.svg(url, label=_("QR code of your invitation link"), css_class="slip__qr"),
            "sessions": reports.sessions_at_station(person.unit, by_unit)[:4],
        })
    exports.slips_printed(request_actor(), [s.id for s in staff])
    return render_template("chiefs/slips_print.html", pages=paginate(slips, SLIPS_PER_PAGE), total=len(slips),
                           back_url=same_site_url(request.referrer) or url_for(".unit_status"))


# --- the calendar feed ----------------------------------------------------------------------


@bp.route("/calendar", methods=["GET", "POST"])
@role_required(*ROLES)
def calendar() -> ResponseReturnValue:
    if request.method == "POST":
        calendar_feed.rotate(request_actor())
        flash(_("A new calendar address is ready. The old one no longer works."), "success")
        return redirect(url_for(".calendar"))
    feed = calendar_feed.feed_for(current_user)
    return render_template("chiefs/calendar.html", url=calendar_feed.feed_url(feed))


@bp.get("/calendar/<token>.ics", endpoint="calendar_feed")
@ratelimits.calendar_feeds
def calendar_feed_view(token: str) -> ResponseReturnValue:
    user = calendar_feed.user_for_token(token)
    if user is None:
        abort(404)
    body = calendar_feed.calendar_for(user, visible_unit_ids(user), today=card_status.today())
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": "inline; filename=\"desk-sessions.ics\"",
        "Cache-Control": "private, max-age=300",
    })

