"""Shift-aware planning: a unit's duty calendar and a campaign's coverage by crew."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    StringField,
    TimeField,
)
from wtforms import Form as SubForm
from wtforms.validators import DataRequired, Length, Optional

from ..auth import role_required
from ..formatting import clock, day_label
from ..localtime import local, utcnow
from ..services import campaigns, coverage, directory, duty
from ..services.campaigns import get_campaign
from ..services.errors import DomainError
from ..web import request_actor
from . import bp
from .common import refused
from .forms import opts

INHERIT = "inherit"


class CrewForm(SubForm):
    name = StringField(_l("Crew name"), validators=[Optional(), Length(max=20)])
    anchor_date = DateField(_l("On duty on"), validators=[Optional()])


class DutyCalendarForm(FlaskForm):
    system = RadioField(_l("Duty system"), validators=[DataRequired(_l("Choose a duty system."))])
    shift_start = TimeField(_l("Shift starts at"), validators=[Optional()])
    crews = FieldList(FormField(CrewForm), min_entries=3, max_entries=3)


class CoverageSessionsForm(FlaskForm):
    """The suggested sessions the admin confirmed (coverage.Proposal.key each)."""

    pick = FieldList(HiddenField(validators=[DataRequired(), Length(max=40)]), max_entries=coverage.MAX_PROPOSALS)


class DutyApprovalSettingForm(FlaskForm):
    requires_duty_approval = BooleanField(_l("Bookings during the booker's duty hours need the unit chief's "
                                             "approval (職務専念義務の免除)"))


def _today() -> date:
    return local(utcnow()).date()


# --- the duty calendar editor -----------------------------------------------------------------


@bp.route("/units/<int:unit_id>/duty", methods=["GET", "POST"])
@role_required("admin")
def edit_duty_calendar(unit_id: int) -> ResponseReturnValue:
    unit = directory.get_unit(current_user, unit_id)
    own = duty.own_calendar(unit)
    effective = duty.unit_duty(unit)
    form = DutyCalendarForm()
    choices = [(key, label) for key, label in duty.SYSTEM_LABELS.items()]
    if unit.parent_id is not None or own is None:
        choices = [(INHERIT, _("Follow the unit above (%(name)s)", name=unit.parent.name) if unit.parent
                    else _("Not set"))] + choices
    form.system.choices = opts(choices)
    if request.method == "GET":
        form.system.data = own.system if own else INHERIT
        form.shift_start.data = own.shift_start if own else duty.DEFAULT_SHIFT_START
        for entry, crew in zip(form.crews.entries, own.crews if own else []):
            entry.form.name.data, entry.form.anchor_date.data = crew.name, crew.anchor_date
    status = 200
    if form.validate_on_submit():
        try:
            if form.system.data == INHERIT:
                duty.clear_calendar(request_actor(), unit)
            else:
                duty.save_calendar(
                    request_actor(), unit, system=form.system.data, shift_start=form.shift_start.data,
                    crews=[(e.form.name.data or "", e.form.anchor_date.data) for e in form.crews.entries])
        except DomainError as error:
            status = refused(error, form)
            if "crews" in error.fields:
                form.crews.errors = [str(error.fields["crews"])]
        else:
            flash(_("The duty calendar of %(name)s was saved.", name=unit.name), "success")
            return redirect(url_for(".edit_duty_calendar", unit_id=unit.id))
    elif request.method == "POST":
        status = 422
    preview = duty.week_preview(effective.plan, _today()) if effective.plan else []
    return render_template("office/duty_calendar.html", unit=unit, form=form, effective=effective,
                           preview=preview, day_crew=duty.DAY_CREW, system_labels=duty.SYSTEM_LABELS,
                           day_hours=(duty.DAY_START, duty.DAY_END)), status


# --- the coverage page ------------------------------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>/coverage")
@role_required("admin")
def campaign_coverage(campaign_id: int) -> ResponseReturnValue:
    campaign = get_campaign(campaign_id)
    result = coverage.coverage(campaign)
    setting = DutyApprovalSettingForm(requires_duty_approval=campaign.requires_duty_approval)
    return render_template("office/coverage.html", campaign=campaign, result=result,
                           setting_form=setting, cell_labels=coverage.CELL_LABELS, day_crew=duty.DAY_CREW,
                           states=coverage)


def _picked_keys() -> list[str]:
    return [k for k in request.values.getlist("pick") if k][:coverage.MAX_PROPOSALS]


@bp.get("/campaigns/<int:campaign_id>/coverage/sessions")
@role_required("admin")
def confirm_coverage_sessions(campaign_id: int) -> ResponseReturnValue:
    """What the ticked suggestions will create, before anything is created."""
    campaign = get_campaign(campaign_id)
    proposals = coverage.proposals_for(campaign, _picked_keys())
    if not proposals:
        flash(_("Tick at least one of the suggested sessions."), "error")
        return redirect(url_for(".campaign_coverage", campaign_id=campaign.id) + "#suggestions")
    return render_template("office/coverage_confirm.html", campaign=campaign, proposals=proposals,
                           form=CoverageSessionsForm(), day_crew=duty.DAY_CREW)


@bp.post("/campaigns/<int:campaign_id>/coverage/sessions")
@role_required("admin")
def add_coverage_sessions(campaign_id: int) -> ResponseReturnValue:
    campaign = get_campaign(campaign_id)
    form = CoverageSessionsForm()
    if not form.validate_on_submit():
        flash(_("Choose the sessions from the suggestions."), "error")
        return redirect(url_for(".campaign_coverage", campaign_id=campaign.id))
    try:
        made = coverage.add_suggested_sessions(request_actor(), campaign, [k for k in form.pick.data if k])
    except DomainError as error:
        refused(error)
        return redirect(url_for(".campaign_coverage", campaign_id=campaign.id) + "#suggestions")
    flash(ngettext("%(num)s session was added: %(list)s.", "%(num)s sessions were added: %(list)s.", len(made),
                   list=_(", ").join(f"{day_label(s.date, year=True)} {clock(s.start_time)}–{clock(s.end_time)} {s.venue.name}"
                                     for s in made)), "success")
    return redirect(url_for(".campaign_coverage", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/coverage/approval")
@role_required("admin")
def set_duty_approval(campaign_id: int) -> ResponseReturnValue:
    campaign = get_campaign(campaign_id)
    form = DutyApprovalSettingForm()
    if form.validate_on_submit():
        wanted = bool(form.requires_duty_approval.data)
        campaigns.set_duty_approval(request_actor(), campaign, wanted)
        flash(_("Bookings during duty hours now need the chief's approval.") if wanted
              else _("Bookings during duty hours no longer need the chief's approval."), "success")
    return redirect(url_for(".campaign_coverage", campaign_id=campaign.id))
