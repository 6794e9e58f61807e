"""The confirmed staff import runs in the background, in chunks, and resumes after a dead worker.

The job (booking/services/import_jobs.py) is followed here through the progress
page and its JSON endpoint, as the admin's browser would. ``between_chunks`` is
the seam the tests hold the job at, with no transaction open, to act while an
import is under way.
"""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select, update

from booking.extensions import db
from booking.localtime import utcnow
from booking.models import AuditEvent, Reservation, Staff, StaffImportBatch, Unit
from booking.services import accounts, directory, import_jobs
from booking.services.actor import Actor
from tests.office.conftest import PASSWORD, sign_in
from tests.office.import_steps import Gate, poll, wait_for_import

HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"


def csv_bytes(count: int, *, start: int = 700_000, unit=lambda n: "A" if n % 2 else "B") -> bytes:
    lines = [HEADER] + [f"{start + n},山田,{n},ヤマダ,タロウ,{unit(n)},{n % 3 + 1}部,,,none" for n in range(count)]
    return ("\r\n".join(lines) + "\r\n").encode()


def upload(client, data: bytes):
    boundary = "----import-jobs-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"staff.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/office/staff/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return response.headers["Location"]


def confirm_form(client, preview: str) -> dict:
    page = client.get(preview).get_data(as_text=True)
    return {"batch": re.search(r'name="batch" type="hidden" value="([^"]+)"', page).group(1),
            "digest": re.search(r'name="digest" type="hidden" value="([^"]+)"', page).group(1)}


def start(client, preview: str) -> str:
    form = confirm_form(client, preview)
    response = client.post(f"/office/staff/import/{form['batch']}/confirm", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/progress"), response.headers
    return form["batch"]


def counts(app, prefix: str = "7") -> tuple[int, int]:
    """Staff whose number starts with prefix, and how many distinct numbers they have."""
    with app.app_context():
        like = Staff.staff_number.like(f"{prefix}%")
        return (db.session.scalar(select(func.count(Staff.id)).where(like)),
                db.session.scalar(select(func.count(func.distinct(Staff.staff_number))).where(like)))


@pytest.fixture
def admin(client, office, login):
    client.set_cookie("lang", "en")
    return login("admin")


@pytest.fixture
def small_chunks(app):
    app.config["STAFF_IMPORT_CHUNK_LINES"] = 200
    return 200


def die_after(monkeypatch, app, chunks: int):
    """Make confirm's job stop after some chunks, as a worker killed in the middle would."""
    launched = []

    def launch_and_die(application, batch_id, runner):
        launched.append(batch_id)
        outcome = import_jobs.run(application, batch_id, runner, max_chunks=chunks)
        assert outcome == "paused"

    monkeypatch.setattr(import_jobs, "launch", launch_and_die)
    return launched


def age_heartbeat(app, batch_id: str, seconds: int = 3600) -> None:
    with app.app_context():
        db.session.execute(update(StaffImportBatch).where(StaffImportBatch.id == batch_id)
                           .values(heartbeat_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


# --- the normal path ------------------------------------------------------------------------


def test_the_progress_page_shows_the_bar_the_lines_and_at_the_end_the_counts(app, admin, small_chunks, monkeypatch):
    gate = Gate(monkeypatch, after=2)
    batch = start(admin, upload(admin, csv_bytes(1000)))
    gate.wait()
    page = admin.get(f"/office/staff/import/{batch}/progress").get_data(as_text=True)
    assert '<progress class="o-progress__bar" max="1000" value="400"' in page
    assert "400 of 1,000 lines" in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert "js/import-progress.js" in page and "<script>" not in page
    assert 'data-role="links" hidden' in page  # no "open the staff list" while it runs
    data = poll(admin, batch)
    assert (data["state"], data["applied"], data["total"], data["created"], data["finished"]) == \
        ("running", 400, 1000, 400, False)
    gate.go.set()
    data = wait_for_import(admin, batch)
    assert (data["state"], data["applied"], data["created"], data["updated"], data["unchanged"]) == \
        ("done", 1000, 1000, 0, 0)
    page = admin.get(f"/office/staff/import/{batch}/progress").get_data(as_text=True)
    assert "The import is finished: 1,000 created, 0 updated, 0 unchanged." in page
    assert "http-equiv" not in page and 'data-role="links" hidden' not in page
    assert 'href="/office/staff"' in page
    assert counts(app) == (1000, 1000)


def test_a_second_import_of_the_same_file_changes_nothing(app, admin, small_chunks):
    data = csv_bytes(450)
    wait_for_import(admin, start(admin, upload(admin, data)))
    result = wait_for_import(admin, start(admin, upload(admin, data)))
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, 450)
    assert counts(app) == (450, 450)


def test_confirming_twice_starts_one_job_and_the_preview_leads_to_the_progress(app, admin, small_chunks):
    preview = upload(admin, csv_bytes(300))
    form = confirm_form(admin, preview)
    first = admin.post(f"/office/staff/import/{form['batch']}/confirm", data=form)
    second = admin.post(f"/office/staff/import/{form['batch']}/confirm", data=form)
    assert first.headers["Location"] == second.headers["Location"] == f"/office/staff/import/{form['batch']}/progress"
    assert admin.get(preview).headers["Location"].endswith("/progress")
    wait_for_import(admin, form["batch"])
    # Nothing to discard once it has run.
    admin.post(f"/office/staff/import/{form['batch']}/discard")
    assert poll(admin, form["batch"])["state"] == "done"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "import.staff.started")) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "import.staff")) == 1
    assert counts(app) == (300, 300)


