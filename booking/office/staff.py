"""The staff directory: search and filter, a staff member's record, dependents, invitations, export."""
from __future__ import annotations

import csv
import io

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from .. import navigation
from ..auth import role_required
from ..extensions import db
from ..localtime import local_today
from ..models import Staff
from ..services import applicants, directory, invitations, membership, municipalities, reservations, staff_import
from ..services.errors import DomainError
from ..web import request_actor
from . import bp, cards
from .common import int_arg, refused
from .forms import (
    CARD_LABELS,
    CardForm,
    ConfirmForm,
    DependentForm,
    StaffFilterForm,
    StaffForm,
    opts,
)
from .units import unit_choices

navigation.register("office.list_staff", _l("Staff"), ("admin", "chief"), order=30, section="organisation")


def _filters() -> tuple[StaffFilterForm, directory.StaffFilter]:
    form = StaffFilterForm(request.args)
    form.unit.choices = opts([("", _("All my units") if current_user.role == "chief" else _("All units")), *unit_choices()])
    form.crew.choices = opts([("", _("Any"))] + [(c, c) for c in directory.crews(current_user)])
    # Read, not validated: a filter with a stale value shows everything rather than an error.
    return form, directory.StaffFilter(
        q=(form.q.data or "").strip(),
        unit_id=form.unit.data,
        crew=form.crew.data or "",
        card_status=form.card.data or "",
    )


@bp.get("/staff")
@role_required("admin", "chief")
def list_staff() -> ResponseReturnValue:
    form, filters = _filters()
    page = directory.staff_page(current_user, filters, int_arg("page", 1))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("office/staff_list.html", form=form, page=page, args=args, card_labels=CARD_LABELS)


@bp.get("/staff/export.csv")
@role_required("admin")
def export_staff() -> ResponseReturnValue:
    """The filtered list in the import format (UTF-8 with BOM for Excel), cells safe from formulas."""
    from ..services import exports
    from ..web import request_actor

    _form, filters = _filters()
    query = directory.staff_query(current_user, filters).options(joinedload(Staff.unit)).order_by(Staff.staff_number)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    count = 0
    for row in staff_import.export_rows(db.session.scalars(query)):
        writer.writerow(row)
        count += 1
    exports.staff_exported(request_actor(), rows=count - 1, q=filters.q or None, unit_id=filters.unit_id,
                           crew=filters.crew or None, card_status=filters.card_status or None)
    return Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=staff.csv",
                             "Cache-Control": "no-store"})


def _town_choices(empty: str) -> list:
    """The listed municipalities for a select, after the choice that names none."""
    return opts([("", empty), *[(m.code, f"{m.name} ({m.code})") for m in municipalities.all_municipalities()]])


def _staff_page(staff: Staff, form: StaffForm | None = None, dependent_form: DependentForm | None = None,
                status: int = 200, *, edited: tuple[int, DependentForm] | None = None,
                card_edit: tuple[str, CardForm] | None = None) -> ResponseReturnValue:
    """The record; ``edited`` is a dependent's edit form sent back with its errors, shown open."""
    is_admin = current_user.role == "admin"
    if form is None and is_admin:
        form = StaffForm(obj=staff, formdata=None)
    if form is not None:
        form.unit_id.choices = opts(unit_choices())
        form.municipality_code.choices = _town_choices(_("— not known —"))
    edit_forms = {d.id: DependentForm(prefix=f"dep{d.id}", obj=d, formdata=None)
                  for d in staff.dependents} if is_admin else {}
    if edited is not None:
        edit_forms[edited[0]] = edited[1]
    dependent_form = dependent_form or (DependentForm(prefix="dep", formdata=None) if is_admin else None)
    for each in [*edit_forms.values(), *([dependent_form] if dependent_form else [])]:
        each.municipality_code.choices = _town_choices(_("— as the staff member —"))
    today = local_today()
    return render_template(
        "office/staff_detail.html",
        staff=staff,
        form=form,
        dependent_form=dependent_form,
        towns=municipalities.names_by_code(),
        edit_forms=edit_forms,
        edited_id=edited[0] if edited else None,
        ages={d.id: applicants.age_on(d.birth_date, today) for d in staff.dependents if d.birth_date},
        confirm=ConfirmForm(),
        invitation_code=invitations.code(staff),
        invitation_url=invitations.link_url(staff),
        bookings=reservations.reservations_of(staff),
        card_labels=CARD_LABELS,
        cards=cards.panels(staff, card_edit),
    ), status


