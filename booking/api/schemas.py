"""Shapes of the JSON API: request bodies are validated with these, and the OpenAPI
document is generated from the same classes, so the two cannot drift apart."""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from ..localtime import FIRST_YEAR, LAST_YEAR, in_our_years

CardStatus = Literal["none", "applied", "received"]
#: The card's finer state beside card_status (services.card_life); ``returned`` is asked for, never
#: answered: a returned card waits ``at_counter`` with its ``card_returned_on``.
CardStage = Literal["none", "applied", "mailed", "at_counter", "received"]
CardAction = Literal["none", "applied", "mailed", "at_counter", "received", "returned"]
Day = TypeVar("Day", bound=dt.date)


def _iso_text(kind: str) -> BeforeValidator:
    """Dates and times come as ISO 8601 text; pydantic would read a number as a Unix time."""

    def check(value: object) -> str:
        if not isinstance(value, str):
            raise PydanticCustomError(f"{kind}_type", "Input should be ISO 8601 text")
        return value

    return BeforeValidator(check)


def _in_our_years(value: Day) -> Day:
    """The years every date entered must fall in (localtime.in_our_years: the office forms and the
    services refuse the same dates with the same words)."""
    if not in_our_years(value):
        raise PydanticCustomError("year_range", f"Enter a date in the years {FIRST_YEAR} to {LAST_YEAR}")
    return value


DateTimeText = Annotated[dt.datetime, _iso_text("datetime"), AfterValidator(_in_our_years)]
DateText = Annotated[dt.date, _iso_text("date"), AfterValidator(_in_our_years)]
BirthDateText = Annotated[dt.date, _iso_text("date")]
#: Record ids: PostgreSQL integer columns end at 2**31 - 1; larger numbers match nothing.
Id = Annotated[StrictInt, Field(ge=1, le=2_147_483_647)]
#: API.md: times are HH:MM. Seconds and offsets are refused: schemathesis sent
#: 23:53:35.444720-03:41, which PostgreSQL refused to store (a 500) and SQLite kept, making slots
#: at odd seconds; a desk session starts on the minute, in Tokyo.
CLOCK_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
_CLOCK = re.compile(CLOCK_PATTERN)


def _clock_time(value: object) -> dt.time:
    if not isinstance(value, str):
        raise PydanticCustomError("time_type", "Input should be HH:MM text")
    if not _CLOCK.fullmatch(value):
        raise PydanticCustomError("time_format", "Input should be HH:MM, without seconds or an offset")
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


TimeText = Annotated[dt.time, BeforeValidator(_clock_time),
                     WithJsonSchema({"type": "string", "pattern": CLOCK_PATTERN, "examples": ["09:30"]})]
Text = Field(min_length=1, max_length=200)


class Body(BaseModel):
    # API.md: unknown fields are ignored; wrong types are refused.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class UnitIn(Body):
    # The code's form is the unit service's rule (checked there for pages and API alike).
    code: str = Field(min_length=1, max_length=32, description=(
        "Letters, digits and hyphens, no spaces; full-width characters are folded (Ｈ-１ is H-1)."))
    name: str = Field(min_length=1, max_length=100)
    parent_code: str | None = Field(default=None, max_length=32)


class DependentIn(Body):
    family_name: str = Field(min_length=1, max_length=50)
    given_name: str = Field(min_length=1, max_length=50)
    family_name_kana: str = Field(min_length=1, max_length=50)
    given_name_kana: str = Field(min_length=1, max_length=50)
    relation: str = Field(min_length=1, max_length=30)
    card_status: CardStatus = "none"
    #: Optional; the desk needs it (a child under 15 applies with a legal representative,
    #: a baby under 1 needs no photo). Not in the future, not before 1900.
    birth_date: BirthDateText | None = None
    #: Where the dependent is registered (local government code); none: as the staff member.
    municipality_code: str | None = Field(default=None, max_length=12)


class VenueIn(Body):
    name: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=1, max_length=200)
    unit_code: str | None = Field(default=None, max_length=32)
    notes: str = Field(default="", max_length=2000)


class CampaignIn(Body):
    title: str = Field(min_length=1, max_length=200)
    booking_opens_at: DateTimeText
    booking_closes_at: DateTimeText
    published: StrictBool = False
    what_to_bring: str = Field(default="", max_length=2000)
    # Its range is the campaign service's rule (checked there for pages and API alike); documented here.
    cutoff_minutes: StrictInt = Field(default=60, json_schema_extra={"minimum": 0, "maximum": 7 * 24 * 60})
    #: The section's phone number, told to bookers once booking has closed.
    contact_phone: str = Field(default="", max_length=30)
    #: Minutes after a slot's end before the desk may mark its bookings as no-shows.
    no_show_grace_minutes: StrictInt = Field(default=30, json_schema_extra={"minimum": 0, "maximum": 24 * 60})
    target_unit_codes: list[str] = Field(default_factory=list, max_length=500)
    #: One A document with the PIN entered is enough to mail the card at this campaign's desks.
    allows_single_photo_id_with_pin: StrictBool = False
    #: Local government codes whose residents the desks verify for mailing (none: the home one).
    mailing_municipality_codes: list[str] = Field(default_factory=list, max_length=100)
    # The reminder mail this many minutes before each booking; null: the day before at noon (Tokyo).
    reminder_minutes_before: StrictInt | None = Field(
        default=None, json_schema_extra={"minimum": 10, "maximum": 14 * 24 * 60})
    #: How long seats offered from a waiting list are held (never past the cut-off).
    waitlist_offer_minutes: StrictInt = Field(default=120, json_schema_extra={"minimum": 10, "maximum": 7 * 24 * 60})
    # How long a desk tablet keeps its offline roster after fetching it; null: the app's setting.
    desk_offline_keep_minutes: StrictInt | None = Field(
        default=None, json_schema_extra={"minimum": 10, "maximum": 24 * 60})


