"""Office forms: Flask-WTF checks the shape (and CSRF); rules that need the database live in services."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ..converters import BoundedIntegerField, bounded_int, optional_bounded_int
from ..localtime import in_our_years, year_range_message
from ..models import CARD_STATUSES, ROLES

ROLE_LABELS = {"admin": _l("Admin (My Number section)"), "chief": _l("Chief (one unit and below)"),
               "clerk": _l("Desk clerk"), "hq": _l("HQ general affairs (all units, read-only)")}
CARD_LABELS = {"none": _l("No card"), "applied": _l("Applied"), "received": _l("Received")}


def opts(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3 wants select choices."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def _optional_int(value: str | int | None) -> int | None:
    return optional_bounded_int(value)


def in_years(form: FlaskForm, field: Any) -> None:
    """The API's year range (localtime.in_our_years), with its words: a date it refuses is refused here."""
    if field.data is not None and not in_our_years(field.data):
        raise ValidationError(year_range_message())


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class CodeForm(FlaskForm):
    """The second sign-in step and the enrolment's check: 6 digits, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])


# --- users ------------------------------------------------------------------------------


class _UserFields(FlaskForm):
    display_name = StringField(_l("Name shown"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), choices=opts([(r, ROLE_LABELS[r]) for r in ROLES]))
    unit_id = SelectField(_l("Unit (chiefs only)"), coerce=_optional_int, validate_choice=False)
    email = EmailField(_l("E-mail address"), validators=[Optional(), Length(max=254)])


class UserCreateForm(_UserFields):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    password_again = PasswordField(
        _l("Password again"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class UserEditForm(_UserFields):
    is_active = BooleanField(_l("May sign in"))


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    password_again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


# --- units and venues -------------------------------------------------------------------


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    parent_id = SelectField(_l("Under"), coerce=_optional_int, validate_choice=False)


class VenueForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=200)])
    unit_id = SelectField(_l("Building of unit"), coerce=_optional_int, validate_choice=False)
    notes = TextAreaField(_l("Access notes (entrance, parking…)"), validators=[Optional(), Length(max=2000)])


# --- staff ------------------------------------------------------------------------------


class StaffFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("Staff number or kana"), validators=[Optional(), Length(max=60)])
    unit = SelectField(_l("Unit"), coerce=_optional_int, validate_choice=False)
    crew = SelectField(_l("Crew"), validate_choice=False)
    card = SelectField(_l("Card"), validate_choice=False, choices=opts([("", _l("Any"))] + [(c, CARD_LABELS[c]) for c in CARD_STATUSES]))


class StaffForm(FlaskForm):
    family_name = StringField(_l("Family name"), validators=[DataRequired(), Length(max=50)])
    given_name = StringField(_l("Given name"), validators=[DataRequired(), Length(max=50)])
    family_name_kana = StringField(_l("Family name (kana)"), validators=[DataRequired(), Length(max=50)])
    given_name_kana = StringField(_l("Given name (kana)"), validators=[DataRequired(), Length(max=50)])
    unit_id = SelectField(_l("Unit"), coerce=_optional_int, validate_choice=False, validators=[InputRequired()])
    crew = StringField(_l("Crew"), validators=[Optional(), Length(max=20)])
    email = StringField(_l("Email"), validators=[Optional(), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("This is not an email address.")),
                                                 Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    card_status = SelectField(_l("Card status"), choices=opts([(c, CARD_LABELS[c]) for c in CARD_STATUSES]))
    card_status_on = DateField(_l("Since"), validators=[Optional()])
    #: Choices set by the view from the municipalities page ("" not known).
    municipality_code = SelectField(_l("Registered in (住民登録地)"), validate_choice=False)
    #: Membership over time (services.membership): who counts in a report as of a day.
    joined_on = DateField(_l("Joined on"), validators=[Optional()])
    left_on = DateField(_l("Left on"), validators=[Optional()])


#: The directory's words for a date of birth it refuses (services/directory.check_birth_date).
BIRTH_DATE_MESSAGE = _l("Enter the date of birth as it is on a document, e.g. 2015-04-01.")


class BirthDateField(DateField):
    """A date of birth from a date picker (2015-04-01) or typed where there is none (2015/4/1).

    Text that is no date gets the same message as a date the directory refuses (ahead of today,
    before 1900), so the field says one thing whatever went wrong.
    """

    def __init__(self, label: str | LazyString | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%Y-%m-%d", "%Y/%m/%d"])
        kwargs.setdefault("validators", [Optional()])
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(BIRTH_DATE_MESSAGE)) from None


class DependentForm(FlaskForm):
    family_name = StringField(_l("Family name"), validators=[DataRequired(), Length(max=50)])
    given_name = StringField(_l("Given name"), validators=[DataRequired(), Length(max=50)])
    family_name_kana = StringField(_l("Family name (kana)"), validators=[DataRequired(), Length(max=50)])
    given_name_kana = StringField(_l("Given name (kana)"), validators=[DataRequired(), Length(max=50)])
    relation = StringField(_l("Relation (妻, 長男…)"), validators=[DataRequired(), Length(max=30)])
    card_status = SelectField(_l("Card status"), choices=opts([(c, CARD_LABELS[c]) for c in CARD_STATUSES]))
    #: Optional: the desk tells a child under 15 and a baby under 1 apart by it.
    birth_date = BirthDateField(_l("Date of birth"))
    #: Choices set by the view ("" registered where the staff member is).
    municipality_code = SelectField(_l("Registered in (住民登録地)"), validate_choice=False)
    joined_on = DateField(_l("Became a dependent on"), validators=[Optional()])
    left_on = DateField(_l("No longer a dependent from"), validators=[Optional()])


class ImportUploadForm(FlaskForm):
    file = FileField(_l("Staff list (CSV or Excel .xlsx)"),
                     validators=[FileRequired(message=_l("Choose the file to import."))])


class DeparturesForm(FlaskForm):
    """Staff missing from a full staff list, marked as left on a day (services.departures)."""

    left_on = DateField(_l("Left on (the first day they no longer belong)"), validators=[InputRequired()])
    staff_ids = MultiCheckboxField(_l("Staff to mark as left"), coerce=bounded_int, validate_choice=False)


class ImportConfirmForm(FlaskForm):
    batch = HiddenField(validators=[DataRequired()])
    digest = HiddenField(validators=[DataRequired()])


# --- campaigns and sessions -------------------------------------------------------------


#: The reminder times offered (minutes before the booking; "" the day before at noon, Tokyo time).
REMINDER_CHOICES = [("", _l("The day before at noon")), (60, _l("1 hour before")), (180, _l("3 hours before")),
                    (1440, _l("24 hours before")), (2880, _l("2 days before")), (4320, _l("3 days before")),
                    (10080, _l("1 week before"))]


class CampaignForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    booking_opens_at = DateTimeLocalField(_l("Booking opens"), format="%Y-%m-%dT%H:%M",
                                          validators=[InputRequired(message=_l("Give a date and time.")), in_years])
    booking_closes_at = DateTimeLocalField(_l("Booking closes"), format="%Y-%m-%dT%H:%M",
                                           validators=[InputRequired(message=_l("Give a date and time.")), in_years])
    cutoff_minutes = BoundedIntegerField(_l("Booking closes this many minutes before each slot"), default=60,
                                  validators=[InputRequired()])
    no_show_grace_minutes = BoundedIntegerField(
        _l("The desk may mark no-shows this many minutes after a slot ends"), default=30,
        validators=[Optional()])
    waitlist_offer_minutes = BoundedIntegerField(
        _l("Seats offered from a waiting list are held this many minutes"), default=120, validators=[Optional()])
    desk_offline_keep_minutes = BoundedIntegerField(
        _l("A desk tablet working offline keeps the day's roster this many minutes"), validators=[Optional()])
    contact_phone = StringField(_l("The section's phone number for bookers"),
                                validators=[Optional(), Length(max=30)])
    reminder_minutes_before = SelectField(
        _l("Reminder e-mail"), coerce=_optional_int, validate_choice=False,
        choices=opts(REMINDER_CHOICES))
    target_unit_ids = MultiCheckboxField(_l("Units whose staff may book (none ticked: every unit)"), coerce=bounded_int,
                                         validate_choice=False)
    what_to_bring = TextAreaField(_l("What to bring"), validators=[Optional(), Length(max=2000)])
    is_published = BooleanField(_l("Published (staff can see and book it)"))
    allows_single_photo_id_with_pin = BooleanField(
        _l("One A document with the PIN entered is enough at these desks"))
    mailing_municipality_codes = MultiCheckboxField(
        _l("Residents these desks verify for mailing (none ticked: our own municipality)"), validate_choice=False)


class SessionForm(FlaskForm):
    venue_id = SelectField(_l("Venue"), coerce=_optional_int, validate_choice=False,
                           validators=[InputRequired(message=_l("Choose a venue."))])
    date = DateField(_l("Date"), validators=[InputRequired(message=_l("Give a date.")), in_years])
    start_time = TimeField(_l("From"), validators=[InputRequired(message=_l("Give a time."))])
    end_time = TimeField(_l("To"), validators=[InputRequired(message=_l("Give a time."))])
    slot_minutes = BoundedIntegerField(_l("Slot length (minutes)"), default=10,
                                validators=[InputRequired(), NumberRange(min=1, max=1440)])
    desks = BoundedIntegerField(_l("Desks (people per slot)"), default=2,
                         validators=[InputRequired(), NumberRange(min=1, max=100)])
    #: Ticked after the page has shown the session's warnings (an overlap, a start in the past).
    confirm_warnings = BooleanField(_l("I have read the warnings above: save the session anyway"))


class SessionCopyForm(FlaskForm):
    dates = FieldList(DateField(_l("Date"), validators=[Optional(), in_years]), min_entries=6, max_entries=31)


class PhoneSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Staff number or kana"), validators=[Optional(), Length(max=60)])


class PhoneBookForm(FlaskForm):
    slot_id = RadioField(_l("Time"), coerce=bounded_int, validators=[InputRequired(message=_l("Choose a time."))],
                         validate_choice=False)
    dependent_ids = MultiCheckboxField(_l("Dependents who come along"), coerce=bounded_int, validate_choice=False)
    #: Unticked books only the dependents ticked (a caller who already holds a card).
    include_staff = BooleanField(_l("The caller comes too"), default=True)
    #: Set by the page that shows the people's check boxes: only then does an unticked caller
    #: mean "not the caller", and a move without it keeps who comes as booked.
    people_shown = HiddenField()

    @property
    def staff_comes(self) -> bool | None:
        return bool(self.include_staff.data) if self.people_shown.data else None


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    group = SelectField(_l("What"), validate_choice=False)
    username = StringField(_l("User"), validators=[Optional(), Length(max=100)])
    target_type = StringField(_l("Record type"), validators=[Optional(), Length(max=50)])
    target_id = StringField(_l("Record id"), validators=[Optional(), Length(max=50)])
    remote_addr = StringField(_l("IP address"), validators=[Optional(), Length(max=64)])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])


class MunicipalityForm(FlaskForm):
    code = StringField(_l("Local government code"), validators=[DataRequired(), Length(max=12)])
    name = StringField(_l("Municipality name"), validators=[DataRequired(), Length(max=50)])
    is_home = BooleanField(_l("Our own municipality (the desks verify its residents for mailing)"))


DOCUMENT_GROUP_CHOICES = opts([
    ("A", _l("A: photo ID issued by a public office")),
    ("B", _l("B: name and birth date or address")),
    ("notice", _l("Notification card or notice")),
])


class IdentityDocumentForm(FlaskForm):
    name = StringField(_l("Document name"), validators=[DataRequired(), Length(max=100)])
    group = SelectField(_l("Group"), choices=DOCUMENT_GROUP_CHOICES)
    is_active = BooleanField(_l("Listed at the desks"), default=True)


# --- the card's life (services.card_life) ---------------------------------------------------------


class CardForm(FlaskForm):
    """One person's card: the next step (choices from where the card is, set by the view) and its
    expiry dates (shown filled in; emptied clears them)."""

    stage = SelectField(_l("Next step"), validate_choice=False)
    on = DateField(_l("Date of the step"), validators=[Optional(), in_years])
    card_expires_on = DateField(_l("Card expires on"), validators=[Optional(), in_years])
    certificates_expire_on = DateField(_l("Certificates expire on"), validators=[Optional(), in_years])
