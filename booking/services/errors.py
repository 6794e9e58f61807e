"""Refusals with a stable code that views and the API map to messages and statuses."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain refused the action.

    ``code`` is stable (tests and API clients rely on it); ``message`` tells the
    person what to do, and may be a lazy translation; ``extra`` carries fields
    the API adds to its error body (for example ``reservation_code``).
    """

    def __init__(self, code: str, message: Any, *, fields: dict | None = None, **extra: Any):
        super().__init__(code)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.extra = extra

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class NotFound(DomainError):
    def __init__(self, message: Any):
        super().__init__("not_found", message)
