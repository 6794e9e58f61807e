"""Importing the staff list: upload → preview → confirm → progress.

The whole file is checked before anything is written; the confirmed import then
runs in the background in chunks (services/import_jobs.py) while the progress
page follows it, and an interrupted import resumes where it stopped.
"""
from __future__ import annotations

from flask import (
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import navigation
from ..auth import role_required
from ..localtime import local_today
from ..services import departures, import_jobs, staff_import
from ..services.errors import DomainError
from ..web import after_commit, request_actor
from . import bp
from .common import refused
from .forms import ConfirmForm, DeparturesForm, ImportConfirmForm, ImportUploadForm

navigation.register("office.import_staff", _l("Import staff"), ("admin",), order=35, section="organisation")

PREVIEW_ROWS = 200


def _upload_page(form: ImportUploadForm, *, parsed: staff_import.Parsed | None = None,
                 plan: staff_import.ImportPlan | None = None, filename: str = "",
                 status: int = 200) -> ResponseReturnValue:
    return render_template("office/import_upload.html", form=form, parsed=parsed, plan=plan, filename=filename,
                           guide=staff_import.TEMPLATE_GUIDE, japanese_headings=staff_import.JAPANESE_HEADINGS), status


@bp.route("/staff/import", methods=["GET", "POST"])
@role_required("admin")
def import_staff() -> ResponseReturnValue:
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, status=422 if request.method == "POST" else 200)
    upload = form.file.data
    data = upload.read()
    batch, parsed, plan = staff_import.stage_upload(request_actor(), upload.filename or "", data)
    if batch is None:
        # Nothing is kept (the refusal is recorded): the person fixes the file and uploads it again.
        flash(_("Nothing was imported. Correct the lines listed and upload the whole file again."), "error")
        return _upload_page(form, parsed=parsed, plan=plan, filename=upload.filename or "", status=422)
    return redirect(url_for(".preview_import", batch_id=batch.id))


@bp.get("/staff/import/<batch_id>")
@role_required("admin")
def preview_import(batch_id: str) -> ResponseReturnValue:
    batch = staff_import.load_batch(request_actor(), batch_id)
    if batch.state != "pending":
        return redirect(url_for(".import_progress", batch_id=batch.id))
    plan = staff_import.batch_plan(batch)
    if plan.errors:
        flash(_("The file no longer fits the units on record. Upload it again."), "error")
    elif plan.digest() != batch.plan_digest:
        # The staff list changed since the upload: what is shown now is what confirm will do.
        batch.plan_digest = plan.digest()
        flash(_("The staff list changed since the upload; this preview shows what would happen now."), "error")
    form = ImportConfirmForm(batch=batch.id, digest=plan.digest())
    return render_template("office/import_preview.html", batch=batch, plan=plan, form=form,
                           discard=ConfirmForm(), limit=PREVIEW_ROWS, chunk=import_jobs.chunk_lines(),
                           missing=len(departures.missing_from(batch)))


@bp.post("/staff/import/<batch_id>/confirm")
@role_required("admin")
def confirm_import(batch_id: str) -> ResponseReturnValue:
    form = ImportConfirmForm()
    if not form.validate_on_submit() or form.batch.data != batch_id:
        flash(_("The confirmation could not be read. Check the preview and confirm again."), "error")
        return redirect(url_for(".preview_import", batch_id=batch_id))
    batch = staff_import.load_batch(request_actor(), batch_id)
    if batch.state != "pending":  # a second click, or the back button: show the running import
        return redirect(url_for(".import_progress", batch_id=batch.id))
    try:
        runner = import_jobs.start(request_actor(), batch, form.digest.data)
    except DomainError as error:
        refused(error)
        if error.code == "invalid_import":
            return redirect(url_for(".import_staff"))
        if error.code == "import_started":
            return redirect(url_for(".import_progress", batch_id=batch_id))
        return redirect(url_for(".preview_import", batch_id=batch_id))
    # The job reads the batch from its own connection: it starts once this request has committed.
    # The app itself, not the request's proxy to it (Flask's types call current_app a Flask).
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    after_commit(lambda: import_jobs.launch(app, batch_id, runner))
    return redirect(url_for(".import_progress", batch_id=batch_id))


