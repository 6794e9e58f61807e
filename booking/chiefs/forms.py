"""Forms of the chiefs' pages: shape only; the rules live in services.card_status."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..services.card_status import REASON_LABELS, STATUS_LABELS


def _choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    return [SelectChoice(value=value, label=label) for value, label in pairs]


class CardStatusForm(FlaskForm):
    #: "staff" or "dependent:<id>": whose status this form changes.
    person = HiddenField(validators=[DataRequired()])
    card_status = SelectField(_l("Card status"), choices=_choices(STATUS_LABELS.items()), validators=[DataRequired()])
    card_status_on = DateField(_l("Since"), validators=[DataRequired()])


class ReasonForm(FlaskForm):
    reason = SelectField(_l("Reason for not applying"),
                         choices=_choices([("", _l("(none recorded)")), *REASON_LABELS.items()]),
                         validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
