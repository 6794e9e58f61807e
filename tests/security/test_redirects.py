"""Where a page sends or links people back to: only pages of this site (issue 17, item 6).

The sign-in's ``next`` was prefix-checked: ``/%09/evil.example/`` passed ("/" then a tab) and the
answer was ``Location: /\\t/evil.example/``, which browsers read as ``//evil.example/`` (they drop
tabs and line breaks from URLs), another site; a ``next`` with CR/LF gave a 500. The chiefs'
staff page rendered ``?back=https://evil.example/`` as its back link. Every such value is now
parsed (``web.local_path``): a path of this site, or nothing.
"""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.office.conftest import PASSWORD

#: Values a visitor can be tricked into following, as they arrive after URL decoding.
HOSTILE = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example/",
    "///evil.example/",
    "////evil.example",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "/\r\nSet-Cookie: session=stolen",
    "\t//evil.example/",
    " //evil.example/",
    "/ /evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "\\/evil.example",
    "/./evil.example/..//evil.example",
    "/..//evil.example",
    "/.//evil.example",
    "/%2e%2e//evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https:evil.example",
    "https:/evil.example",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\x7f/evil.example",
    "/\u200b/evil.example",
    "/\u2028/evil.example",
    "http://localhost@evil.example/",
    "http://localhost.evil.example/",
    "evil.example",
    "",
]


def _browser_resolves(location: str, base: str = "http://localhost/") -> tuple[str, str]:
    """(scheme, host) a browser goes to for a Location, following the WHATWG URL rules that
    matter here: it drops ASCII tabs and newlines, trims spaces and controls, reads \\ as /."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("\x00-\x20").replace("\\", "/")
    parts = urlsplit(cleaned)
    if parts.scheme:
        return parts.scheme.lower(), parts.netloc.lower()
    if cleaned.startswith("//"):
        return "http", urlsplit("http:" + cleaned).netloc.lower()
    return "http", urlsplit(base).netloc


def _assert_stays_here(location: str) -> None:
    assert not re.search(r"[\x00-\x1f\x7f\\]", location), repr(location)
    assert _browser_resolves(location) == ("http", "localhost"), repr(location)
    assert not location.startswith("//"), repr(location)


def test_sign_in_never_sends_people_to_another_site(app, sec):
    for target in HOSTILE:
        response = app.test_client().post("/office/login", query_string={"next": target},
                                          data={"username": "admin", "password": PASSWORD})
        if "\x00" in target:
            assert response.status_code == 400  # refused before any view: web.refuse_nul_characters
            continue
        assert response.status_code == 302, (target, response.status_code)
        location = response.headers["Location"]
        _assert_stays_here(location)
        assert location == "/office/", (target, location)


@pytest.mark.parametrize("target", ["/office/staff?q=%E5%B1%B1%E7%94%B0&page=2", "/desk/", "/office/units#u-3"])
def test_sign_in_still_goes_to_the_page_asked_for(app, sec, target):
    response = app.test_client().post(f"/office/login?next={target.replace('&', '%26').replace('#', '%23')}",
                                      data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == target


def test_the_page_behind_a_sign_in_is_reached_after_it(app, sec):
    """Flask-Login's own redirect to the sign-in page carries ``next``; it still works."""
    client = app.test_client()
    response = client.get("/office/staff?q=1001")
    assert response.status_code == 302
    login = response.headers["Location"]
    response = client.post(login, data={"username": "admin", "password": PASSWORD})
    assert response.headers["Location"] == "/office/staff?q=1001"


def _back_link(page: str) -> str:
    match = re.search(r'<p class="back"><a href="([^"]*)"', page)
    assert match, page[:2000]
    return unescape(match.group(1))


def test_a_chiefs_back_link_is_a_page_of_this_site(app, sec):
    client = app.test_client()
    client.post("/office/login", data={"username": "chief_a", "password": PASSWORD})
    staff_id = sec.ids["staff_a"]
    for target in HOSTILE:
        response = client.get(f"/chiefs/staff/{staff_id}", query_string={"back": target})
        if "\x00" in target:
            assert response.status_code == 400
            continue
        assert response.status_code == 200, (target, response.status_code)
        page = response.get_data(as_text=True)
        assert _back_link(page) == "/chiefs/unit", target
        # The forms carry it on, and the redirect after saving links back with it, checked again.
        for action in re.findall(r'<form method="post" action="([^"]*)"', page):
            carried = parse_qs(urlsplit(unescape(action)).query).get("back", ["/chiefs/unit"])[0]
            assert carried == "/chiefs/unit", (target, action)
        response = client.post(f"/chiefs/staff/{staff_id}/reason", query_string={"back": target},
                               data={"reason": "", "note": ""})
        assert response.status_code == 302, (target, response.status_code)
        _assert_stays_here(response.headers["Location"])
        assert "evil" not in response.headers["Location"], target
        assert _back_link(client.get(response.headers["Location"]).get_data(as_text=True)) == "/chiefs/unit"


def test_a_chiefs_back_link_keeps_the_list_it_came_from(app, sec):
    client = app.test_client()
    client.post("/office/login", data={"username": "chief_a", "password": PASSWORD})
    back = "/chiefs/unit?filter=no_card&page=1"
    page = client.get(f"/chiefs/staff/{sec.ids['staff_a']}", query_string={"back": back}).get_data(as_text=True)
    assert _back_link(page) == back


REFERRERS = ["http://evil.example/office/venues", "ftp://localhost/office/venues", "http://localhost.evil.example/",
             "http://localhost@evil.example/", "http://evil.example@localhost//evil.example/", "//evil.example/",
             "http://localhost//evil.example/", "http://localhost/\t/evil.example", "http://localhost/\\evil.example",
             "javascript:alert(1)", "/office/venues", "http://[::1/"]


def test_a_refused_post_goes_back_only_to_a_page_of_this_site(app, sec):
    """A refusal no view presents goes back to the page the form was on (its Referer) if that
    page is here, and is an error page otherwise (web.domain_refusal)."""
    from booking.services.errors import DomainError

    def refusing_view():
        raise DomainError("invalid", "Refused for the test.")

    app.add_url_rule("/refused-for-the-test", "refused_for_the_test", refusing_view, methods=["POST"])
    client = app.test_client()
    for referrer in REFERRERS:
        response = client.post("/refused-for-the-test", headers={"Referer": referrer})
        assert response.status_code == 422, (referrer, response.status_code, response.headers.get("Location"))
    response = client.post("/refused-for-the-test", headers={"Referer": "http://localhost/office/venues?page=2"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/office/venues?page=2"
