"""Security headers on every page and API answer; HSTS and Secure cookies only over HTTPS."""
from __future__ import annotations

import re

import pytest

from booking import create_app
from tests.conftest import _config

PAGES = ["/", "/office/login", "/api/v1/openapi.json", "/api/v1/campaigns", "/healthz",
         "/does-not-exist", "/api/v1/does-not-exist", "/static/css/app.css"]


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";")) if part}


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    response.close()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    directives = _csp(response)
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    scripts = directives.get("script-src", directives["default-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert "'unsafe-inline'" not in directives.get("style-src", directives["default-src"])


def test_pages_of_every_area_carry_the_headers_too(client, sec):
    for role in ("admin",):
        assert client.post("/office/login", data={"username": role, "password": "correct horse battery"}).status_code == 302
    for path in ("/office/", "/office/staff", "/desk/", f"/r/{sec.manage['staff_a']}",
                 f"/i/{sec.invitation['staff_a'][0]}", "/reports/"):
        response = client.get(path)
        assert response.status_code in (200, 302), path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_or_page_needs_inline_script_or_style(client, sec, app):
    """The CSP blocks inline <script>, <style> and style="…": none may be in what we serve."""
    client.post("/office/login", data={"username": "admin", "password": "correct horse battery"})
    for path in ("/", "/office/login", "/office/", "/office/staff", f"/office/staff/{sec.ids['staff_a']}",
                 f"/office/campaigns/{sec.ids['campaign']}", "/desk/", f"/r/{sec.manage['staff_a']}",
                 f"/i/{sec.invitation['staff_a'][0]}", f"/i/{sec.invitation['staff_a'][0]}/sessions/{sec.ids['session']}"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert "<style" not in html and " style=" not in html, path
        assert not re.search(r"\son[a-z]+=\"", html), path  # onclick=… is inline script too


def test_plain_http_gets_no_hsts_and_no_secure_cookie(client):
    response = client.get("/?lang=en")
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]


def test_https_gets_hsts_and_secure_cookies(client):
    response = client.get("/?lang=en", base_url="https://desk.example.jp")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "; Secure" in response.headers["Set-Cookie"]


def test_the_session_cookie_is_secure_over_https_without_any_setting(client, sec):
    response = client.post("/office/login", data={"username": "admin", "password": "correct horse battery"},
                           base_url="https://desk.example.jp")
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    session = [c for c in cookies if c.startswith("session=")]
    assert session and "; Secure" in session[0] and "HttpOnly" in session[0]


def test_behind_a_trusted_proxy_forwarded_https_counts(tmp_path):
    app = create_app({**_config(f"sqlite:///{tmp_path / 'p.sqlite3'}", str(tmp_path)), "TRUSTED_PROXIES": 1})
    client = app.test_client()
    response = client.get("/?lang=en", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "; Secure" in response.headers["Set-Cookie"]


def test_without_trusted_proxies_a_forged_forwarded_proto_is_ignored(client):
    response = client.get("/?lang=en", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]
