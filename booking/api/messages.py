"""GET /api/v1/messages (admin): what was sent about a booking (API.md "Notifications by e-mail")."""
from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from ..services import messages
from ..web import request_actor
from . import bp, serialize
from .common import office


@bp.get("/messages")
@office("admin")
def list_messages() -> ResponseReturnValue:
    filters = messages.MessageFilter(
        kind=request.args.get("kind", ""), status=request.args.get("status", ""),
        reservation_code=request.args.get("reservation_code", ""))
    found = messages.search(request_actor(), filters)
    return jsonify([serialize.message(m) for m in reversed(found)])
