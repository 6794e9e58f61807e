"""The models, one module per aggregate."""
from .applications import (
    AGE_GROUPS,
    DELIVERIES,
    DOCUMENT_GROUPS,
    SURRENDERED_CARDS,
    Application,
    IdentityDocument,
    Municipality,
    campaign_mailing_municipalities,
)
from .audit import AuditEvent
from .campaigns import Campaign, DeskSession, Slot, Venue, campaign_units
from .cards import CARD_STAGES, STAGE_STATUS
from .duty import APPROVAL_STATUSES, DUTY_SYSTEMS, DutyApproval, DutyCalendar, DutyCrew
from .imports import StaffImportBatch, StaffImportNumbers, StaffImportRows
from .mail import MESSAGE_KINDS, MESSAGE_STATUSES, JobRun, OutboxMessage
from .organisation import CARD_STATUSES, ROLES, ApiToken, Dependent, RecoveryCode, Staff, Unit, User, kana_key, katakana
from .reservations import (
    ACTIVE_STATUSES,
    CHANNELS,
    CheckIn,
    DeskAction,
    Photo,
    Reservation,
    ReservationPerson,
)
from .retention import CampaignRetention, RosterTally
from .sent_reports import SentReport
from .status import (
    NON_APPLICATION_REASONS,
    STATUS_SOURCES,
    CalendarFeed,
    CardStatusEvent,
    NonApplicationReason,
    StatusSnapshot,
)
from .types import UTCDateTime
from .waitlist import OPEN_WAITLIST_STATUSES, WAITLIST_STATUSES, WaitlistEntry, WaitlistHold

__all__ = [
    "ACTIVE_STATUSES", "AGE_GROUPS", "APPROVAL_STATUSES", "CARD_STAGES", "CARD_STATUSES", "CHANNELS", "DELIVERIES",
    "DOCUMENT_GROUPS", "DUTY_SYSTEMS", "MESSAGE_KINDS", "MESSAGE_STATUSES", "NON_APPLICATION_REASONS",
    "OPEN_WAITLIST_STATUSES", "ROLES", "STAGE_STATUS", "STATUS_SOURCES", "SURRENDERED_CARDS", "WAITLIST_STATUSES",
    "ApiToken", "Application", "AuditEvent", "CalendarFeed", "Campaign", "CampaignRetention", "CardStatusEvent",
    "CheckIn", "Dependent", "DeskAction", "DeskSession", "DutyApproval", "DutyCalendar", "DutyCrew",
    "IdentityDocument", "JobRun", "Municipality", "NonApplicationReason", "OutboxMessage", "Photo", "RecoveryCode",
    "Reservation", "ReservationPerson", "RosterTally", "SentReport", "Slot", "Staff", "StaffImportBatch",
    "StaffImportNumbers", "StaffImportRows", "StatusSnapshot", "UTCDateTime", "Unit", "User", "Venue",
    "WaitlistEntry", "WaitlistHold", "campaign_mailing_municipalities", "campaign_units", "kana_key", "katakana",
]