class SessionIn(Body):
    venue_id: Id
    date: DateText
    start_time: TimeText
    end_time: TimeText
    slot_minutes: StrictInt = Field(ge=1, le=24 * 60)
    desks: StrictInt = Field(ge=1, le=100)


class ReservationIn(Body):
    slot_id: Id
    staff_number: str = Field(min_length=1, max_length=32)
    invitation_code: str | None = Field(default=None, max_length=32)
    dependent_ids: list[Id] = Field(default_factory=list, max_length=20)
    #: False books only the dependents named (at least one): a staff member who already holds a
    #: card can still bring a spouse or a child.
    include_staff: StrictBool = True


class WaitlistIn(Body):
    """A party joining a full session's waiting list: with the invitation code (the booker), or
    with an admin token for a caller."""

    session_id: Id
    staff_number: str = Field(min_length=1, max_length=32)
    invitation_code: str | None = Field(default=None, max_length=32)
    dependent_ids: list[Id] = Field(default_factory=list, max_length=20)
    include_staff: StrictBool = True


class RescheduleIn(Body):
    slot_id: Id
    #: Who comes after the move; left out, as booked.
    dependent_ids: list[Id] | None = Field(default=None, max_length=20)
    include_staff: StrictBool | None = None


class CheckInIn(Body):
    """The text read from the confirmation QR, or the reservation code typed at the desk."""

    qr: str | None = Field(default=None, max_length=2000)
    code: str | None = Field(default=None, max_length=40)
    #: Reservation person ids of who is here; everyone on the reservation when left out.
    people: list[Id] | None = Field(default=None, max_length=20)


class LegalRepresentativeIn(Body):
    name: str = Field(default="", max_length=100)
    relation: str = Field(default="", max_length=30)
    identity_documents: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=20)


class ApplicationIn(Body):
    """What the clerk checked for the application of one checked-in person; every field optional,
    only those given are recorded (API.md, "The application at the desk")."""

    #: 申請書ID: 23 digits; full-width digits, spaces and hyphens are normalised.
    application_id: str | None = Field(default=None, max_length=60)
    identity_documents: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None, max_length=20)
    pin_form: StrictBool | None = None
    surrendered: list[Literal["notification_card", "juki_card", "my_number_card"]] | None = Field(
        default=None, max_length=3)
    address_change_planned: StrictBool | None = None
    pin_entered: StrictBool | None = None
    legal_representative: LegalRepresentativeIn | None = None
    #: An adult ward applies through a legal representative, like a child under 15.
    adult_ward: StrictBool | None = None
    #: For a dependent without a birth date on file: the age group the clerk confirmed.
    age_group: Literal["under_1", "under_15", "adult"] | None = None
    submitted: StrictBool | None = None


class IdentityDocumentOut(BaseModel):
    code: str
    name: str
    group: Literal["A", "B", "notice"]


class ApplicationOut(BaseModel):
    #: None until something is recorded for the check-in.
    id: int | None
    check_in_id: int
    application_id: str | None
    identity_documents: list[str]
    pin_form: bool
    pin_entered: bool
    surrendered: list[str]
    address_change_planned: bool
    adult_ward: bool
    age_group: Literal["under_1", "under_15", "adult"] | None
    legal_representative: LegalRepresentativeIn | None
    submitted: bool
    submitted_at: str | None
    application_submitted: bool
    delivery: Literal["mail", "counter"]
    delivery_reasons: list[str]
    missing: list[str]
    card_status: CardStatus
    card_status_on: str | None


# --- answers (documentation and tests; the views build plain dicts) ----------


class Error(BaseModel):
    error: str
    message: str
    fields: dict[str, str] | None = None


class ImportLineError(BaseModel):
    line: int
    field: str
    message: str


class ImportErrorOut(Error):
    errors: list[ImportLineError]


class UnitOut(BaseModel):
    id: int
    code: str
    name: str
    parent_code: str | None


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class InvitationOut(BaseModel):
    code: str
    url: str


class DependentOut(BaseModel):
    id: int
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    relation: str
    card_status: CardStatus
    birth_date: dt.date | None
    municipality_code: str | None = None
    card_stage: CardStage | None = None
    card_stage_on: dt.date | None = None
    card_returned_on: dt.date | None = None
    card_expires_on: dt.date | None = None
    certificates_expire_on: dt.date | None = None


