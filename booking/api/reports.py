"""Rosters and reports (roles chief, admin or hq): API.md's CSV resources.

A chief's files stop at the boundary of their units (DESIGN.md rule 8): the
queries themselves are filtered by visible_unit_ids, not the output.
"""
from __future__ import annotations

from datetime import date

from flask import Response, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..auth import visible_unit_ids
from ..extensions import db
from ..models import DeskSession
from ..services import card_life, card_status, exports, report_files, reports
from ..services.errors import DomainError, NotFound
from ..services.exports import CSV_MIMETYPE
from ..web import request_actor
from . import bp
from .common import office, office_user


def _csv(body: bytes, filename: str) -> Response:
    return Response(body, mimetype=CSV_MIMETYPE, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"", "Cache-Control": "no-store"})


@bp.get("/sessions/<int:session_id>/roster.csv")
@office("chief", "admin", "hq")
def session_roster_csv(session_id: int) -> ResponseReturnValue:
    user = office_user()
    session = db.session.get(DeskSession, session_id)
    if session is None:
        raise NotFound(_("No session has this id."))
    rows = reports.roster_rows([session.id], visible_unit_ids(user))
    exports.roster_exported(request_actor(), [session.id], fmt="csv", rows=len(rows))
    return _csv(report_files.roster_csv(rows), f"roster-{session.date.isoformat()}-{session.id}.csv")


@bp.get("/reports/status.csv")
@office("chief", "admin", "hq")
def status_csv() -> ResponseReturnValue:
    raw = request.args.get("as_of", "")
    try:
        as_of = date.fromisoformat(raw) if raw else card_status.today()
    except ValueError:
        raise DomainError("invalid", _("Check the fields listed."),
                          fields={"as_of": _("Write the date as YYYY-MM-DD.")}) from None
    months = request.args.get("expiring_months", "")
    if months and not (months.isdigit() and 1 <= int(months) <= card_life.MAX_WINDOW_MONTHS):
        raise DomainError("invalid", _("Check the fields listed."), fields={
            "expiring_months": _("A whole number of months from 1 to %(n)s.", n=card_life.MAX_WINDOW_MONTHS)})
    unit_ids = visible_unit_ids(office_user())
    statuses = reports.unit_status(as_of, unit_ids)
    cards = card_life.counts_by_unit(as_of, card_life.window_months(int(months) if months else None), unit_ids)
    # Recorded as the office page's file is: the unit figures leave the system either way.
    exports.status_exported(request_actor(), as_of, fmt="csv")
    return _csv(report_files.status_csv(statuses, cards), f"status-{as_of.isoformat()}.csv")
