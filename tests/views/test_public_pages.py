"""The booker's pages through the Flask test client: each page, each refusal, the language switch."""
from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from booking.extensions import db
from booking.models import Campaign, Reservation, Slot, Staff
from booking.services import directory, invitations, slots
from booking.services.actor import Actor
from booking.services.tokens import CODE_ALPHABET

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"[ACEFHJKMNPRTWXY34679]{3}-[ACEFHJKMNPRTWXY34679]{3}")


def text(response) -> str:
    return response.get_data(as_text=True)


def book(client, world, slot_index: int = 0, *dependents: int, lang: str | None = None):
    """Book through the page; returns the response (a redirect to the confirmation when it worked)."""
    query = f"?lang={lang}" if lang else ""
    return client.post(
        f"/i/{world.invitation_token}/sessions/{world.session_id}{query}",
        data={"slot_id": world.slot_ids[slot_index], "dependent_ids": list(dependents)},
    )


def manage_path(response) -> str:
    location = response.headers["Location"]
    return location.split("?")[0].replace("http://localhost", "")


def fill_slot(client, world, slot_index: int, seats: int = 2) -> None:
    """Other staff take the seats of a slot, through the API."""
    for number, code in world.add_staff(seats, start=3000 + 10 * slot_index):
        response = client.post("/api/v1/reservations", json={
            "slot_id": world.slot_ids[slot_index], "staff_number": number, "invitation_code": code})
        assert response.status_code == 201, response.get_json()


def set_campaign(app, world, **values) -> None:
    with app.app_context():
        campaign = db.session.get(Campaign, world.campaign_id)
        for key, value in values.items():
            setattr(campaign, key, value)
        db.session.commit()


# --- language ------------------------------------------------------------------


def test_pages_are_japanese_by_default(client, world):
    page = text(client.get("/"))
    assert '<html lang="ja">' in page
    assert "職員番号" in page and "招待コード" in page
    assert 'href="?lang=en"' in page


def test_lang_en_switches_to_english_and_a_cookie_remembers_it(client, world):
    response = client.get("/?lang=en")
    assert '<html lang="en">' in text(response)
    assert "Staff number" in text(response)
    assert "lang=en" in response.headers["Set-Cookie"]
    later = text(client.get(f"/i/{world.invitation_token}"))
    assert '<html lang="en">' in later and "Choose a session" in later


def test_lang_ja_switches_back_to_japanese(client, world):
    client.get("/?lang=en")
    page = text(client.get("/?lang=ja"))
    assert '<html lang="ja">' in page and "職員番号" in page


def test_dates_are_written_the_japanese_way(client, world):
    page = text(client.get(f"/i/{world.invitation_token}"))
    weekday = "月火水木金土日"[world.session_day.weekday()]
    assert f"{world.session_day.month}月{world.session_day.day}日({weekday})" in page


def test_dates_are_written_the_english_way_in_english(client, world):
    page = text(client.get(f"/i/{world.invitation_token}?lang=en"))
    assert world.session_day.strftime("%a %-d %B") in page


# --- identify form ---------------------------------------------------------------


def test_identify_form_with_the_right_number_and_code_opens_the_invitation(client, world):
    response = client.post("/", data={"staff_number": world.staff_number, "invitation_code": world.invitation_code})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/i/{world.invitation_token}")


def test_identify_form_accepts_small_letters_hyphens_and_full_width_digits(client, world):
    number = world.staff_number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    typed = f"{world.invitation_code[:4]}-{world.invitation_code[4:]}".lower()
    response = client.post("/", data={"staff_number": number, "invitation_code": typed})
    assert response.status_code == 302


def test_identify_form_with_a_wrong_code_says_so_and_keeps_the_number(client, world):
    response = client.post("/", data={"staff_number": world.staff_number, "invitation_code": "AAAAAAAA"})
    assert response.status_code == 403
    page = text(response)
    assert "職員番号または招待コードが正しくありません" in page
    assert f'value="{world.staff_number}"' in page


def test_identify_form_with_empty_fields_asks_for_them(client, world):
    response = client.post("/", data={"staff_number": "", "invitation_code": ""})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in text(response)