def test_another_admin_cannot_watch_or_resume_the_import(app, admin, small_chunks):
    batch = start(admin, upload(admin, csv_bytes(10)))
    wait_for_import(admin, batch)
    with app.app_context():
        accounts.ensure_user("admin2", "admin", password=PASSWORD)
        db.session.commit()
    other = app.test_client()
    sign_in(other, "admin2")
    assert other.get(f"/office/staff/import/{batch}/progress").status_code == 404
    assert other.get(f"/office/staff/import/{batch}/progress.json").status_code == 404


# --- a worker that dies, and who resumes -----------------------------------------------------


def test_a_stale_running_import_is_resumed_by_a_poll_and_finishes_without_duplicates(app, admin, small_chunks,
                                                                                     monkeypatch):
    launched = die_after(monkeypatch, app, chunks=2)
    batch = start(admin, upload(admin, csv_bytes(1000)))
    assert launched == [batch]
    monkeypatch.undo()  # the next worker's threads run normally
    app.config["STAFF_IMPORT_CHUNK_LINES"] = 200
    assert counts(app) == (400, 400)
    # A fresh heartbeat: the job may still be alive, so a look does not take it over.
    data = poll(admin, batch)
    assert (data["state"], data["applied"], data["resumed"]) == ("running", 400, False)
    age_heartbeat(app, batch)
    page = admin.get(f"/office/staff/import/{batch}/progress").get_data(as_text=True)
    assert "it continues from line 401" in page
    data = wait_for_import(admin, batch)
    assert (data["state"], data["applied"], data["created"], data["unchanged"]) == ("done", 1000, 1000, 0)
    assert counts(app) == (1000, 1000)


