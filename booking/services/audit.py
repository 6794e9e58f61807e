"""Recording who did what (DESIGN.md: audit event)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AuditEvent, User
from .actor import Actor
from .guard import scrub_for_audit


def record(action: str, *, actor: Actor, target_type: str = "", target_id: object = "",
           **details: object) -> AuditEvent:
    """Add an audit event to the current transaction; it commits or rolls back with the act."""
    return _add(action, actor, target_type, target_id, details)


def _add(action: str, actor: Actor, target_type: str, target_id: object, details: dict[str, object]) -> AuditEvent:
    actor, details = scrub_for_audit(actor, details)  # rule 6: no individual number in the log
    event = AuditEvent(
        user_id=actor.user.id if actor.user is not None else None,
        actor=actor.label,
        channel=actor.channel,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        remote_addr=(actor.address or "")[:64],
        details={k: v for k, v in details.items() if v is not None},
    )
    db.session.add(event)
    db.session.flush()  # its id is shown (links to the event) before the request commits
    return event


def record_apart(action: str, *, actor: Actor, target_type: str = "", target_id: object = "",
                 **details: object) -> AuditEvent:
    """An event that must outlive the refusal it records (a failed sign-in, a refused import).

    The request's own transaction is undone first, so the event commits alone and the
    refused act leaves nothing else behind.
    """
    db.session.rollback()
    event = _add(action, actor, target_type, target_id, details)
    db.session.commit()
    return event


# --- reading the log (the admin's audit page) ---------------------------------------------

#: Groups of actions the audit page filters by; each is a list of action prefixes.
ACTION_GROUPS = {
    "login": ("login", "logout"),
    "user": ("user.",),
    "import": ("import.",),
    "staff": ("staff.", "dependent.", "invitation.", "unit.", "venue."),
    "booking": ("reservation.", "waitlist."),
    "session": ("session.", "campaign."),
    # Everything that took personal data out of the system: files, prints of rosters, the
    # reports, a person's data on request and application photos.
    "export": ("export.", "roster.export", "report.status", "report.upward", "personal_data.export",
               "photo.download"),
}


#: What each recorded action means, for people reading the log (the codes stay in the data,
#: the filters and any export). A code without a label here is shown as it is.
ACTION_LABELS = {
    "login": _l("Signed in"),
    "login.failed": _l("Sign-in failed"),
    "login.blocked": _l("Sign-in blocked (too many attempts)"),
    "login.code_failed": _l("Sign-in code wrong"),
    "logout": _l("Signed out"),
    "user.create": _l("User created"),
    "user.update": _l("User changed"),
    "user.password_reset": _l("Password reset"),
    "user.two_factor_started": _l("Two-step sign-in set-up started"),
    "user.two_factor_on": _l("Two-step sign-in turned on"),
    "user.two_factor_reset": _l("Two-step sign-in reset"),
    "user.cli": _l("User created or changed on the command line"),
    "api_token.create": _l("API token created"),
    "api_token.revoke": _l("API tokens revoked"),
    "import.staff": _l("Staff list imported"),
    "import.staff.started": _l("Staff list import started"),
    "import.staff.refused": _l("Staff list import refused"),
    "import.staff.failed": _l("Staff list import failed"),
    "import.staff.discarded": _l("Staff list upload discarded"),
    "staff.update": _l("Staff member changed"),
    "staff.email_requested": _l("Mail address change requested by the booker"),
    "staff.email_confirmed": _l("Mail address confirmed by the booker"),
    "dependent.create": _l("Dependent added"),
    "dependent.update": _l("Dependent changed"),
    "dependent.delete": _l("Dependent removed"),
    "membership.edit": _l("Joining or leaving date changed"),
    "import.staff.departures": _l("Staff missing from a full import marked as left"),
    "invitation.reissue": _l("Invitation reissued"),
    "invitation.slips": _l("Invitation slips printed"),
    "unit.create": _l("Unit added"),
    "unit.update": _l("Unit changed"),
    "unit.duty_calendar": _l("Duty calendar changed"),
    "venue.create": _l("Venue added"),
    "venue.update": _l("Venue changed"),
    # One action per act whoever booked and however: the channel and the actor say how and who.
    "reservation.book": _l("Booking made"),
    "reservation.move": _l("Booking moved"),
    "reservation.cancel": _l("Booking cancelled"),
    "message.read": _l("Mail message read"),
    "waitlist.join": _l("Joined a waiting list"),
    "waitlist.leave": _l("Left a waiting list"),
    "waitlist.offer": _l("Seats offered from the waiting list"),
    "waitlist.expire": _l("Waiting-list offer expired"),
    # Events recorded before bookings through the API were "reservation.book" too.
    "reservation.create": _l("Booked through the API"),
    "reservation.duty_approved": _l("Booking in duty hours approved"),
    "reservation.duty_declined": _l("Booking in duty hours declined"),
    "reservation.duty_withdrawn": _l("Booking in duty hours withdrawn before the decision"),
    "campaign.create": _l("Campaign created"),
    "campaign.update": _l("Campaign changed"),
    "campaign.mailing_municipalities": _l("Municipalities verified for mailing changed"),
    "municipality.created": _l("Municipality added"),
    "municipality.updated": _l("Municipality changed"),
    "identity_document.created": _l("Identity document added"),
    "identity_document.updated": _l("Identity document changed"),
    "session.create": _l("Session added"),
    "session.update": _l("Session changed"),
    "session.copy": _l("Session copied"),
    "session.cancel": _l("Session cancelled"),
    "export.staff": _l("Staff list exported"),
    "roster.export": _l("Roster exported"),
    "report.status": _l("Status report exported"),
    "report.upward": _l("Report to the prefecture exported"),
    "report.snapshot": _l("Monthly figures recorded"),
    "report.upward.sent": _l("Report to the prefecture marked as sent"),
    "report.upward.sent_download": _l("Report to the prefecture downloaded as sent"),
    "card_status.import": _l("Status survey imported"),
    "card_status.edit": _l("Card status edited"),
    "card.change": _l("Card stage or expiry changed"),
    "reason.edit": _l("Reason for not applying edited"),
    "calendar_feed.rotate": _l("Calendar feed link renewed"),
    "checkin": _l("Checked in"),
    "checkin.late": _l("Late arrival checked in"),
    "application.submitted": _l("Application submitted"),
    "application.recorded": _l("Application record changed"),
    "walk_in": _l("Walk-in seated"),
    "walk_in.over_capacity": _l("Walk-in seated over capacity"),
    "no_show.mark": _l("No-shows marked"),
    "photo.take": _l("Photo taken"),
    "photo.retake": _l("Photo taken again"),
    "photo.view": _l("Photo viewed"),
    "photo.download": _l("Photo downloaded"),
    "photo.session_print": _l("Photos of a session printed"),
    "photo.session_download": _l("Photos of a session downloaded"),
    "photo.retention": _l("Photo retention changed"),
    "photo.purge": _l("Photos deleted after their retention"),
    "retention.set": _l("Retention of bookings changed"),
    "retention.purge": _l("Bookings deleted after their retention"),
    "personal_data.export": _l("Personal data disclosed"),
    "personal_data.erase": _l("Personal data deleted"),
}

#: The kinds of record an event is about; the log shows "Session #12" for desk_session 12.
#: "session" (office edits) and "desk_session" (desk and rosters) are the same record.
TARGET_LABELS = {
    "message": _l("Mail message"),
    "staff": _l("Staff member"),
    "dependent": _l("Dependent"),
    "reservation": _l("Reservation"),
    "waitlist_entry": _l("Waiting-list entry"),
    "check_in": _l("Check-in"),
    "photo": _l("Photo"),
    "slot": _l("Slot"),
    "session": _l("Session"),
    "desk_session": _l("Session"),
    "campaign": _l("Campaign"),
    "unit": _l("Unit"),
    "venue": _l("Venue"),
    "user": _l("User"),
    "staff_import": _l("Staff list import"),
}

#: Names of the details events carry (the keyword arguments of ``record``).
DETAIL_LABELS = {
    "absent": _l("Absent"),
    "added_capacity": _l("Seats added"),
    "applied": _l("Lines applied"),
    "approval_id": _l("Approval"),
    "as_of": _l("As of"),
    "bytes": _l("Bytes"),
    "campaign_id": _l("Campaign"),
    "cancelled": _l("Bookings cancelled"),
    "capacity_before": _l("Seats before"),
    "card_expires_on": _l("Card expires on"),
    "card_status": _l("Card status"),
    "cards": _l("Cards changed"),
    "certificates_expire_on": _l("Certificates expire on"),
    "changed": _l("Changed"),
    "channel": _l("Booked through"),
    "check_in_id": _l("Check-in"),
    "check_ins": _l("Check-ins"),
    "code": _l("Code"),
    "copies": _l("Copied to"),
    "count": _l("Count"),
    "created": _l("Created"),
    "crew": _l("Crew"),
    "crews": _l("Crews"),
    "date": _l("Date"),
    "dates": _l("Dates"),
    "days": _l("Days"),
    "dependents": _l("Dependents"),
    "error": _l("Error"),
    "error_line": _l("Line"),
    "errors": _l("Errors"),
    "filename": _l("File"),
    "form": _l("Form"),
    "format": _l("Format"),
    "from": _l("Moved from"),
    "height": _l("Height"),
    "is_active": _l("Active"),
    "joined_on": _l("Joined on"),
    "left_on": _l("Left on"),
    "lines": _l("Lines"),
    "month": _l("Month"),
    "moved": _l("Bookings moved"),
    "on": _l("Date"),
    "over_capacity": _l("Over capacity"),
    "people": _l("People"),
    "photos": _l("Photos"),
    "previous_days": _l("Days before"),
    "previous_stage": _l("Stage before"),
    "previous_status": _l("Status before"),
    "q": _l("Search"),
    "reason": _l("Reason"),
    "requires_duty_approval": _l("Duty-hours approval"),
    "reservations": _l("Reservations"),
    "role": _l("Role"),
    "rows": _l("Rows"),
    "seats": _l("Seats"),
    "seats_taken_before": _l("Seats taken before"),
    "sha256": _l("SHA-256"),
    "shift_start": _l("Shift start"),
    "slot_id": _l("Slot"),
    "slots": _l("Slots"),
    "stage": _l("Stage"),
    "staff_ids": _l("Staff"),
    "staff_number": _l("Staff number"),
    "status": _l("Status"),
    "suggested_for": _l("Suggested for"),
    "survey_date": _l("Survey date"),
    "system": _l("Duty system"),
    "unchanged": _l("Unchanged"),
    "unit_id": _l("Unit"),
    "updated": _l("Updated"),
    "username": _l("Username"),
    "version": _l("Version"),
    "via": _l("Via"),
    "width": _l("Width"),
}


def action_label(action: str) -> str:
    """The action in the reader's language; an action nobody labelled yet shows its code."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def target_label(target_type: str, target_id: object = "") -> str:
    """ "Session #12": the kind of record in the reader's language, and its id."""
    if not target_type:
        return ""
    label = TARGET_LABELS.get(target_type)
    name = str(label) if label is not None else target_type
    return f"{name} #{target_id}" if target_id not in (None, "") else name


