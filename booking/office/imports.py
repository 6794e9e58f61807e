"""Importing the staff list in two steps: upload → preview → confirm (all or nothing)."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import navigation
from ..auth import role_required
from ..extensions import db
from ..services import staff_import
from ..services.errors import DomainError
from . import bp
from .common import record, refused
from .forms import ConfirmForm, ImportConfirmForm, ImportUploadForm

navigation.register("office.import_staff", _l("Import staff"), ("admin",), order=35)

PREVIEW_ROWS = 200


def _upload_page(form: ImportUploadForm, *, parsed=None, plan=None, filename: str = "", status: int = 200):
    return render_template("office/import_upload.html", form=form, parsed=parsed, plan=plan, filename=filename,
                           guide=staff_import.TEMPLATE_GUIDE), status


@bp.route("/staff/import", methods=["GET", "POST"])
@role_required("admin")
def import_staff():
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, status=422 if request.method == "POST" else 200)
    upload = form.file.data
    data = upload.read()
    batch, parsed, plan = staff_import.stage_upload(current_user, upload.filename or "", data)
    if batch is None:
        # Nothing is kept: the person fixes the file and uploads it again.
        record("import.staff.refused", target_type="staff_import", filename=(upload.filename or "")[:100],
               errors=len(plan.errors))
        db.session.commit()
        flash(_("Nothing was imported. Correct the lines listed and upload the whole file again."), "error")
        return _upload_page(form, parsed=parsed, plan=plan, filename=upload.filename or "", status=422)
    db.session.commit()
    return redirect(url_for(".preview_import", batch_id=batch.id))


@bp.get("/staff/import/<batch_id>")
@role_required("admin")
def preview_import(batch_id: str):
    batch = staff_import.load_batch(current_user, batch_id)
    plan = staff_import.batch_plan(batch)
    if plan.errors:
        flash(_("The file no longer fits the units on record. Upload it again."), "error")
    elif plan.digest() != batch.plan_digest:
        # The staff list changed since the upload: what is shown now is what confirm will do.
        batch.plan_digest = plan.digest()
        db.session.commit()
        flash(_("The staff list changed since the upload; this preview shows what would happen now."), "error")
    form = ImportConfirmForm(batch=batch.id, digest=plan.digest())
    return render_template("office/import_preview.html", batch=batch, plan=plan, form=form,
                           discard=ConfirmForm(), limit=PREVIEW_ROWS)


@bp.post("/staff/import/<batch_id>/confirm")
@role_required("admin")
def confirm_import(batch_id: str):
    form = ImportConfirmForm()
    if not form.validate_on_submit() or form.batch.data != batch_id:
        flash(_("The confirmation could not be read. Check the preview and confirm again."), "error")
        return redirect(url_for(".preview_import", batch_id=batch_id))
    batch = staff_import.load_batch(current_user, batch_id)
    filename, content_digest = batch.filename, batch.content_digest
    try:
        result = staff_import.confirm_batch(current_user, batch, form.digest.data)
    except DomainError as error:
        refused(error)
        if error.code == "invalid_import":
            return redirect(url_for(".import_staff"))
        return redirect(url_for(".preview_import", batch_id=batch_id))
    record("import.staff", target_type="staff_import", filename=filename[:100], sha256=content_digest,
           created=result.created, updated=result.updated, unchanged=result.unchanged)
    db.session.commit()
    flash(_("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
            created=result.created, updated=result.updated, unchanged=result.unchanged), "success")
    return redirect(url_for(".list_staff"))


@bp.post("/staff/import/<batch_id>/discard")
@role_required("admin")
def discard_import(batch_id: str):
    if ConfirmForm().validate_on_submit():
        batch = staff_import.load_batch(current_user, batch_id)
        db.session.delete(batch)
        db.session.commit()
        flash(_("The upload was discarded; nothing was imported."), "success")
    return redirect(url_for(".import_staff"))


@bp.get("/staff/import/template.<kind>")
@role_required("admin")
def import_template(kind: str):
    if kind == "csv":
        return Response(staff_import.template_csv(), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=staff-template.csv"})
    if kind == "xlsx":
        return Response(staff_import.template_xlsx(),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": "attachment; filename=staff-template.xlsx"})
    return redirect(url_for(".import_staff"))