def test_too_many_wrong_codes_get_a_429_page_saying_when_to_try_again(app, client, world):
    app.config["INVITATION_ATTEMPTS_LIMIT"] = "3 per 15 minutes"
    for _ in range(3):
        assert client.post("/", data={"staff_number": world.staff_number, "invitation_code": "AAAAAAAA"}).status_code == 403
    response = client.post("/", data={"staff_number": world.staff_number, "invitation_code": world.invitation_code})
    assert response.status_code == 429
    page = text(response)
    assert "試行回数が多すぎます" in page
    assert re.search(r"\d{2}:\d{2} 以降に、もう一度お試しください", page)


def test_right_codes_do_not_count_towards_the_attempt_limit(app, client, world):
    app.config["INVITATION_ATTEMPTS_LIMIT"] = "2 per 15 minutes"
    for _ in range(4):
        response = client.post("/", data={"staff_number": world.staff_number, "invitation_code": world.invitation_code})
        assert response.status_code == 302


# --- invitation ------------------------------------------------------------------


def test_invitation_lists_sessions_by_date_with_venue_and_seats_left(client, world):
    page = text(client.get(f"/i/{world.invitation_token}"))
    assert "佐藤 翔太 さん（中央消防署）" in page
    assert "中央消防署 会議室" in page
    assert "残り12席" in page
    assert f"/i/{world.invitation_token}/sessions/{world.session_id}" in page


def test_invitation_puts_the_own_units_venue_first_on_a_date(app, client, world):
    with app.test_request_context():
        directory.create_unit(Actor.system(), code="B", name="北消防署", parent_code="HQ")
        north = directory.create_venue(Actor.system(), name="北消防署 講堂", address="福島市北町1-1", unit_code="B")
        campaign = db.session.get(Campaign, world.campaign_id)
        slots.create_session(campaign, north.id, world.session_day, time(13), time(14), 10, 2)
        db.session.commit()
    page = text(client.get(f"/i/{world.invitation_token}"))
    assert page.index("中央消防署 会議室") < page.index("北消防署 講堂")
    assert page.count("あなたの所属") == 1


def test_invalid_invitation_link_gets_a_helpful_404(client, world):
    response = client.get("/i/not-a-real-token")
    assert response.status_code == 404
    page = text(response)
    assert "このリンクは使えません" in page
    assert "新しい招待状" in page
    assert 'href="/"' in page


def test_link_is_revoked_when_a_new_invitation_is_issued(app, client, world):
    with app.app_context():
        staff = db.session.get(Staff, world.staff_id)
        invitations.issue(staff)
        new_token = invitations.link_token(staff)
        db.session.commit()
    assert client.get(f"/i/{world.invitation_token}").status_code == 404
    assert client.get(f"/i/{new_token}").status_code == 200


def test_closed_booking_shows_a_calm_message_instead_of_sessions(app, client, world):
    set_campaign(app, world, booking_closes_at=datetime.now(UTC) - timedelta(minutes=1))
    page = text(client.get(f"/i/{world.invitation_token}"))
    assert "予約できる日程はありません" in page
    assert "session-card" not in page


