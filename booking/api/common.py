"""What every API view needs: the caller, the parsed body, serialised records."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, current_app, g, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..localtime import year_range_message
from ..models import User
from ..services.accounts import user_for_api_token
from ..services.errors import DomainError
from ..services.guard import refuse_individual_numbers
from ..web import MAX_JSON_DEPTH, json_nesting_depth

P = ParamSpec("P")
R = TypeVar("R")
Body = TypeVar("Body", bound=BaseModel)


def api_user() -> User | None:
    """The office user of the bearer token, None without one; 401 for a wrong one."""
    if "api_user" not in g:
        header = request.headers.get("Authorization", "")
        if not header:
            g.api_user = None
        else:
            scheme, _sep, token = header.partition(" ")
            user = user_for_api_token(token.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                abort(401)
            g.api_user = user
    return g.api_user


def office_user() -> User:
    """The office user of a view behind ``@office``, which has refused a request without one."""
    user = api_user()
    if user is None:
        abort(401)
    return user


def office(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Require a bearer token whose user has one of the roles."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            user = api_user()
            if user is None:
                abort(401)
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _strings(value: object, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield prefix or "body", value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{prefix}[{index}]")


def body(model: type[Body]) -> Body:
    """The JSON body validated against a schema; refusals name the fields (API.md)."""
    limit = current_app.config["API_MAX_JSON_BYTES"]
    if (request.content_length or 0) > limit:
        abort(413)
    # A chunked body has no Content-Length to check: the per-request limit makes
    # the stream stop one byte past the limit (Werkzeug truncates there silently)
    # instead of reading up to MAX_CONTENT_LENGTH (10 MB) into memory.
    request.max_content_length = limit + 1
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        abort(413)
    if json_nesting_depth(raw) > MAX_JSON_DEPTH:
        raise DomainError("invalid", _("Check the fields listed."), fields={
            "body": _("The JSON is nested more than %(count)s levels deep.", count=MAX_JSON_DEPTH)})
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError(
            "invalid",
            _("Send a JSON object as the request body."),
            fields={"body": _("Expected a JSON object.")},
        )
    strings = dict(_strings(data))
    with_nul = {name: _("Remove the NUL character.") for name, text in strings.items() if "\x00" in text}
    if with_nul:
        # PostgreSQL cannot store NUL in text (and SQLite would keep it silently): refuse it here.
        raise DomainError("invalid", _("Check the fields listed."), fields=with_nul)
    refuse_individual_numbers(strings)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields: dict[str, str] = {}
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]) or "body"
            fields.setdefault(name, field_message(problem))
        raise DomainError("invalid", _("Check the fields listed."), fields=fields) from None


def field_message(problem: ErrorDetails) -> str:
    """A pydantic problem as a sentence in the caller's language (pydantic's own are English only)."""
    kind, ctx = problem["type"], problem.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind.startswith("int_"):
        return _("Enter a whole number.")
    if kind == "string_type":
        return _("Enter text.")
    if kind.startswith("bool_"):
        return _("Enter true or false.")
    if kind == "list_type":
        return _("Send a list.")
    if kind == "year_range":
        return year_range_message()
    if kind.startswith("datetime_") or kind == "timezone_aware":
        return _("Enter a date and time as YYYY-MM-DDTHH:MM.")
    if kind.startswith("date_"):
        return _("Enter a date as YYYY-MM-DD.")
    if kind.startswith("time_"):
        return _("Enter a time as HH:MM.")
    if kind == "string_too_short":
        return _("This field is required.") if ctx.get("min_length") == 1 else _(
            "Enter at least %(count)s characters.", count=ctx.get("min_length"))
    if kind == "string_too_long":
        return _("Enter at most %(count)s characters.", count=ctx.get("max_length"))
    if kind == "too_long":
        return _("Send at most %(count)s items.", count=ctx.get("max_length"))
    if kind in ("greater_than_equal", "greater_than"):
        return _("Enter %(limit)s or more.", limit=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return _("Enter %(limit)s or less.", limit=ctx.get("le", ctx.get("lt")))
    if kind == "literal_error":
        return _("Use one of: %(choices)s.", choices=ctx.get("expected", ""))
    if kind == "string_pattern_mismatch":
        return _("This value has characters that are not allowed here.")
    return _("This value is not valid.")
