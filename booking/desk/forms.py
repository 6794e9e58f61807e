"""Desk forms: shape only; the rules live in services.checkin and services.photos."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..converters import BoundedIntegerField, bounded_int


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form: object) -> None:
        # Which ids are valid is the service's call (it names the field when one is not).
        pass


class FindForm(FlaskForm):
    """What the scanner read, or the code the clerk typed."""

    qr = HiddenField()
    code = StringField(_l("Reservation code"), validators=[Optional(), Length(max=40)])


class CheckInForm(FlaskForm):
    people = CheckboxList(_l("Who is here"), coerce=bounded_int)


class ButtonForm(FlaskForm):
    """A button that only carries the CSRF token."""


class ApplicationForm(FlaskForm):
    """The application record of one checked-in person; the page shows every field, so a post
    records all of them (an unticked box is a no)."""

    application_id = StringField(_l("申請書ID (23 digits)"), validators=[Optional(), Length(max=60)])
    identity_documents = CheckboxList(_l("Identity documents seen"))
    pin_entered = BooleanField(_l("Entered the PIN at the desk"))
    pin_form = BooleanField(_l("PIN request form handed in"))
    surrendered = CheckboxList(_l("Old cards handed in"))
    address_change_planned = BooleanField(_l("A move or change of name is planned before the card arrives"))
    adult_ward = BooleanField(_l("Adult ward (applies through a legal representative)"))
    #: under_1, under_15 or adult (services.applications checks the value; the page shows radios).
    age_group = StringField(_l("Age group (no birth date on file)"), validators=[Optional(), Length(max=10)])
    representative_name = StringField(_l("Legal representative's name"), validators=[Optional(), Length(max=100)])
    representative_relation = StringField(_l("Relation"), validators=[Optional(), Length(max=30)])
    representative_documents = CheckboxList(_l("Their identity documents"))
    action = HiddenField()

    def changes(self) -> dict[str, object]:
        return {
            "application_id": self.application_id.data or None,
            "identity_documents": self.identity_documents.data or [],
            "pin_entered": self.pin_entered.data,
            "pin_form": self.pin_form.data,
            "surrendered": self.surrendered.data or [],
            "address_change_planned": self.address_change_planned.data,
            "adult_ward": self.adult_ward.data,
            "age_group": self.age_group.data or None,
            "legal_representative": {
                "name": self.representative_name.data or "",
                "relation": self.representative_relation.data or "",
                "identity_documents": self.representative_documents.data or [],
            },
        }


class PhotoForm(FlaskForm):
    photo = FileField(_l("Photo file"))


class WalkInSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Staff number or kana"), validators=[Optional(), Length(max=50)])


class WalkInForm(FlaskForm):
    staff_id = BoundedIntegerField(validators=[DataRequired()])
    dependent_ids = CheckboxList(_l("Dependents who came along"), coerce=bounded_int)
    over_capacity = BooleanField(_l("Seat over capacity if no slot has room"))
    override_reason = StringField(_l("Reason for seating over capacity"), validators=[Optional(), Length(max=200)])


class RetentionForm(FlaskForm):
    photo_retention_days = BoundedIntegerField(
        _l("Keep photos for (days after the session)"),
        validators=[DataRequired(), NumberRange(min=1, max=3650)],
    )