def test_reopening_the_invitation_shows_the_existing_reservation(client, world):
    confirmation = manage_path(book(client, world))
    response = client.get(f"/i/{world.invitation_token}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(confirmation)


def test_invitation_still_leads_to_a_booking_after_booking_closed(app, client, world):
    confirmation = manage_path(book(client, world))
    set_campaign(app, world, booking_closes_at=datetime.now(UTC) - timedelta(minutes=1))
    response = client.get(f"/i/{world.invitation_token}")
    assert response.headers["Location"].endswith(confirmation)


# --- choosing a slot and booking ---------------------------------------------------


def test_slot_page_shows_the_time_grid_and_the_dependents(client, world):
    page = text(client.get(f"/i/{world.invitation_token}/sessions/{world.session_id}"))
    assert page.count('name="slot_id"') == 6
    assert "15:00" in page and "15:50" in page
    assert f'id="dep-{world.dependent_id}"' in page and "佐藤 陽子" in page
    assert "予約する" in page


def test_slot_page_redirects_to_the_reservation_when_one_exists(client, world):
    confirmation = manage_path(book(client, world))
    response = client.get(f"/i/{world.invitation_token}/sessions/{world.session_id}")
    assert response.headers["Location"].endswith(confirmation)


def test_booking_leads_to_the_confirmation(client, world):
    response = book(client, world)
    assert response.status_code == 302
    assert "/r/" in response.headers["Location"] and "new=1" in response.headers["Location"]


def test_confirmation_shows_code_qr_date_time_venue_and_what_to_bring(client, world):
    response = client.get(book(client, world).headers["Location"])
    page = text(response)
    assert "予約が完了しました" in page
    assert CODE.search(page)
    weekday = "月火水木金土日"[world.session_day.weekday()]
    assert f"{world.session_day.month}月{world.session_day.day}日({weekday})" in page
    assert "15:00–15:10" in page
    assert "中央消防署 会議室" in page and "福島市天神町11-28" in page
    assert "当日の持ち物" in page and "本人確認書類" in page
    assert 'class="qr"' in page and "/qr.png" in page
    assert "カレンダーに追加" in page and "/calendar.ics" in page
    assert "http://localhost/r/" in page, "the bookmarkable manage link is written out"


def test_confirmation_code_has_no_look_alike_characters(app, client, world):
    book(client, world)
    with app.app_context():
        code = db.session.query(Reservation.code).scalar()
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    assert not set(CODE_ALPHABET) & set("0O1IL2Z5S8BGUVDQ")


def test_booking_with_a_dependent_lists_both_people_and_takes_two_seats(app, client, world):
    page = text(client.get(book(client, world, 0, world.dependent_id).headers["Location"]))
    assert "佐藤 翔太" in page and "佐藤 陽子" in page
    with app.app_context():
        assert db.session.get(Slot, world.slot_ids[0]).seats_taken == 2


def test_a_full_slot_keeps_the_page_and_the_chosen_dependents(client, world):
    fill_slot(client, world, 0)
    response = book(client, world, 0, world.dependent_id)
    assert response.status_code == 409
    page = text(response)
    assert "満席" in page and "別の時間を選んで" in page
    assert re.search(rf'id="dep-{world.dependent_id}"\s+checked', page)
    assert re.search(rf'id="slot-{world.slot_ids[0]}" value="{world.slot_ids[0]}" required\s+disabled', page)


def test_a_slot_with_too_few_seats_for_the_party_says_how_many_are_left(client, world):
    # 15:00 has one seat and 15:10 none: the party of two cannot be seated together from 15:00.
    fill_slot(client, world, 0, seats=1)
    fill_slot(client, world, 1, seats=2)
    response = book(client, world, 0, world.dependent_id)
    assert response.status_code == 409
    assert "15:00から続けて座れるのは1人分で、2人分の席がありません" in text(response)


def test_a_party_too_large_for_one_time_continues_in_the_next(client, world):
    fill_slot(client, world, 0, seats=1)
    page = text(client.get(book(client, world, 0, world.dependent_id).headers["Location"]))
    assert "2人、15:00–15:20" in page
    assert "続けての時間にご案内します" in page


def test_booking_without_a_time_asks_for_one(client, world):
    response = client.post(f"/i/{world.invitation_token}/sessions/{world.session_id}", data={})
    assert response.status_code == 422
    assert "時間を選んでください" in text(response)


def test_booking_after_the_window_closed_is_refused(app, client, world):
    set_campaign(app, world, booking_closes_at=datetime.now(UTC) - timedelta(minutes=1))
    response = book(client, world)
    assert response.status_code == 422
    assert "予約受付は終了しました" in text(response)


def test_english_booking_speaks_english(client, world):
    page = text(client.get(book(client, world, lang="en").headers["Location"]))
    assert "Your reservation is confirmed." in page
    assert "Reservation code" in page and "Add to calendar" in page and "What to bring" in page


# --- manage: cancel and move --------------------------------------------------------


def test_cancel_asks_first_and_the_question_itself_cancels_nothing(app, client, world):
    confirmation = manage_path(book(client, world))
    page = text(client.get(f"{confirmation}/cancel"))
    assert "予約をキャンセルしますか？" in page
    assert f'action="{confirmation}/cancel"' in page and 'method="post"' in page
    with app.app_context():
        assert db.session.query(Reservation.status).scalar() == "booked"


def test_cancelling_frees_the_seat_and_shows_the_reservation_as_cancelled(app, client, world):
    confirmation = manage_path(book(client, world))
    response = client.post(f"{confirmation}/cancel", follow_redirects=True)
    page = text(response)
    assert "予約をキャンセルしました" in page and "この予約はキャンセルされています" in page
    assert 'class="qr"' not in page and "もう一度予約する" in page
    with app.app_context():
        assert db.session.get(Slot, world.slot_ids[0]).seats_taken == 0


def test_a_cancelled_booking_offers_the_calendar_file_that_takes_the_event_out(client, world):
    confirmation = manage_path(book(client, world))
    page = text(client.post(f"{confirmation}/cancel", follow_redirects=True))
    assert f'href="{confirmation}/calendar.ics"' in page and "カレンダーを更新する" in page
    calendar = client.get(f"{confirmation}/calendar.ics").get_data(as_text=True)
    assert "STATUS:CANCELLED" in calendar


def test_the_cancel_question_of_a_cancelled_reservation_leads_back_to_it(client, world):
    confirmation = manage_path(book(client, world))
    client.post(f"{confirmation}/cancel")
    assert client.get(f"{confirmation}/cancel").headers["Location"].endswith(confirmation)


def test_after_cancelling_the_invitation_offers_the_sessions_again(client, world):
    confirmation = manage_path(book(client, world))
    client.post(f"{confirmation}/cancel")
    response = client.get(f"/i/{world.invitation_token}")
    assert response.status_code == 200 and "session-card" in text(response)


def test_move_lists_the_sessions_with_the_current_booking_marked(client, world):
    confirmation = manage_path(book(client, world))
    page = text(client.get(f"{confirmation}/move"))
    assert "日時を変更する" in page and "現在の予約" in page
    slot_page = text(client.get(f"{confirmation}/move/{world.session_id}"))
    # The current time stays choosable: the same time with other people changes who comes.
    assert re.search(rf'class="slot slot--current">\s*<input type="radio" name="slot_id" id="slot-{world.slot_ids[0]}"',
                     slot_page)
    assert "現在の予約" in slot_page


def test_moving_takes_the_new_slot_and_frees_the_old_one(app, client, world):
    confirmation = manage_path(book(client, world))
    response = client.post(f"{confirmation}/move/{world.session_id}", data={"slot_id": world.slot_ids[3]})
    assert response.headers["Location"].endswith(confirmation)
    page = text(client.get(confirmation))
    assert "15:30–15:40" in page
    with app.app_context():
        assert db.session.get(Slot, world.slot_ids[0]).seats_taken == 0
        assert db.session.get(Slot, world.slot_ids[3]).seats_taken == 1


def test_moving_to_a_full_slot_keeps_the_old_one(app, client, world):
    confirmation = manage_path(book(client, world))
    fill_slot(client, world, 2)
    response = client.post(f"{confirmation}/move/{world.session_id}", data={"slot_id": world.slot_ids[2]})
    assert response.status_code == 409
    assert "満席" in text(response)
    with app.app_context():
        assert db.session.get(Slot, world.slot_ids[0]).seats_taken == 1
        mine = db.session.query(Reservation.slot_id).filter_by(staff_id=world.staff_id).scalar()
        assert mine == world.slot_ids[0]


def test_a_tampered_manage_link_is_a_helpful_404(client, world):
    confirmation = manage_path(book(client, world))
    response = client.get(confirmation[:-2] + "xx")
    assert response.status_code == 404
    assert "このリンクは無効です" in text(response)


def test_calendar_file_and_qr_code_answer_with_their_types(client, world):
    confirmation = manage_path(book(client, world))
    calendar = client.get(f"{confirmation}/calendar.ics")
    assert calendar.mimetype == "text/calendar" and calendar.data.startswith(b"BEGIN:VCALENDAR")
    qr = client.get(f"{confirmation}/qr.png")
    assert qr.mimetype == "image/png" and qr.data.startswith(b"\x89PNG")


# --- what every booker page keeps ------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/i/{token}", "/i/{token}/sessions/{session}", "{manage}",
                                  "{manage}/cancel", "{manage}/move", "/i/invalid"])
