"""The report to the prefecture as sent (issue 18): once marked as sent, its file and figures are
kept, it downloads byte for byte as sent, and a later version shows what changed since.

Counts as of a past day no longer change when staff are imported or leave later
(services.membership), but a correction dated back (a status learnt late, a
departure entered late) still does: the prefecture holds the figures it was sent,
so those are kept, and the page says which unit's figures differ now.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..localtime import utcnow
from ..models import SentReport
from . import audit, card_status, report_files, reports
from .accounts import require_role
from .actor import Actor
from .errors import DomainError, NotFound
from .guard import refuse_individual_numbers

#: The counts kept per unit and compared: those of the report (reports.COUNT_FIELDS).
FIELDS = reports.COUNT_FIELDS
#: The key of the whole department's counts in the figures.
TOTAL = ""


def days_key(days: list[date]) -> str:
    return ",".join(d.isoformat() for d in sorted(days))


def figures(days: list[date]) -> dict[str, dict[str, dict]]:
    """{day: {unit code: {"unit": name, counts…}, "": the totals}}: what a report as of the days says."""
    rows = card_status.all_timelines()
    result: dict[str, dict[str, dict]] = {}
    for day in sorted(days):
        statuses = reports.unit_status(day, rows=rows)
        by_unit = {s.unit_code: {"unit": s.unit, **{f: getattr(s, f) for f in FIELDS}} for s in statuses}
        by_unit[TOTAL] = {"unit": "", **{f: getattr(reports.total(statuses), f) for f in FIELDS}}
        result[day.isoformat()] = by_unit
    return result


def sent_versions(days: list[date]) -> list[SentReport]:
    """The versions sent for these survey dates, newest first."""
    return list(db.session.scalars(
        select(SentReport).where(SentReport.days == days_key(days)).order_by(SentReport.version.desc())))


def mark_sent(actor: Actor, days: list[date], department: str) -> SentReport:
    """Make the XLSX report as of the days now, keep it and its figures as sent (admin)."""
    require_role(actor, "admin")
    department = (department or "").strip()[:100]
    refuse_individual_numbers({"department": department})
    today = card_status.today()
    if not days or any(day > today for day in days):
        raise DomainError("invalid", _l("A report can be recorded as sent only once its survey dates have come."))
    rows = card_status.all_timelines()
    forms = [(day, reports.total(reports.unit_status(day, rows=rows))) for day in sorted(days)]
    made_at = utcnow()
    body = report_files.upward_xlsx(department, forms, made_at=made_at)
    key = days_key(days)
    version = (db.session.scalar(select(func.max(SentReport.version)).where(SentReport.days == key)) or 0) + 1
    stem = "report-" + "_".join(d.isoformat() for d in sorted(days))
    sent = SentReport(days=key, version=version, department=department, filename=f"{stem}-v{version}.xlsx",
                      body=body, sha256=hashlib.sha256(body).hexdigest(), figures=figures(days),
                      sent_by_id=actor.user.id if actor.user else None, sent_at=made_at)
    db.session.add(sent)
    db.session.flush()
    audit.record("report.upward.sent", actor=actor, target_type="sent_report", target_id=sent.id,
                 as_of=[d.isoformat() for d in sorted(days)], version=version, sha256=sent.sha256)
    return sent


def get(report_id: int) -> SentReport:
    sent = db.session.get(SentReport, report_id)
    if sent is None:
        raise NotFound(_l("No such report."))
    return sent


def downloaded(actor: Actor, sent: SentReport) -> bytes:
    """The file exactly as sent; the download is recorded like the report's own."""
    audit.record("report.upward.sent_download", actor=actor, target_type="sent_report", target_id=sent.id,
                 version=sent.version)
    return sent.body


@dataclass(frozen=True)
class Difference:
    day: str
    unit_code: str
    unit: str
    field: str
    sent: int
    now: int


FIELD_LABELS = {
    "staff": _l("Staff"), "staff_applied": _l("Staff applicants"), "staff_received": _l("Staff holders"),
    "dependents": _l("Dependents"), "dependents_applied": _l("Dependent applicants"),
    "dependents_received": _l("Dependent holders"),
}


def differences(sent: SentReport, now: dict[str, dict[str, dict]]) -> list[Difference]:
    """Every unit's count that differs between the sent version and ``now`` (a ``figures``),
    the whole department's last in each day; a unit added or removed since counts from 0."""
    found = []
    for day in sorted(set(sent.figures) | set(now)):
        before, after = sent.figures.get(day, {}), now.get(day, {})
        codes = sorted(set(before) | set(after), key=lambda c: (c == TOTAL, c))
        for code in codes:
            old, new = before.get(code, {}), after.get(code, {})
            name = (new or old).get("unit") or _("Whole department")
            for field in FIELDS:
                if old.get(field, 0) != new.get(field, 0):
                    found.append(Difference(day, code, name, field, old.get(field, 0), new.get(field, 0)))
    return found


__all__ = ["FIELD_LABELS", "Difference", "days_key", "differences", "downloaded", "figures", "get", "mark_sent",
           "sent_versions"]
