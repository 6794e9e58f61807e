"""Forms of the HQ pages: shape only."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField
from wtforms.validators import DataRequired


class StatusImportForm(FlaskForm):
    file = FileField(_l("Survey file (CSV or XLSX)"), validators=[FileRequired()])
    survey_date = DateField(_l("Survey date (used where a line has no date)"), validators=[DataRequired()])


class ConfirmImportForm(FlaskForm):
    #: The uploaded file, carried to the confirmation (base64) so that no copy stays on one host.
    payload = HiddenField(validators=[DataRequired()])
    filename = HiddenField()
    survey_date = HiddenField(validators=[DataRequired()])


class SnapshotForm(FlaskForm):
    pass


class MarkSentForm(FlaskForm):
    """Record the report upward as sent: the survey dates (``as_of``, repeated) and the name."""

    department = HiddenField()
