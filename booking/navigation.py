"""The office menu: each blueprint registers its own entries, shown by role, grouped in sections."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

#: The menu's sections, in the order shown. An admin sees about twenty pages:
#: in one row they took two lines on a PC and a whole phone screen.
SECTIONS = {
    "bookings": _l("Bookings and desk"),
    "units": _l("Rosters and units"),
    "organisation": _l("Staff and venues"),
    "hq": _l("HQ reports"),
    "admin": _l("Administration"),
}


#: Where each role starts after signing in: its own daily page, not the admin's campaign list.
START_PAGES = {
    "admin": "office.overview",
    "clerk": "desk.index",
    "chief": "chiefs.sessions",
    "hq": "reports.dashboard",
}


def start_url(role: str) -> str:
    """The address a user of this role lands on after signing in (the overview when unknown)."""
    return url_for(START_PAGES.get(role, "office.overview"))


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy translation
    roles: tuple[str, ...]
    order: int
    section: str
    #: Addresses of pages reached from this entry that lie elsewhere (a chief's unit page
    #: leads to /chiefs/staff/<id>), so that the entry is marked on them too.
    also: tuple[str, ...] = ()


_ITEMS: list[NavItem] = []


def register(endpoint: str, label: object, roles: tuple[str, ...], order: int = 50, *, section: str,
             also: tuple[str, ...] = ()) -> None:
    """Add a menu entry; called once at import time by the blueprint that owns the page."""
    if section not in SECTIONS:
        raise ValueError(f"unknown menu section {section!r}")
    if all(item.endpoint != endpoint for item in _ITEMS):
        _ITEMS.append(NavItem(endpoint, label, roles, order, section, also))


def _stands_for(url: str, path: str) -> bool:
    """Whether the page at ``path`` lies under the menu entry at ``url`` (/office/staff covers
    /office/staff/12, not /office/staffing)."""
    return path == url or path.startswith(url.rstrip("/") + "/")


def office_nav() -> list[dict]:
    """The sections with the entries the signed-in user may open, the current one marked.

    The current entry is the one whose address is the longest start of this page's, so a
    staff member's page marks "Staff" and a session's edit page "Campaigns". A section
    holding a single entry for this user is shown as that entry alone.
    """
    if not current_user.is_authenticated:
        return []
    visible = [
        (item, url_for(item.endpoint)) for item in sorted(_ITEMS, key=lambda i: i.order)
        if current_user.role in item.roles
    ]
    under = [(len(prefix), url) for item, url in visible for prefix in (url, *item.also)
             if _stands_for(prefix, request.path)]
    current = max(under)[1] if under else None
    sections = []
    for key, label in SECTIONS.items():
        items = [{"url": url, "label": str(item.label), "active": url == current}
                 for item, url in visible if item.section == key]
        if items:
            sections.append({"key": key, "label": str(label), "items": items,
                             "active": any(i["active"] for i in items)})
    return sections