def actor_label(actor: str) -> str:
    """Who acted, for a reader outside the office: an office username as it is, the booker
    ("booker:<staff number>") and the command line ("cli") in words."""
    if actor.startswith("booker:"):
        return str(_l("The staff member (booking page)"))
    if actor == "cli":
        return str(_l("The system"))
    return actor or "—"


def detail_label(key: str) -> str:
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key


#: Names of the fields a "changed" list names (campaigns, sessions, staff, users).
FIELD_LABELS = {
    "created": _l("created"),
    "title": _l("title"),
    "booking_opens_at": _l("booking opens"),
    "booking_closes_at": _l("booking closes"),
    "is_published": _l("published"),
    "what_to_bring": _l("what to bring"),
    "cutoff_minutes": _l("booking cut-off"),
    "target_units": _l("units"),
    "requires_duty_approval": _l("duty-hours approval"),
    "venue_id": _l("venue"),
    "date": _l("date"),
    "start_time": _l("start time"),
    "end_time": _l("end time"),
    "slot_minutes": _l("slot length"),
    "desks": _l("desks"),
    "card_status": _l("card status"),
    "family_name": _l("family name"),
    "given_name": _l("given name"),
    "family_name_kana": _l("family name (kana)"),
    "given_name_kana": _l("given name (kana)"),
    "crew": _l("crew"),
    "email": _l("email"),
    "phone": _l("phone"),
    "unit_id": _l("unit"),
    "display_name": _l("name"),
    "role": _l("role"),
    "is_active": _l("may sign in"),
    "password": _l("password"),
}
_CARD_STAGES = {"none": _l("No card"), "applied": _l("Applied"), "mailed": _l("Mailed to the person"),
                "at_counter": _l("Ready at the counter"), "received": _l("Received"),
                "returned": _l("Returned to sender")}
