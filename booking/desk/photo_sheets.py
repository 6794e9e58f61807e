"""A session's photos for the applications: the A4 print sheet and the ZIP named by 申請書ID."""
from __future__ import annotations

import base64

from flask import current_app, render_template, url_for
from flask.typing import ResponseReturnValue

from ..auth import role_required
from ..services import photo_sheets
from ..web import request_actor
from . import bp
from .views import DESK_ROLES, _session_or_404

#: Photos per A4 sheet: four across, four down at 45 × 35 mm with the name and 申請書ID under each.
PER_SHEET = 16
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.get("/sessions/<int:session_id>/photos/print")
@role_required(*DESK_ROLES)
def print_photos(session_id: int) -> ResponseReturnValue:
    desk_session = _session_or_404(session_id)
    rows = photo_sheets.print_sheet(request_actor(), desk_session)
    cells = [{"name": row.name, "kana": row.kana, "application_id": row.application_id,
              "src": "data:image/jpeg;base64," + base64.b64encode(row.data).decode("ascii") if row.data else None}
             for row in rows]
    sheets = [cells[i:i + PER_SHEET] for i in range(0, len(cells), PER_SHEET)]
    html = render_template("desk/photo_sheet.html", desk_session=desk_session, sheets=sheets,
                           back_url=url_for(".session_board", session_id=desk_session.id),
                           zip_url=url_for(".download_photos", session_id=desk_session.id))
    return html, 200, NO_STORE


@bp.get("/sessions/<int:session_id>/photos.zip")
@role_required(*DESK_ROLES)
def download_photos(session_id: int) -> ResponseReturnValue:
    desk_session = _session_or_404(session_id)
    data = photo_sheets.session_zip(request_actor(), desk_session)
    headers = {**NO_STORE,
               "Content-Disposition": f'attachment; filename="{photo_sheets.zip_name(desk_session)}"'}
    return current_app.response_class(data, mimetype="application/zip", headers=headers)
