"""No page of any role tells phones to hide their keyboard.

WTForms writes an attribute given as None as the text "None"; ``inputmode="None"`` reads as
``none`` in HTML, which tells phones and tablets not to show the keyboard at all.
Every GET route of every area is opened by every kind of caller (the same walk as the
permission matrix), and each HTML answer is checked.
"""
from __future__ import annotations

import re

import pytest

from tests.office.conftest import sign_in
from tests.security.test_permission_matrix import _requests

BAD_ATTRIBUTE = re.compile(r'\b(inputmode|autocomplete)="(None|)"')


@pytest.mark.parametrize("caller", ["booker", "clerk", "chief_a", "admin"])
def test_no_page_renders_an_attribute_whose_value_is_none_or_empty(app, sec, caller):
    client = app.test_client()
    if caller in sec.tokens:
        assert sign_in(client, caller).status_code == 302
    checked, problems = 0, []
    for rule, method, path in _requests(app, sec):
        if method != "GET" or path.startswith("/api/") or rule.endpoint == "static":
            continue
        response = client.get(path)
        if response.status_code == 200 and response.mimetype == "text/html":
            checked += 1
            problems += [f"{path}: {m.group(0)}" for m in BAD_ATTRIBUTE.finditer(response.get_data(as_text=True))]
        response.close()
    assert checked > 3
    assert problems == []
