"""Refusals as JSON: one table from domain codes to HTTP statuses."""
from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..formatting import clock
from ..services.errors import status_for
from . import bp


def error_response(code: str, message: object, status: int | None = None, *,
                   fields: Mapping[str, object] | None = None, **extra: object) -> Response:
    body: dict[str, object] = {"error": code, "message": str(message)}
    if fields:
        body["fields"] = {name: str(text) for name, text in fields.items()}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status or status_for(code)
    return response


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    db.session.rollback()
    messages: dict[int | None, tuple[str, str]] = {
        400: ("bad_request", _("The request could not be read. Send JSON as API.md describes.")),
        401: ("unauthorized", _("Send a valid API token as 'Authorization: Bearer <token>'.")),
        403: ("forbidden", _("Your account may not do this.")),
        404: ("not_found", _("Nothing is here. Check the address.")),
        405: ("method_not_allowed", _("This address does not take that method.")),
        413: ("too_large", _("The request body is too large.")),
        415: ("unsupported_media_type", _("Send the body as application/json.")),
        429: ("too_many_attempts", _("Too many attempts. Wait a few minutes and try again.")),
    }
    code, message = messages.get(error.code, ("error", error.description or ""))
    extra: dict[str, Any] = {}
    retry = None
    if error.code == 429:
        from ..ratelimits import retry_at
        until = retry_at()
        if until is not None:
            retry = max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))
            message = _("Too many attempts. Try again after %(time)s (in about %(minutes)s minutes).",
                        time=clock(until), minutes=max(1, -(-retry // 60)))
            extra["retry_at"] = until.isoformat()
    response = error_response(code, message, error.code, **extra)
    if error.code == 429:
        response.headers["Retry-After"] = str(retry or getattr(error, "retry_after", None) or 900)
    valid_methods = getattr(error, "valid_methods", None)
    if error.code == 405 and valid_methods:
        response.headers["Allow"] = ", ".join(valid_methods)
    return response