def test_booker_pages_have_no_inline_script_and_at_most_our_own_deferred_files(client, world, path):
    """Booker pages work with no script at all (tests/browser: the whole path with JavaScript off);
    a page may add one of our own files that only improves it, never inline code."""
    manage = manage_path(book(client, world)) if "manage" in path else ""
    page = text(client.get(path.format(token=world.invitation_token, session=world.session_id, manage=manage)))
    scripts = re.findall(r"<script[^>]*>", page)
    assert all(re.fullmatch(r'<script src="/static/js/[a-z-]+\.js" defer>', tag) for tag in scripts), scripts
    assert len(re.findall(r"</script>", page)) == len(scripts)
    assert not re.search(r"<script[^>]*>[^<]", page), "no inline code"
    assert not re.search(r"\son[a-z]+=", page), "inline event handlers are blocked by the CSP"
    assert 'name="viewport"' in page


BOOKER_SOURCES = ["templates/base.html", "templates/_macros.html", "templates/public", "templates/errors",
                  "booking/public"]


def booker_msgids() -> set:
    method_map = [("**.py", "python"), ("**.html", "jinja2")]
    found = set()
    for source in BOOKER_SOURCES:
        path = ROOT / source
        directory, only = (path, None) if path.is_dir() else (path.parent, path.name)
        for filename, _lineno, message, _comments, _context in extract_from_dir(
            directory, method_map, keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None,
                                             "lazy_gettext": None}):
            if only is None or filename == only:
                found.add(message)
    return found