#: Values some details hold, in words (a code nobody labelled shows as it is).
VALUE_LABELS = {
    "channel": {"web": _l("Web"), "phone": _l("Phone"), "walk_in": _l("Walk-in")},
    "card_status": {"none": _l("No card"), "applied": _l("Applied"), "received": _l("Received")},
    "previous_status": {"none": _l("No card"), "applied": _l("Applied"), "received": _l("Received"),
                        "booked": _l("Booked"), "cancelled": _l("Cancelled"), "checked_in": _l("Checked in"),
                        "no_show": _l("No-show")},
    "status": {"booked": _l("Booked"), "cancelled": _l("Cancelled"), "checked_in": _l("Checked in"),
               "no_show": _l("No-show")},
    "role": {"admin": _l("Admin"), "chief": _l("Chief"), "clerk": _l("Desk clerk")},
    "stage": _CARD_STAGES,
    "previous_stage": _CARD_STAGES,
}


def _detail_value(value: object) -> str:
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, list):
        if any(isinstance(item, dict) for item in value):
            return str(len(value))  # moved / cancelled reservations: how many (the contact list has them)
        return ", ".join(" ".join(map(str, item)) if isinstance(item, list) else str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class DetailReader:
    """Events' details in words for the log page: labels, field names, codes, and the records ids
    point to (a slot as its time, sessions as date and venue, a campaign, unit or venue by name),
    looked up once for the whole page (issue 16: 「枠 177」 and 「コピー数 9, 10」 meant nothing)."""

    def __init__(self, events: list[AuditEvent]):
        from ..formatting import day_label, when
        from ..models import Campaign, DeskSession, Slot, Unit, Venue

        wanted: dict[str, set[int]] = {"slot": set(), "session": set(), "campaign": set(), "unit": set(),
                                       "venue": set()}
        for event in events:
            details = event.details or {}
            for key, kind in (("slot_id", "slot"), ("campaign_id", "campaign"), ("unit_id", "unit"),
                              ("venue_id", "venue")):
                if isinstance(details.get(key), int):
                    wanted[kind].add(details[key])
            copies = details.get("copies")
            if isinstance(copies, list):
                wanted["session"].update(c for c in copies if isinstance(c, int))
        self.names: dict[tuple[str, int], str] = {}
        if wanted["slot"]:
            for slot in db.session.scalars(select(Slot).where(Slot.id.in_(wanted["slot"]))):
                self.names["slot", slot.id] = when(slot.starts_at)
        if wanted["session"]:
            for session in db.session.scalars(select(DeskSession).options(joinedload(DeskSession.venue))
                                              .where(DeskSession.id.in_(wanted["session"]))):
                self.names["session", session.id] = f"{day_label(session.date)} {session.venue.name}"
        for kind, column, label in (("campaign", Campaign.id, Campaign.title), ("unit", Unit.id, Unit.name),
                                    ("venue", Venue.id, Venue.name)):
            if wanted[kind]:
                for row_id, name in db.session.execute(select(column, label).where(column.in_(wanted[kind]))):
                    self.names[kind, row_id] = name

    def _value(self, key: str, value: object) -> str:
        kinds = {"slot_id": "slot", "campaign_id": "campaign", "unit_id": "unit", "venue_id": "venue"}
        if key in kinds and isinstance(value, int):
            return self.names.get((kinds[key], value), f"#{value}")
        if key == "copies" and isinstance(value, list):
            return ", ".join(self.names.get(("session", c), f"#{c}") for c in value if isinstance(c, int))
        if key == "changed" and isinstance(value, list):
            return ", ".join(str(FIELD_LABELS.get(v, v)) if isinstance(v, str) else str(v) for v in value)
        if key in VALUE_LABELS and isinstance(value, str):
            return str(VALUE_LABELS[key].get(value, value))
        if key in ("date", "dates", "on"):
            return ", ".join(self._day(v) for v in (value if isinstance(value, list) else [value]))
        return _detail_value(value)

    @staticmethod
    def _day(value: object) -> str:
        from ..formatting import day_label

        try:
            return day_label(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)

    def __call__(self, details: dict | None) -> list[tuple[str, str]]:
        return [(detail_label(key), self._value(key, value)) for key, value in (details or {}).items()
                if value != []]


def readable_details(details: dict | None) -> list[tuple[str, str]]:
    """An event's details as (label, value) pairs, without looking anything up; empty lists are left out."""
    return [(detail_label(key), _detail_value(value)) for key, value in (details or {}).items()
            if value != []]


@dataclass
class AuditFilter:
    group: str = ""
    action: str = ""
    username: str = ""
    target_type: str = ""
    target_id: str = ""
    remote_addr: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class AuditPage:
    rows: list[AuditEvent]
    total: int
    page: int
    pages: int


def search(actor: User, filters: AuditFilter, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """Events newest first, filtered; only an admin reads the log."""
    from .accounts import require_role

    require_role(actor, "admin")
    query = select(AuditEvent)
    if filters.group in ACTION_GROUPS:
        query = query.where(or_(*[
            AuditEvent.action.startswith(p) if p.endswith(".") else
            or_(AuditEvent.action == p, AuditEvent.action.startswith(p + "."))
            for p in ACTION_GROUPS[filters.group]
        ]))
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.username:
        query = query.where(AuditEvent.actor == filters.username.strip())
    if filters.target_type:
        query = query.where(AuditEvent.target_type == filters.target_type)
    if filters.target_id:
        query = query.where(AuditEvent.target_id == filters.target_id.strip())
    if filters.remote_addr:
        query = query.where(AuditEvent.remote_addr == filters.remote_addr.strip())
    if filters.since:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.occurred_at < filters.until)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(
        query.options(joinedload(AuditEvent.user))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return AuditPage(list(rows), total, page, pages)


def known_actions() -> list[str]:
    """The action codes in the log."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def action_choices() -> list[tuple[str, str]]:
    """(code, label) of every action in the log, for the filter; in the order of the codes, which
    keeps related actions together (sign-ins, photos, …)."""
    return [(code, action_label(code)) for code in known_actions()]


def event_for(target_type: str, target_id: object, event_id: int) -> AuditEvent | None:
    """One event, only when it is about the given record (a contact list names its event)."""
    event = db.session.get(AuditEvent, event_id)
    if event is None or event.target_type != target_type or event.target_id != str(target_id):
        return None
    return event