class VenueOut(BaseModel):
    id: int
    name: str
    address: str
    unit_code: str | None = None
    notes: str = ""


class CampaignOut(BaseModel):
    id: int
    title: str
    booking_opens_at: dt.datetime
    booking_closes_at: dt.datetime
    published: bool = True
    what_to_bring: str = ""
    cutoff_minutes: int = 60
    allows_single_photo_id_with_pin: bool = False
    mailing_municipality_codes: list[str] = Field(default_factory=list)
    reminder_minutes_before: int | None = None
    contact_phone: str = ""
    no_show_grace_minutes: int = 30
    waitlist_offer_minutes: int = 120
    desk_offline_keep_minutes: int | None = None



class MessageOut(BaseModel):
    """A message about a booking: what went out, to whom, and how its delivery went (never its text)."""
    id: int
    kind: Literal["confirmation", "changed", "cancelled", "reminder", "approval", "address", "digest",
                  "waitlist_offer"]
    to: str = Field(description="The address it went (or was to go) to; empty when the staff member has none")
    status: Literal["queued", "sent", "failed", "not_sent"]
    attempts: int
    sent_at: dt.datetime | None
    last_error: str | None = Field(description="The mail server's last answer, or why it was not sent")
    created_at: dt.datetime


class SlotOut(BaseModel):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    remaining: int


class VenueBrief(BaseModel):
    id: int
    name: str
    address: str


class SessionOut(BaseModel):
    id: int
    venue: VenueBrief
    date: dt.date
    start_time: str = Field(pattern=r"^\d\d:\d\d$")
    end_time: str = Field(pattern=r"^\d\d:\d\d$")
    slot_minutes: int
    desks: int
    slots: list[SlotOut]


class SessionWarningOut(BaseModel):
    #: "overlap" (another session at the venue at the same time, its id in session_id) or "starts_in_past".
    code: Literal["overlap", "starts_in_past"]
    message: str
    session_id: int | None = None


class NewSessionOut(SessionOut):
    """The session as saved, with what the office page would have asked to confirm."""

    warnings: list[SessionWarningOut]


class ReservationSlot(BaseModel):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue: VenueBrief


class Person(BaseModel):
    kind: Literal["staff", "dependent"]
    name: str


class ReservationOut(BaseModel):
    id: int
    code: str
    status: Literal["booked", "cancelled", "checked_in", "no_show"]
    channel: Literal["web", "phone", "walk_in"]
    slot: ReservationSlot
    people: list[Person]
    manage_token: str
    manage_url: str
    ics_url: str
    qr_url: str


class WaitlistOffer(BaseModel):
    slot_id: int
    starts_at: dt.datetime | None
    #: The seats are held until then, never past the booking cut-off.
    expires_at: dt.datetime | None


class WaitlistEntryOut(BaseModel):
    id: int
    #: Opens the place (GET), leaves the list, accepts the offer: keep it secret.
    token: str
    session_id: int
    campaign_id: int
    status: Literal["waiting", "offered", "accepted", "expired", "withdrawn"]
    #: 1 is next; null once the entry is no longer waiting.
    place: int | None
    seats: int
    include_staff: bool
    dependent_ids: list[int]
    created_at: dt.datetime
    #: Set while seats are held for the party.
    offer: WaitlistOffer | None
    #: The booking made (or moved) by accepting.
    reservation_id: int | None


class AlreadyReservedOut(Error):
    reservation_code: str


class PhotoOut(BaseModel):
    width: int = Field(ge=480, le=6000)
    height: int = Field(ge=480, le=6000)


class CheckInPerson(BaseModel):
    id: int
    kind: Literal["staff", "dependent"]
    name: str


class CheckInRecord(BaseModel):
    id: int
    person: CheckInPerson
    checked_in_at: dt.datetime
    clerk: str
    application_submitted: bool
    photo: PhotoOut | None = None


class CheckInOut(BaseModel):
    #: The first check-in (the staff member's when present); its id takes the photo.
    id: int
    reservation: ReservationOut
    checked_in_at: dt.datetime
    check_ins: list[CheckInRecord]


class AlreadyCheckedInOut(Error):
    reservation_id: int
    checked_in_at: dt.datetime | None = None
    checked_in_by: str | None = None


class CardIn(Body):
    """The card's next step and/or its expiry dates; a date left out is kept, null clears it."""

    stage: CardAction | None = Field(default=None, description=(
        "applied → mailed or at_counter → received; returned: a mailed card came back to the city and "
        "waits at the counter. Backward moves correct a record (received → applied or none)."))
    on: DateText | None = Field(default=None, description="The day of the step (default today); not in the future.")
    card_expires_on: DateText | None = None
    certificates_expire_on: DateText | None = None


class CardOut(BaseModel):
    staff_number: str
    dependent_id: int | None = None
    card_status: CardStatus
    card_stage: CardStage
    card_stage_on: dt.date | None
    card_returned_on: dt.date | None
    card_expires_on: dt.date | None
    certificates_expire_on: dt.date | None
    #: How the desk said the card will reach the person (the latest application handed in).
    delivery: Literal["mail", "counter"] | None