def test_every_booker_string_has_a_japanese_translation():
    with open(ROOT / "translations/ja/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle, locale="ja")
    missing = []
    for msgid in booker_msgids():
        entry = catalog.get(msgid)
        strings = () if entry is None else (entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(msgid)
    assert not missing, f"run scripts/translations.sh and translate: {missing}"


def test_the_committed_mo_file_matches_the_po_file():
    """The app runs from a fresh clone without compiling, so the .mo must be compiled from the .po."""
    def pairs(catalog):
        as_tuple = lambda value: tuple(value) if isinstance(value, (list, tuple)) else value
        return {as_tuple(m.id): as_tuple(m.string) for m in catalog
                if m.id and m.string and not m.fuzzy and any(as_tuple(m.string))}

    with open(ROOT / "translations/ja/LC_MESSAGES/messages.po", "rb") as handle:
        po = pairs(read_po(handle, locale="ja"))
    with open(ROOT / "translations/ja/LC_MESSAGES/messages.mo", "rb") as handle:
        mo = pairs(read_mo(handle))
    stale = [msgid for msgid, string in po.items() if mo.get(msgid) != string]
    assert not stale, f"run scripts/translations.sh compile and commit messages.mo: {stale[:5]}"


def test_the_booker_can_book_only_for_a_dependent_and_add_themselves_later(app, client, world):
    response = client.post(f"/i/{world.invitation_token}/sessions/{world.session_id}",
                           data={"slot_id": world.slot_ids[0], "dependent_ids": [world.dependent_id],
                                 "people_shown": "1"})
    assert response.status_code == 302
    confirmation = manage_path(response)
    page = text(client.get(confirmation))
    assert "佐藤 陽子" in page and "佐藤 翔太" not in page.split("申請する人")[1].split("</dl>")[0]
    move_page = text(client.get(f"{confirmation}/move/{world.session_id}"))
    assert 'name="include_staff" value="y" id="person-staff">' in move_page  # unticked: not coming now
    moved = client.post(f"{confirmation}/move/{world.session_id}",
                        data={"slot_id": world.slot_ids[0], "dependent_ids": [world.dependent_id],
                              "include_staff": "y", "people_shown": "1"})
    assert moved.status_code == 302
    with app.app_context():
        assert db.session.get(Slot, world.slot_ids[0]).seats_taken == 2


def test_a_staff_member_who_holds_a_card_finds_themselves_unticked(app, client, world):
    from booking.models import Staff

    with app.app_context():
        staff = db.session.get(Staff, world.staff_id)
        staff.card_status = "received"
        db.session.commit()
    page = text(client.get(f"/i/{world.invitation_token}/sessions/{world.session_id}"))
    assert 'name="include_staff" value="y" id="person-staff">' in page
    assert "チェックを外すとご家族だけの予約" in page
