"""HQ pages: thin views over services.reports, snapshots and status_import."""
from __future__ import annotations

import base64
import binascii
from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from .. import navigation
from ..auth import role_required, visible_unit_ids
from ..converters import bounded_int
from ..localtime import utcnow
from ..services import (
    card_life,
    card_status,
    delivery_report,
    exports,
    report_files,
    reports,
    sent_reports,
    snapshots,
    status_import,
)
from ..services.applications import REASON_TEXTS
from ..services.errors import DomainError
from ..services.exports import CSV_MIMETYPE, XLSX_MIMETYPE
from ..web import request_actor
from . import bp, charts
from .forms import ConfirmImportForm, MarkSentForm, SnapshotForm, StatusImportForm

#: Who reads the whole department's figures: the My Number section and HQ general affairs (the
#: ``hq`` role, read-only: it takes no snapshot and imports no survey).
READERS = ("admin", "hq")

navigation.register("reports.dashboard", _l("HQ dashboard"), READERS, order=60, section="hq")
navigation.register("reports.ranking", _l("Ranking"), ("admin", "chief", "clerk", "hq"), order=61, section="hq")
navigation.register("reports.status_import", _l("Status survey import"), ("admin",), order=62, section="hq")
navigation.register("reports.upward", _l("Report upward"), READERS, order=63, section="hq")


def _as_of() -> date:
    """?as_of=YYYY-MM-DD, not after today; today when absent or unreadable."""
    today = card_status.today()
    raw = request.args.get("as_of", "")
    try:
        day = date.fromisoformat(raw) if raw else today
    except ValueError:
        flash(_("Write the date as YYYY-MM-DD."), "error")
        day = today
    return min(day, today)


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"", "Cache-Control": "no-store"})


def _month_label(month: date) -> str:
    return f"{month.year}-{month.month:02d}"


@bp.get("/")
@role_required(*READERS)
def dashboard() -> ResponseReturnValue:
    as_of = _as_of()
    statuses = reports.unit_status(as_of)
    totals = reports.total(statuses, _("Total"))
    months = reports.monthly(card_status.today())
    trend_points = [charts.Point(_month_label(p.month), p.total().application_rate, p.total().acquisition_rate)
                    for p in months]
    staff_points = [charts.Point(_month_label(p.month), p.total().staff_application_rate,
                                 p.total().staff_acquisition_rate) for p in months]
    unit_bars = charts.bars([(s.unit, s.staff_application_rate, s.staff_acquisition_rate)
                             for s in statuses if s.staff], title=_("Staff rates per unit"))
    lines = reports.session_lines(None)
    return render_template(
        "reports/dashboard.html", as_of=as_of, statuses=statuses, totals=totals, months=months,
        trend=charts.trend(trend_points, title=_("Staff and dependents, month by month")),
        staff_trend=charts.trend(staff_points, title=_("Staff, month by month")),
        unit_bars=unit_bars, lines=lines,
        snapshot_form=SnapshotForm() if current_user.role == "admin" else None,
        fill_total=(sum(l.taken for l in lines), sum(l.capacity for l in lines),
                    sum(l.no_shows for l in lines)),
        months_taken=snapshots.months_taken()[:3],
        expiring_chart=_expiring_chart(card_status.today())[1],
    )


