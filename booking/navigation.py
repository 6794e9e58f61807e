"""The office menu: each blueprint registers its own entries, shown by role."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy translation
    roles: tuple[str, ...]
    order: int


_ITEMS: list[NavItem] = []


def register(endpoint: str, label, roles: tuple[str, ...], order: int = 50) -> None:
    """Add a menu entry; called once at import time by the blueprint that owns the page."""
    if all(item.endpoint != endpoint for item in _ITEMS):
        _ITEMS.append(NavItem(endpoint, label, roles, order))


def office_nav() -> list[dict]:
    """The entries the signed-in user may open, in order, with the current one marked."""
    if not current_user.is_authenticated:
        return []
    return [
        {
            "url": url_for(item.endpoint),
            "label": str(item.label),
            "active": request.endpoint == item.endpoint,
        }
        for item in sorted(_ITEMS, key=lambda i: i.order)
        if current_user.role in item.roles
    ]
