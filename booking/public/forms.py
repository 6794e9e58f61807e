"""Booker forms: shape only; the rules live in services."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length


class IdentifyForm(FlaskForm):
    staff_number = StringField(
        _l("Staff number"), validators=[DataRequired(_l("Enter your staff number.")), Length(max=32)]
    )
    invitation_code = StringField(
        _l("Invitation code"), validators=[DataRequired(_l("Enter the invitation code.")), Length(max=32)]
    )


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class BookForm(FlaskForm):
    slot_id = RadioField(_l("Time"), coerce=int, validators=[DataRequired(_l("Choose a time."))])
    dependent_ids = CheckboxList(_l("Who comes with you"), coerce=int)


class MoveForm(FlaskForm):
    slot_id = RadioField(_l("New time"), coerce=int, validators=[DataRequired(_l("Choose a time."))])


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token (cancel)."""