@bp.get("/status.<fmt>")
@role_required("admin", "chief", "hq")
def status_file(fmt: str) -> ResponseReturnValue:
    """The unit status as of a day, as the API's CSV or as XLSX; a chief's file holds their units."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    as_of = _as_of()
    statuses = reports.unit_status(as_of, visible_unit_ids(current_user))
    exports.status_exported(request_actor(), as_of, fmt=fmt)
    if fmt == "csv":
        cards = card_life.counts_by_unit(as_of, card_life.window_months(), visible_unit_ids(current_user))
        return _download(report_files.status_csv(statuses, cards), CSV_MIMETYPE, f"status-{as_of.isoformat()}.csv")
    body = report_files.status_xlsx(statuses, reports.total(statuses, _("Total")), as_of=as_of,
                                    title=_("Card status per unit"))
    return _download(body, XLSX_MIMETYPE, f"status-{as_of.isoformat()}.xlsx")


@bp.get("/ranking")
@role_required("admin", "chief", "clerk", "hq")
def ranking() -> ResponseReturnValue:
    """Hamamatsu's practice: every unit's rate shown to all staff (a page to print and post)."""
    as_of = _as_of()
    statuses = reports.unit_status(as_of)
    return render_template("reports/ranking.html", as_of=as_of, ranked=reports.ranking(statuses),
                           totals=reports.total(statuses, _("Whole department")))


@bp.post("/snapshot")
@role_required("admin")
def take_snapshot() -> ResponseReturnValue:
    form = SnapshotForm()
    if not form.validate_on_submit():
        abort(400)
    result = snapshots.take(request_actor())
    if result.already_taken:
        flash(_("The snapshot of %(month)s was already taken (as of %(day)s); it is kept as it was.",
                month=_month_label(result.month), day=result.as_of.isoformat()), "success")
    else:
        flash(_("The snapshot of %(month)s is saved.", month=_month_label(result.month)), "success")
    return redirect(url_for(".dashboard"))


# --- the monthly status survey --------------------------------------------------------------


@bp.route("/status-import", methods=["GET", "POST"], endpoint="status_import")
@role_required("admin")
def status_import_page() -> ResponseReturnValue:
    form = StatusImportForm()
    if request.method == "GET":
        form.survey_date.data = card_status.today()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("reports/status_import.html", form=form, errors=None), status
    upload = form.file.data
    data = upload.read()
    try:
        result = status_import.preview(data, upload.filename or "", survey_date=form.survey_date.data)
    except DomainError as error:
        for name, message in (error.fields or {}).items():
            form[name].errors = [message]
        return render_template("reports/status_import.html", form=form, message=error.message,
                               errors=error.extra.get("errors", [])), 422
    confirm = ConfirmImportForm(formdata=None)
    confirm.payload.data = base64.b64encode(data).decode()
    confirm.filename.data = upload.filename or ""
    confirm.survey_date.data = form.survey_date.data.isoformat()
    return render_template("reports/status_import_preview.html", result=result, confirm=confirm,
                           status_labels=card_status.STATUS_LABELS, stage_labels=card_life.STAGE_LABELS)


@bp.post("/status-import/confirm")
@role_required("admin")
def confirm_status_import() -> ResponseReturnValue:
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        data = base64.b64decode(form.payload.data, validate=True)
        survey_date = date.fromisoformat(form.survey_date.data)
    except (binascii.Error, ValueError):
        abort(400)
    try:
        result = status_import.apply(request_actor(), data, form.filename.data or "", survey_date=survey_date)
    except DomainError as error:  # answered 422: the request's transaction is rolled back
        return render_template("reports/status_import.html", form=StatusImportForm(formdata=None),
                               message=error.message, errors=error.extra.get("errors", [])), 422
    flash(_("%(n)s card statuses changed; %(m)s were already up to date.",
            n=len(result.changes), m=result.unchanged), "success")
    if result.card_changes:
        flash(_("%(n)s cards' stage or expiry dates changed.", n=len(result.card_changes)), "success")
    return redirect(url_for(".dashboard"))


# --- the report upward ----------------------------------------------------------------------


def _latest_report_day() -> date:
    """The coming surveys may be shown before their day, with the figures as they stand today."""
    today = card_status.today()
    return max(today, *reports.default_report_dates(today))


def _report_dates(values: MultiDict[str, str] | None = None) -> tuple[list[date], list[str]]:
    """The survey dates asked for (``as_of`` of the query or ``values``; the coming surveys by
    default), and those refused, as typed."""
    days, refused = [], []
    today = card_status.today()
    latest = _latest_report_day()
    for raw in (request.args if values is None else values).getlist("as_of"):
        if not raw.strip():
            continue
        try:
            day = date.fromisoformat(raw.strip())
        except ValueError:
            refused.append(raw.strip()[:20])
            continue
        if day > latest:
            refused.append(day.isoformat())
        elif day not in days:
            days.append(day)
    return (sorted(days) or reports.default_report_dates(today)), refused


@bp.get("/upward")
@role_required(*READERS)
def upward() -> ResponseReturnValue:
    """The report to the prefecture: a form per survey date (31 Dec, 31 Mar), as XLSX or CSV."""
    days, refused = _report_dates()
    department = (request.args.get("department") or reports.department_name()).strip()[:100]
    rows = card_status.all_timelines()
    forms = [(day, reports.total(reports.unit_status(day, rows=rows))) for day in days]
    fmt = request.args.get("format", "html")
    if fmt in ("csv", "xlsx"):
        exports.upward_exported(request_actor(), days, fmt=fmt)
        stem = "report-" + "_".join(d.isoformat() for d in days)
        if fmt == "csv":
            return _download(report_files.upward_csv(department, forms), CSV_MIMETYPE, f"{stem}.csv")
        return _download(report_files.upward_xlsx(department, forms, made_at=utcnow()), XLSX_MIMETYPE,
                         f"{stem}.xlsx")
    sent = sent_reports.sent_versions(days)
    changes = sent_reports.differences(sent[0], sent_reports.figures(days)) if sent else []
    can_send = current_user.role == "admin" and all(day <= card_status.today() for day in days)
    return render_template("reports/upward.html", forms=forms, days=days, department=department,
                           form_name=report_files.form_name, today=card_status.today(), refused=refused,
                           latest=_latest_report_day(), sent=sent, changes=changes,
                           field_labels=sent_reports.FIELD_LABELS,
                           send_form=MarkSentForm(department=department) if can_send else None)


@bp.post("/upward/sent")
@role_required("admin")
def mark_upward_sent() -> ResponseReturnValue:
    """Keep the report as of the dates, made now, as the version sent to the prefecture."""
    form = MarkSentForm()
    if not form.validate_on_submit():
        abort(400)
    days, refused = _report_dates(request.form)
    if refused or not request.form.getlist("as_of"):
        abort(400)
    try:
        sent = sent_reports.mark_sent(request_actor(), days, form.department.data or "")
    except DomainError as error:
        flash(str(error.message), "error")
        return redirect(url_for(".upward", as_of=[d.isoformat() for d in days], department=form.department.data))
    flash(_("Version %(n)s is recorded as sent; it downloads below exactly as sent.", n=sent.version), "success")
    return redirect(url_for(".upward", as_of=[d.isoformat() for d in days], department=sent.department))


@bp.get("/upward/sent/<int:report_id>.xlsx")
@role_required(*READERS)
def sent_upward_file(report_id: int) -> ResponseReturnValue:
    """A version as it was sent, byte for byte."""
    sent = sent_reports.get(report_id)
    return _download(sent_reports.downloaded(request_actor(), sent), XLSX_MIMETYPE, sent.filename)


# --- how the cards will reach people ---------------------------------------------------------

navigation.register("reports.delivery", _l("Mail or counter"), READERS, order=64, section="hq")


def _delivery_campaign() -> int | None:
    return request.args.get("campaign", type=bounded_int)


@bp.get("/delivery")
@role_required(*READERS)
def delivery() -> ResponseReturnValue:
    """Per session and campaign: applications handed in, mailed or collected at the counter, and why."""
    campaign_id = _delivery_campaign()
    return render_template("reports/delivery.html", report=delivery_report.delivery_by_campaign(campaign_id),
                           codes=delivery_report.reason_codes(), reason_texts=REASON_TEXTS,
                           campaigns=delivery_report.campaigns(),
                           campaign_id=campaign_id)


@bp.get("/delivery.csv")
@role_required(*READERS)
def delivery_csv() -> ResponseReturnValue:
    header, rows = delivery_report.csv_rows(delivery_report.delivery_by_campaign(_delivery_campaign()))
    return _download(exports.csv_bytes(header, rows), CSV_MIMETYPE, "delivery.csv")


# --- cards expiring month by month -------------------------------------------------------------

navigation.register("reports.expiring", _l("Expiring cards"), READERS, order=65, section="hq")

#: How far ahead the chart looks: renewals are planned a year and a half out.
EXPIRING_MONTHS = 18


def _expiring_chart(today: date) -> tuple[list[card_life.ExpiryMonth], Markup]:
    months = card_life.expiring_by_month(today, EXPIRING_MONTHS)
    chart = charts.monthly_counts([charts.MonthCount(_month_label(m.month), m.cards, m.certificates)
                                   for m in months],
                                  title=_("Cards and certificates expiring, month by month"))
    return months, chart


@bp.get("/expiring")
@role_required(*READERS)
def expiring() -> ResponseReturnValue:
    """Cards and certificates of card holders that expire in each of the next 18 months, as a
    chart drawn on the server and a table: a page to print for planning renewal desks."""
    today = card_status.today()
    months, chart = _expiring_chart(today)
    return render_template("reports/expiring.html", today=today, months=months, chart=chart,
                           total=(sum(m.cards for m in months), sum(m.certificates for m in months)))
