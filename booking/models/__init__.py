"""The models, one module per aggregate."""
from .audit import AuditEvent
from .campaigns import Campaign, DeskSession, Slot, Venue, campaign_units
from .organisation import CARD_STATUSES, ROLES, ApiToken, Dependent, Staff, Unit, User
from .reservations import (
    ACTIVE_STATUSES,
    CHANNELS,
    CheckIn,
    Photo,
    Reservation,
    ReservationPerson,
)
from .status import (  # noqa: E402
    NON_APPLICATION_REASONS,
    STATUS_SOURCES,
    CalendarFeed,
    CardStatusEvent,
    NonApplicationReason,
    StatusSnapshot,
)
from .types import UTCDateTime, utcnow

__all__ = [
    "ACTIVE_STATUSES", "CARD_STATUSES", "CHANNELS", "ROLES",
    "ApiToken", "AuditEvent", "Campaign", "CheckIn", "Dependent", "DeskSession", "Photo",
    "Reservation", "ReservationPerson", "Slot", "Staff", "UTCDateTime", "Unit", "User",
    "Venue", "campaign_units", "utcnow",
]
__all__ += [
    "NON_APPLICATION_REASONS", "STATUS_SOURCES", "CalendarFeed", "CardStatusEvent",
    "NonApplicationReason", "StatusSnapshot",
]
from .office import StaffImportBatch, StaffImportRows, kana_key, katakana  # noqa: E402

__all__ += ["StaffImportBatch", "StaffImportRows", "kana_key", "katakana"]
from .duty import APPROVAL_STATUSES, DUTY_SYSTEMS, DutyApproval, DutyCalendar, DutyCrew  # noqa: E402

__all__ += ["APPROVAL_STATUSES", "DUTY_SYSTEMS", "DutyApproval", "DutyCalendar", "DutyCrew"]
from .retention import CampaignRetention, RosterTally  # noqa: E402

__all__ += ["CampaignRetention", "RosterTally"]
