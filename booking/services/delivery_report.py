"""How the cards of the applications handed in at the desks will reach people: mailed, or
collected at the counter and why (REASON_TEXTS), per session and per campaign.

Applications handed in before the desk recorded the delivery (a check-in marked submitted with
no application record, or a record without a delivery) count as "unknown", never as mail.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Application, Campaign, CheckIn, DeskSession, ReservationPerson, Slot
from .applications import REASON_TEXTS


@dataclass
class DeliveryLine:
    """The applications handed in at one session, or (session None) in a whole campaign."""

    campaign: Campaign
    session: DeskSession | None
    mail: int = 0
    counter: int = 0
    unknown: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def handed_in(self) -> int:
        return self.mail + self.counter + self.unknown

    def add(self, delivery: str | None, reasons: list[str]) -> None:
        if delivery == "mail":
            self.mail += 1
        elif delivery == "counter":
            self.counter += 1
            self.reasons.update(set(reasons))
        else:
            self.unknown += 1


@dataclass
class CampaignDelivery:
    total: DeliveryLine
    sessions: list[DeliveryLine]


def campaigns() -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).order_by(Campaign.id.desc())))


def reason_codes() -> list[str]:
    return list(REASON_TEXTS)


def delivery_by_campaign(campaign_id: int | None = None) -> list[CampaignDelivery]:
    """Each campaign (newest first) with its sessions in date order, counting handed-in applications."""
    query = (select(CheckIn, Application.delivery, Application.delivery_reasons, Slot.desk_session_id)
             .join(CheckIn.person).join(ReservationPerson.slot)
             .outerjoin(Application, Application.check_in_id == CheckIn.id)
             .where(or_(Application.submitted_at.is_not(None), CheckIn.is_application_submitted.is_(True))))
    sessions_query = select(DeskSession).options(joinedload(DeskSession.campaign), joinedload(DeskSession.venue))
    if campaign_id is not None:
        query = query.join(DeskSession, DeskSession.id == Slot.desk_session_id).where(
            DeskSession.campaign_id == campaign_id)
        sessions_query = sessions_query.where(DeskSession.campaign_id == campaign_id)
    sessions = {s.id: s for s in db.session.scalars(sessions_query).unique()}
    lines: dict[int, DeliveryLine] = {}
    for _check_in, delivery, reasons, session_id in db.session.execute(query):
        desk_session = sessions[session_id]
        line = lines.setdefault(session_id, DeliveryLine(desk_session.campaign, desk_session))
        line.add(delivery, list(reasons or []))
    by_campaign: dict[int, CampaignDelivery] = {}
    for line in sorted(lines.values(), key=lambda l: (l.session.date, l.session.start_time, l.session.id)):  # type: ignore[union-attr]
        entry = by_campaign.setdefault(line.campaign.id, CampaignDelivery(DeliveryLine(line.campaign, None), []))
        entry.sessions.append(line)
        entry.total.mail += line.mail
        entry.total.counter += line.counter
        entry.total.unknown += line.unknown
        entry.total.reasons.update(line.reasons)
    return sorted(by_campaign.values(), key=lambda c: c.total.campaign.id, reverse=True)


def csv_rows(report: list[CampaignDelivery]) -> tuple[list[str], list[list[object]]]:
    """One row per session and one per campaign (session columns empty), reasons as columns."""
    codes = reason_codes()
    header = ["campaign_id", "campaign", "session_id", "date", "venue", "handed_in", "mail", "counter",
              "unknown", *[f"counter_{code}" for code in codes]]
    rows: list[list[object]] = []
    for entry in report:
        for line in [*entry.sessions, entry.total]:
            s = line.session
            rows.append([line.campaign.id, line.campaign.title, s.id if s else "", s.date.isoformat() if s else "",
                         s.venue.name if s else "", line.handed_in, line.mail, line.counter, line.unknown,
                         *[line.reasons.get(code, 0) for code in codes]])
    return header, rows
