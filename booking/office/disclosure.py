"""Personal data pages (admin): a person's disclosure and erasure, and campaign retention.

/office/personal-data                       find a staff member; each campaign's retention
/office/personal-data/staff/<id>            the print view of everything held (audited)
/office/personal-data/staff/<id>.json       the same as a JSON download (audited)
/office/personal-data/staff/<id>/erase      delete it all, after typing the staff number (audited)
/office/personal-data/retention/<id>        change a campaign's retention days (audited)
"""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, InputRequired, Length

from .. import navigation
from ..auth import role_required
from ..converters import BoundedIntegerField
from ..extensions import db
from ..localtime import utcnow
from ..models import Campaign
from ..services import directory, disclosure, retention
from ..services.errors import DomainError
from ..web import request_actor
from . import bp
from .common import refused

navigation.register("office.personal_data", _l("Personal data"), ("admin",), order=96, section="admin")


class FindForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Staff number or name (kana)"), validators=[Length(max=50)])


class EraseForm(FlaskForm):
    confirm = StringField(_l("Type the staff number to confirm"), validators=[DataRequired(), Length(max=32)])


class RetentionForm(FlaskForm):
    days = BoundedIntegerField(_l("Days after the campaign ends"), validators=[InputRequired()])


@bp.get("/personal-data")
@role_required("admin")
def personal_data() -> ResponseReturnValue:
    form = FindForm(request.args)
    found = directory.find_staff(current_user, form.q.data or "") if form.q.data else []
    return render_template("office/disclosure.html", form=form, found=found, lines=retention.overview(),
                           now=utcnow(), default_days=retention.default_days(), retention_form=RetentionForm())


@bp.get("/personal-data/staff/<int:staff_id>")
@role_required("admin")
def disclosure_print(staff_id: int) -> ResponseReturnValue:
    staff = directory.get_staff(current_user, staff_id)
    data = disclosure.export(request_actor(), staff, form="print")
    return render_template("office/disclosure_print.html", staff=staff, data=data, labels=disclosure.LABELS,
                           erase_form=EraseForm())


@bp.get("/personal-data/staff/<int:staff_id>.json")
@role_required("admin")
def disclosure_json(staff_id: int) -> ResponseReturnValue:
    staff = directory.get_staff(current_user, staff_id)
    data = disclosure.export(request_actor(), staff, form="json")
    return Response(disclosure.to_json(data), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="personal-data-{staff.staff_number}.json"',
        "Cache-Control": "no-store"})


@bp.post("/personal-data/staff/<int:staff_id>/erase")
@role_required("admin")
def disclosure_erase(staff_id: int) -> ResponseReturnValue:
    staff = directory.get_staff(current_user, staff_id)
    form = EraseForm()
    if not form.validate_on_submit():
        flash(_("Type the staff number %(number)s to confirm.", number=staff.staff_number), "error")
        return redirect(url_for(".disclosure_print", staff_id=staff_id))
    try:
        erased = disclosure.erase(request_actor(), staff, confirm=form.confirm.data)
    except DomainError as error:
        refused(error)
        return redirect(url_for(".disclosure_print", staff_id=staff_id))
    flash(_("Everything held about staff member %(number)s and %(n)s dependents was deleted "
            "(%(cancelled)s bookings cancelled, %(reservations)s reservations kept only as counts).",
            number=erased.staff_number, n=erased.dependents, cancelled=erased.cancelled,
            reservations=erased.removed.reservations), "success")
    return redirect(url_for(".personal_data"))


@bp.post("/personal-data/retention/<int:campaign_id>")
@role_required("admin")
def retention_days(campaign_id: int) -> ResponseReturnValue:
    campaign = db.get_or_404(Campaign, campaign_id)
    form = RetentionForm()
    days = form.days.data if form.validate_on_submit() else None
    try:
        retention.set_days(request_actor(), campaign, days if isinstance(days, int) else -1)
    except DomainError as error:
        refused(error)
        for message in error.fields.values():
            flash(str(message), "error")
        return redirect(url_for(".personal_data"))
    flash(_("Retention of %(title)s: %(days)s days after it ends.", title=campaign.title, days=days), "success")
    return redirect(url_for(".personal_data"))