def _progress_message(progress: import_jobs.Progress) -> str:
    # Thousands grouped as in the bar's "n of N lines": 50,000, not 50000.
    counts = {"created": f"{progress.created:,}", "updated": f"{progress.updated:,}",
              "unchanged": f"{progress.unchanged:,}"}
    if progress.state == "done":
        return _("The import is finished: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
                 **counts)
    if progress.state == "failed":
        if progress.error_code == "unit":
            reason = _("The import stopped at line %(line)s of the file: no unit has the code %(code)s any more "
                       "(it was removed after the preview).", line=progress.error_line, code=progress.error_detail)
        elif progress.error_code == "line":
            reason = _("The import stopped at line %(line)s of the file: %(problem)s.",
                       line=progress.error_line, problem=progress.error_detail)
        else:
            reason = _("The import stopped because of an error on the server (%(problem)s).",
                       problem=progress.error_detail)
        return " ".join([reason, _(
            "The first %(applied)s lines were imported (%(created)s created, %(updated)s updated, "
            "%(unchanged)s unchanged); nothing after them. Correct the file and upload it again: "
            "the lines already imported will show as unchanged.", applied=f"{progress.applied:,}", **counts)])
    if progress.resumed:
        return _("The import had stopped (the server restarted); it continues from line %(n)s.",
                 n=f"{progress.applied + 1:,}")
    return _("Importing… You may leave this page: the import carries on, and if the server restarts it "
             "continues where it stopped the next time this page is opened.")


@bp.get("/staff/import/<batch_id>/progress")
@role_required("admin")
def import_progress(batch_id: str) -> ResponseReturnValue:
    batch = staff_import.load_batch(request_actor(), batch_id)
    if batch.state == "pending":
        return redirect(url_for(".preview_import", batch_id=batch.id))
    progress = import_jobs.progress(batch)
    return render_template("office/import_progress.html", batch=batch, progress=progress,
                           message=_progress_message(progress), refresh_seconds=2,
                           missing=len(departures.missing_from(batch)) if progress.state == "done" else 0)


@bp.get("/staff/import/<batch_id>/progress.json")
@role_required("admin")
def import_progress_json(batch_id: str) -> ResponseReturnValue:
    batch = staff_import.load_batch(request_actor(), batch_id)
    progress = import_jobs.progress(batch)
    response = jsonify(
        state=progress.state, total=progress.total, applied=progress.applied, percent=progress.percent,
        created=progress.created, updated=progress.updated, unchanged=progress.unchanged,
        heartbeat_at=progress.heartbeat_at.isoformat() if progress.heartbeat_at else None,
        finished=progress.state in ("done", "failed"), resumed=progress.resumed,
        error=({"code": progress.error_code, "line": progress.error_line, "detail": progress.error_detail}
               if progress.state == "failed" else None),
        lines=_("%(applied)s of %(total)s lines", applied=f"{progress.applied:,}", total=f"{progress.total:,}"),
        message=_progress_message(progress),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/staff/import/<batch_id>/departures", methods=["GET", "POST"])
@role_required("admin")
def import_departures(batch_id: str) -> ResponseReturnValue:
    """A full staff list: those on record but not in it, to confirm as left on a day (or not)."""
    batch = staff_import.load_batch(request_actor(), batch_id)
    missing = departures.missing_from(batch)
    form = DeparturesForm()
    form.staff_ids.choices = [(s.id, s.staff_number) for s in missing]
    if request.method == "GET":
        form.left_on.data = local_today()
        form.staff_ids.data = [s.id for s in missing]
    elif form.validate_on_submit():
        try:
            count = departures.mark_left(request_actor(), batch, form.staff_ids.data or [], form.left_on.data)
        except DomainError as error:
            status = refused(error, form)
            return render_template("office/import_departures.html", batch=batch, missing=missing,
                                   form=form), status
        flash(_("%(n)s staff were marked as left on %(day)s; they stay on record.", n=count,
                day=form.left_on.data.isoformat()), "success")
        return redirect(url_for(".import_departures", batch_id=batch.id))
    status = 422 if request.method == "POST" else 200
    return render_template("office/import_departures.html", batch=batch, missing=missing, form=form), status


@bp.post("/staff/import/<batch_id>/discard")
@role_required("admin")
def discard_import(batch_id: str) -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        batch = staff_import.load_batch(request_actor(), batch_id)
        if batch.state != "pending":  # started: it is no longer an upload to throw away
            return redirect(url_for(".import_progress", batch_id=batch.id))
        staff_import.discard(request_actor(), batch)
        flash(_("The upload was discarded; nothing was imported."), "success")
    return redirect(url_for(".import_staff"))


@bp.get("/staff/import/template.<kind>")
@role_required("admin")
def import_template(kind: str) -> ResponseReturnValue:
    """The header row to fill in, with English column keys or (``?headings=ja``) Japanese headings."""
    japanese = request.args.get("headings") == "ja"
    name = "staff-template-ja" if japanese else "staff-template"
    if kind == "csv":
        return Response(staff_import.template_csv(japanese), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}.csv"})
    if kind == "xlsx":
        return Response(staff_import.template_xlsx(japanese),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename={name}.xlsx"})
    return redirect(url_for(".import_staff"))