def test_a_chunk_applied_again_after_a_takeover_creates_nobody_twice(app, admin, small_chunks, monkeypatch):
    """The dead worker had committed its chunk but the resumer re-plans against the database: upsert."""
    die_after(monkeypatch, app, chunks=1)
    batch = start(admin, upload(admin, csv_bytes(500)))
    monkeypatch.undo()
    app.config["STAFF_IMPORT_CHUNK_LINES"] = 200
    with app.app_context():  # as if the progress of the committed chunk had been lost
        db.session.execute(update(StaffImportBatch).where(StaffImportBatch.id == batch)
                           .values(applied=0, created_count=0, heartbeat_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    data = wait_for_import(admin, batch)
    assert (data["state"], data["applied"], data["created"], data["unchanged"]) == ("done", 500, 300, 200)
    assert counts(app) == (500, 500)


def test_of_two_pollers_of_a_stale_import_exactly_one_resumes_it(app, admin, small_chunks, monkeypatch, live_server):
    die_after(monkeypatch, app, chunks=1)
    batch = start(admin, upload(admin, csv_bytes(800)))
    monkeypatch.undo()
    app.config["STAFF_IMPORT_CHUNK_LINES"] = 200
    age_heartbeat(app, batch)
    sessions = []
    for _ in range(2):
        session = requests.Session()
        assert session.post(f"{live_server}/office/login", data={"username": "admin", "password": PASSWORD},
                            allow_redirects=False).status_code == 302
        sessions.append(session)
    barrier = threading.Barrier(2)
    answers = []

    def look(session):
        barrier.wait()
        answers.append(session.get(f"{live_server}/office/staff/import/{batch}/progress.json").json())

    threads = [threading.Thread(target=look, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(a["resumed"] for a in answers) == [False, True]
    data = wait_for_import(admin, batch)
    assert (data["state"], data["applied"], data["created"]) == ("done", 800, 800)
    assert counts(app) == (800, 800)


def test_two_claims_at_once_one_wins(app, admin, small_chunks, monkeypatch):
    die_after(monkeypatch, app, chunks=1)
    batch = start(admin, upload(admin, csv_bytes(400)))
    age_heartbeat(app, batch)
    barrier = threading.Barrier(2)
    tokens = []

    def claim():
        with app.app_context():
            barrier.wait()
            tokens.append(import_jobs.claim_if_stale(batch))
            db.session.remove()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [t for t in tokens if t]
    assert len(tokens) == 2 and len(winners) == 1
    with app.app_context():
        assert db.session.get(StaffImportBatch, batch).runner == winners[0]
    # The loser's token applies nothing; the winner's finishes the job.
    assert import_jobs.run(app, batch, "not-the-runner") == "lost"
    assert import_jobs.run(app, batch, winners[0]) == "done"
    assert counts(app) == (400, 400)


# --- what happens around a running import ---------------------------------------------------


def test_a_booking_goes_through_while_an_import_is_under_way(app, admin, small_chunks, monkeypatch, office,
                                                              make_token):
    """SQLite has one write lock: the import takes it a chunk at a time, not for the whole file."""
    gate = Gate(monkeypatch, after=1)
    batch = start(admin, upload(admin, csv_bytes(1000)))
    gate.wait()
    assert poll(admin, batch)["state"] == "running"
    token = make_token("admin", username="api-admin")
    response = app.test_client().post(
        "/api/v1/reservations", json={"slot_id": office.ids["slots"][0], "staff_number": "1001"},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    assert response.status_code == 201, response.get_json()
    data = poll(admin, batch)
    assert (data["state"], data["applied"]) == ("running", 200)
    gate.go.set()
    assert wait_for_import(admin, batch)["state"] == "done"
    with app.app_context():
        assert db.session.scalar(select(func.count(Reservation.id))) == 1
    assert counts(app) == (1000, 1000)


def test_a_chunk_that_no_longer_fits_stops_the_import_and_says_where(app, admin, small_chunks, monkeypatch):
    with app.test_request_context():
        directory.create_unit(Actor.system(), code="C", name="南消防署", parent_code="HQ")
        db.session.commit()
    # Lines 2..301 go to A, 302.. to the new unit C: the third chunk (lines 402..601) meets C.
    gate = Gate(monkeypatch, after=1)
    batch = start(admin, upload(admin, csv_bytes(700, unit=lambda n: "A" if n < 400 else "C")))
    gate.wait()
    with app.app_context():  # someone removes unit C meanwhile
        db.session.delete(db.session.scalar(select(Unit).where(Unit.code == "C")))
        db.session.commit()
    gate.go.set()
    data = wait_for_import(admin, batch)
    assert (data["state"], data["applied"], data["created"]) == ("failed", 400, 400)
    assert data["error"] == {"code": "unit", "line": 402, "detail": "C"}
    assert "stopped at line 402 of the file: no unit has the code C any more" in data["message"]
    assert counts(app) == (400, 400)  # the chunks before stay; nothing of the failing one
    page = admin.get(f"/office/staff/import/{batch}/progress").get_data(as_text=True)
    assert "Import stopped" in page and 'role="alert"' in page and "The first 400 lines were imported" in page
    assert "http-equiv" not in page
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.staff.failed"))
        assert (event.details["applied"], event.details["created"], event.details["error_line"]) == (400, 400, 402)
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.staff")) is None
    # A stopped import is not resumed by looking at it.
    age_heartbeat(app, batch)
    assert poll(admin, batch)["resumed"] is False


def test_a_database_outage_mid_import_interrupts_it_and_a_later_look_resumes_it(app, admin, small_chunks,
                                                                                monkeypatch):
    """A PostgreSQL restart or a locked/full SQLite file is not the file's fault: no 'failed' verdict."""
    from sqlalchemy.exc import OperationalError

    from booking.services import staff_import

    real_apply, calls = staff_import._apply, []

    def apply_or_lose_the_database(plan, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))
        return real_apply(plan, rows)

    monkeypatch.setattr(staff_import, "_apply", apply_or_lose_the_database)
    outcomes = []
    real_run = import_jobs.run
    monkeypatch.setattr(import_jobs, "launch", lambda application, batch_id, runner: outcomes.append(
        real_run(application, batch_id, runner)))
    batch = start(admin, upload(admin, csv_bytes(600)))
    assert outcomes == ["interrupted"]
    data = poll(admin, batch)
    assert (data["state"], data["applied"], data["resumed"]) == ("running", 200, False)
    age_heartbeat(app, batch)
    data = poll(admin, batch)  # resumes, in this test synchronously
    assert outcomes == ["interrupted", "done"] and data["resumed"] is True
    data = poll(admin, batch)
    assert (data["state"], data["applied"], data["created"]) == ("done", 600, 600)
    assert counts(app) == (600, 600)
