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
