"""Units as a tree and the venues where desks are set up."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import navigation
from ..auth import role_required
from ..converters import bounded_int
from ..models import User
from ..services import directory
from ..services.errors import DomainError
from ..web import request_actor
from . import bp
from .common import refused
from .forms import UnitForm, VenueForm, opts

navigation.register("office.list_units", _l("Units"), ("admin", "chief"), order=40, section="organisation")
navigation.register("office.list_venues", _l("Venues"), ("admin",), order=45, section="organisation")


def unit_choices(user: User | None = None) -> list[tuple[int, str]]:
    """Units for a select, indented as a tree ("　" per level)."""
    return [(node.unit.id, "\u3000" * node.depth + f"{node.unit.name} ({node.unit.code})")
            for node in directory.unit_tree(user or current_user)]


@bp.get("/units")
@role_required("admin", "chief")
def list_units() -> ResponseReturnValue:
    return render_template("office/units.html", nodes=directory.unit_tree(current_user))


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_unit(unit_id: int | None = None) -> ResponseReturnValue:
    unit = directory.get_unit(current_user, unit_id) if unit_id else None
    form = UnitForm(obj=unit)
    form.parent_id.choices = opts([("", _("— top level —"))] + [
        c for c in unit_choices() if unit is None or c[0] != unit.id])
    if unit is None and request.method == "GET":
        form.parent_id.data = request.args.get("parent", type=bounded_int)
    status = 200
    if form.validate_on_submit():
        try:
            if unit is None:
                saved = directory.create_unit(request_actor(), code=form.code.data, name=form.name.data,
                                              parent_id=form.parent_id.data)
            else:
                saved = directory.update_unit(request_actor(), unit, code=form.code.data, name=form.name.data,
                                              parent_id=form.parent_id.data)
        except DomainError as error:
            status = refused(error, form)
        else:
            flash(_("Unit %(name)s was saved.", name=saved.name), "success")
            return redirect(url_for(".list_units"))
    elif request.method == "POST":
        status = 422
    return render_template("office/unit_form.html", form=form, unit=unit), status


@bp.get("/venues")
@role_required("admin")
def list_venues() -> ResponseReturnValue:
    return render_template("office/venues.html", venues=directory.list_venues())


@bp.route("/venues/new", methods=["GET", "POST"])
@bp.route("/venues/<int:venue_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_venue(venue_id: int | None = None) -> ResponseReturnValue:
    venue = directory.get_venue(venue_id) if venue_id else None
    form = VenueForm(obj=venue)
    form.unit_id.choices = opts([("", _("— none —")), *unit_choices()])
    status = 200
    if form.validate_on_submit():
        try:
            if venue is None:
                saved = directory.create_venue(request_actor(), name=form.name.data, address=form.address.data,
                                               unit_id=form.unit_id.data, notes=form.notes.data or "")
            else:
                saved = directory.update_venue(request_actor(), venue, name=form.name.data,
                                               address=form.address.data, unit_id=form.unit_id.data,
                                               notes=form.notes.data or "")
        except DomainError as error:
            status = refused(error, form)
        else:
            flash(_("Venue %(name)s was saved.", name=saved.name), "success")
            return redirect(url_for(".list_venues"))
    elif request.method == "POST":
        status = 422
    return render_template("office/venue_form.html", form=form, venue=venue), status