@bp.get("/staff/<int:staff_id>")
@role_required("admin", "chief")
def show_staff(staff_id: int) -> ResponseReturnValue:
    return _staff_page(directory.get_staff(current_user, staff_id))


@bp.post("/staff/<int:staff_id>")
@role_required("admin")
def update_staff(staff_id: int) -> ResponseReturnValue:
    staff = directory.get_staff(current_user, staff_id)
    form = StaffForm()
    form.unit_id.choices = opts(unit_choices())
    if not form.validate_on_submit():
        return _staff_page(staff, form, status=422)
    try:
        directory.update_staff(
            request_actor(), staff, family_name=form.family_name.data, given_name=form.given_name.data,
            family_name_kana=form.family_name_kana.data, given_name_kana=form.given_name_kana.data,
            unit_id=form.unit_id.data, crew=form.crew.data or "", email=form.email.data or "",
            phone=form.phone.data or "", card_status=form.card_status.data,
            card_status_on=form.card_status_on.data, municipality_code=form.municipality_code.data or "")
        membership.set_dates(request_actor(), staff, joined_on=form.joined_on.data, left_on=form.left_on.data)
    except DomainError as error:
        status = refused(error, form)
        return _staff_page(directory.get_staff(current_user, staff_id), form, status=status)
    flash(_("The record of %(name)s was saved.", name=staff.name), "success")
    return redirect(url_for(".show_staff", staff_id=staff.id))


@bp.post("/staff/<int:staff_id>/invitation")
@role_required("admin", "chief")
def reissue_invitation(staff_id: int) -> ResponseReturnValue:
    staff = directory.get_staff(current_user, staff_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".show_staff", staff_id=staff.id))
    directory.reissue_invitation(request_actor(), staff)
    flash(_("The old invitation link and code no longer work. Hand over the new invitation below."), "success")
    return redirect(url_for(".show_staff", staff_id=staff.id) + "#invitation")


@bp.post("/staff/<int:staff_id>/dependents")
@bp.post("/staff/<int:staff_id>/dependents/<int:dependent_id>")
@role_required("admin")
def save_dependent(staff_id: int, dependent_id: int | None = None) -> ResponseReturnValue:
    staff = directory.get_staff(current_user, staff_id)
    dependent = directory.get_dependent(current_user, staff, dependent_id) if dependent_id else None
    prefix = f"dep{dependent_id}" if dependent_id else "dep"
    form = DependentForm(prefix=prefix)
    if not form.validate_on_submit():
        flash(_("Check the dependent's fields."), "error")
        return _dependent_refused(staff, dependent_id, form, 422)
    try:
        values = {"family_name": form.family_name.data, "given_name": form.given_name.data,
                  "family_name_kana": form.family_name_kana.data, "given_name_kana": form.given_name_kana.data,
                  "relation": form.relation.data, "card_status": form.card_status.data,
                  "birth_date": form.birth_date.data, "municipality_code": form.municipality_code.data or ""}
        if dependent is None:
            saved = directory.add_dependent(request_actor(), staff, **values)
        else:
            saved = directory.update_dependent(request_actor(), dependent, **values)
        membership.set_dates(request_actor(), saved, joined_on=form.joined_on.data, left_on=form.left_on.data)
    except DomainError as error:
        status = refused(error, form)
        return _dependent_refused(directory.get_staff(current_user, staff_id), dependent_id, form, status)
    flash(_("Dependent %(name)s was saved.", name=saved.name), "success")
    return redirect(url_for(".show_staff", staff_id=staff.id) + "#dependents")


def _dependent_refused(staff: Staff, dependent_id: int | None, form: DependentForm,
                       status: int) -> ResponseReturnValue:
    """The page again with the form that was sent and its field messages: the add form, or the
    dependent's edit form left open."""
    if dependent_id is None:
        return _staff_page(staff, dependent_form=form, status=status)
    return _staff_page(staff, status=status, edited=(dependent_id, form))


@bp.post("/staff/<int:staff_id>/dependents/<int:dependent_id>/delete")
@role_required("admin")
def delete_dependent(staff_id: int, dependent_id: int) -> ResponseReturnValue:
    staff = directory.get_staff(current_user, staff_id)
    dependent = directory.get_dependent(current_user, staff, dependent_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".show_staff", staff_id=staff.id))
    try:
        directory.remove_dependent(request_actor(), dependent)
    except DomainError as error:
        refused(error)
    else:
        flash(_("The dependent was removed."), "success")
    return redirect(url_for(".show_staff", staff_id=staff.id) + "#dependents")
