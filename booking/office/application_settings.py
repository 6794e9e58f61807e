"""The section's settings for the application at the desk: the municipalities people are
registered in (which one is ours) and the list of identity documents the desks tick."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import navigation
from ..auth import role_required
from ..extensions import db
from ..models import Municipality
from ..services import identity_documents, municipalities
from ..services.errors import DomainError
from ..web import request_actor
from . import bp
from .common import refused
from .forms import IdentityDocumentForm, MunicipalityForm

navigation.register("office.list_municipalities", _l("Municipalities"), ("admin",), order=47,
                    section="organisation")
navigation.register("office.list_identity_documents", _l("Identity documents"), ("admin",), order=48,
                    section="organisation")


@bp.route("/municipalities", methods=["GET", "POST"])
@bp.route("/municipalities/<code>", methods=["GET", "POST"])
@role_required("admin")
def list_municipalities(code: str | None = None) -> ResponseReturnValue:
    """The list, with a form that adds one or (from a row's link) renames it or makes it ours."""
    editing = db.session.get(Municipality, code) if code else None
    if code and editing is None:
        abort(404)
    form = MunicipalityForm(obj=editing)
    status = 200
    if form.validate_on_submit():
        try:
            saved = municipalities.save(request_actor(), code=editing.code if editing else form.code.data,
                                        name=form.name.data, is_home=form.is_home.data)
        except DomainError as error:
            status = refused(error, form)
        else:
            flash(_("%(name)s (%(code)s) was saved.", name=saved.name, code=saved.code), "success")
            return redirect(url_for(".list_municipalities"))
    elif request.method == "POST":
        status = 422
    return render_template("office/municipalities.html", form=form, editing=editing,
                           rows=municipalities.all_municipalities()), status


@bp.route("/identity-documents", methods=["GET", "POST"])
@role_required("admin")
def list_identity_documents() -> ResponseReturnValue:
    """The list the desks tick from, with a form that adds a document of the section's own."""
    form = IdentityDocumentForm()
    status = 200
    if form.validate_on_submit():
        try:
            added = identity_documents.add_document(request_actor(), name=form.name.data, group=form.group.data)
        except DomainError as error:
            status = refused(error, form)
        else:
            flash(_("%(name)s was added.", name=added.name), "success")
            return redirect(url_for(".list_identity_documents"))
    elif request.method == "POST":
        status = 422
    return render_template("office/identity_documents.html", form=form,
                           rows=identity_documents.all_documents()), status


@bp.route("/identity-documents/<code>", methods=["GET", "POST"])
@role_required("admin")
def edit_identity_document(code: str) -> ResponseReturnValue:
    rows = {document.code: (document, active, builtin)
            for document, active, builtin in identity_documents.all_documents()}
    if code not in rows:
        abort(404)
    document, active, builtin = rows[code]
    form = IdentityDocumentForm(data={"name": document.name, "group": document.group, "is_active": active}
                                if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        try:
            identity_documents.update_document(request_actor(), code, name=form.name.data, group=form.group.data,
                                               is_active=form.is_active.data)
        except DomainError as error:
            status = refused(error, form)
        else:
            flash(_("%(name)s was saved.", name=form.name.data), "success")
            return redirect(url_for(".list_identity_documents"))
    elif request.method == "POST":
        status = 422
    return render_template("office/identity_document_form.html", form=form, document=document,
                           builtin=builtin), status
