"""Bad input is refused with a 4xx that says what is wrong, never a 500 (issue 17, item 8).

Found by hand and by schemathesis on the running system: a JSON body nested 30,000 deep
(RecursionError), an XLSX file with a DTD (ParseError), a NUL byte in a path segment on
PostgreSQL (DataError), session times with seconds and an offset (PostgreSQL refused them,
SQLite made slots at odd seconds) and numbers too large for any id column (OverflowError).
tests/security/test_form_crawler.py posts hostile values into every form of the office pages.
"""
from __future__ import annotations

import pytest

EN = {"Accept-Language": "en"}


def _json_posts(sec) -> list[str]:
    """Every API call that reads a JSON body (cancelling reads none)."""
    token = sec.manage["staff_a"]
    return ["/api/v1/units", "/api/v1/venues", "/api/v1/campaigns", f"/api/v1/campaigns/{sec.ids['campaign']}/sessions",
            "/api/v1/reservations", f"/api/v1/reservations/{token}/reschedule",
            "/api/v1/checkins", "/api/v1/staff/1001/dependents"]


@pytest.mark.parametrize("shape", ["arrays", "objects", "mixed", "inside a field"])
def test_deeply_nested_json_is_refused_on_every_call(client, sec, shape):
    depth = 30_000 if shape == "arrays" else 10_000
    body = {
        "arrays": "[" * depth + "]" * depth,
        "objects": '{"a":' * depth + "1" + "}" * depth,
        "mixed": '[{"a":' * (depth // 2) + "1" + "}]" * (depth // 2),
        "inside a field": '{"slot_id": 1, "staff_number": "1001", "dependent_ids": ' + "[" * depth + "]" * depth + "}",
    }[shape]
    for path in _json_posts(sec):
        response = client.post(path, data=body, content_type="application/json", headers=sec.headers("admin"))
        assert response.status_code in (413, 422), (path, response.status_code)
        if response.status_code == 422:
            answer = response.get_json()
            assert answer["error"] == "invalid" and "nested" in answer["fields"]["body"], (path, answer)


def test_json_nested_as_deep_as_any_real_call_is_still_read(client, sec):
    """The limit leaves room: a body a few levels deep is read and validated as before."""
    response = client.post("/api/v1/units", json={"code": "C", "name": "南消防署", "extra": [[[[{"a": [1]}]]]]},
                           headers=sec.headers("admin"))
    assert response.status_code == 201, response.get_json()
