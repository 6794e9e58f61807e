"""Booker forms: shape only; the rules live in services."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectMultipleField, StringField, widgets
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
    #: Unticked books only the dependents ticked (a staff member who already holds a card).
    include_staff = BooleanField(_l("Me"), default=True)
    dependent_ids = CheckboxList(_l("Who comes with you"), coerce=int)
    #: Set by the page that shows the people's check boxes: only then does an unticked
    #: "me" mean "not me" (a form from before, or another client, leaves who comes as it was).
    people_shown = HiddenField()

    @property
    def staff_comes(self) -> bool | None:
        """Ticked or not, when the form asked; None when it did not."""
        return bool(self.include_staff.data) if self.people_shown.data else None

    @property
    def people(self) -> int:
        return int(self.staff_comes is not False) + len(self.dependent_ids.data or [])


class MoveForm(BookForm):
    """A new start, and who comes (as booked unless changed)."""

    slot_id = RadioField(_l("New time"), coerce=int, validators=[DataRequired(_l("Choose a time."))])


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token (cancel)."""


class EmailForm(FlaskForm):
    """The booker's mail address; the service checks its shape and sends the confirmation link."""
    email = StringField(_l("Mail address"), validators=[DataRequired(_l("Enter your mail address.")), Length(max=254)])
