"""The office menu marks where the user is, on the menu's own pages and on the pages under them."""
from __future__ import annotations

import re

import pytest


def menu(client, path: str) -> tuple[list[str], list[str]]:
    """On the page at path: the hrefs marked aria-current, and the sections marked current (their HTML)."""
    response = client.get(path)
    assert response.status_code == 200, path
    html = response.get_data(as_text=True)
    start = html.index('<nav class="office-nav"')
    nav = html[start:html.index("</nav>", start)]
    links = re.findall(r'<a href="([^"]+)" aria-current="page"', nav)
    sections = re.findall(r'<details class="office-nav__section is-current">.*?</details>', nav, re.DOTALL)
    return links, sections


@pytest.mark.parametrize(("role", "path", "marked"), [
    ("admin", "/office/staff", "/office/staff"),
    ("admin", "/office/staff/{staff_a}", "/office/staff"),
    ("admin", "/office/staff/import", "/office/staff/import"),
    ("admin", "/office/campaigns/{campaign}", "/office/"),
    ("admin", "/office/sessions/{session}/edit", "/office/"),
    ("admin", "/office/units/{A}/duty", "/office/units"),
    ("admin", "/office/users/{user_clerk}", "/office/users"),
    ("admin", "/reports/status-import", "/reports/status-import"),
    ("clerk", "/office/phone/staff/{staff_a}", "/office/phone"),
    ("chief_a", "/chiefs/staff/{staff_a}", "/chiefs/unit"),  # reached from "My units"
    ("chief_a", "/chiefs/", "/chiefs/"),
])
def test_a_page_under_a_menu_entry_marks_that_entry_and_its_section(office, login, role, path, marked):
    links, sections = menu(login(role), path.format(**office.ids))
    assert links == [marked]
    assert len(sections) == 1 and f'href="{marked}"' in sections[0]


def test_the_entry_with_the_longest_address_wins(office, login):
    client = login("admin")
    # /desk/no-shows is its own entry, not "Desk" (/desk/), though both addresses start it.
    assert menu(client, "/desk/no-shows")[0] == ["/desk/no-shows"]
    assert menu(client, "/reports/ranking")[0] == ["/reports/ranking"]
    assert menu(client, "/reports/")[0] == ["/reports/"]
    # /office/staff/import is an entry of its own inside /office/staff.
    assert menu(client, "/office/staff/import")[0] == ["/office/staff/import"]
