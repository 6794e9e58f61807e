"""What the offline desk is served (issue 20): the page shell, the roster the tablet keeps and
when it must wipe it, the service worker and the manifest, and the wipe at sign-out."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from booking.localtime import utcnow


def test_the_roster_has_the_people_a_fresh_token_and_when_to_wipe(app, client, login, booked):
    login("clerk")
    app.config["DESK_OFFLINE_KEEP_MINUTES"] = 30

    answer = client.get(f"/desk/sessions/{booked.session_id}/roster.json")

    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    roster = answer.get_json()
    assert roster["csrf_token"]
    row = next(r for r in roster["reservations"] if r["id"] == booked.id)
    assert [p["id"] for p in row["people"]] == booked.person_ids
    assert all(p["check_in"] is None for p in row["people"])
    wipe_at = datetime.fromisoformat(roster["wipe_at"])
    assert utcnow() < wipe_at <= utcnow() + timedelta(minutes=30)


def test_the_page_is_a_shell_without_personal_data(app, client, login, booked, world):
    login("clerk")

    page = client.get(f"/desk/sessions/{booked.session_id}/offline").get_data(as_text=True)

    assert "data-offline-desk" in page and 'rel="manifest"' in page
    assert booked.code not in page and "佐藤" not in page


def test_the_service_worker_and_the_manifest_are_served_by_the_app(client):
    worker = client.get("/desk/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/desk/"
    assert "/static/js/desk-offline.js" in worker.get_data(as_text=True)
    assert "http" not in worker.get_data(as_text=True).replace("http://localhost", "")
    assert re.search(r'var CACHE = "desk-shell-[0-9a-f]{16}"', worker.get_data(as_text=True))

    manifest = client.get("/desk/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["scope"] == "/desk/" and all(icon["src"].startswith("/static/") for icon in body["icons"])
    assert client.get(body["icons"][0]["src"]).status_code == 200


def test_signing_out_clears_the_sites_storage_on_the_device(client, login):
    login("clerk")

    answer = client.post("/office/logout", data={})

    assert answer.status_code == 302
    assert answer.headers["Clear-Site-Data"] == '"storage"'


def test_the_tablet_wipes_at_the_end_of_the_session_day_whatever_the_time_set(app, client, login, booked, world):
    from booking.extensions import db
    from booking.localtime import local_today
    from booking.models import DeskSession

    with app.app_context():
        desk_session = db.session.get(DeskSession, world.session_id)
        desk_session.date = local_today() - timedelta(days=1)
        db.session.commit()
    login("clerk")
    app.config["DESK_OFFLINE_KEEP_MINUTES"] = 24 * 60

    roster = client.get(f"/desk/sessions/{booked.session_id}/roster.json").get_json()

    # The session ended before today began (Tokyo): what the tablet keeps is due for wiping now.
    assert datetime.fromisoformat(roster["wipe_at"]) <= utcnow()
