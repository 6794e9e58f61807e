"""Accessibility defects of issue 16 item 11 that the markup shows, through the test client (the
browser's side, focus and live regions, is in tests/accessibility/test_keyboard_fixes.py)."""
from __future__ import annotations

import itertools
import re
from pathlib import Path

from booking.extensions import db
from booking.models import Staff
from booking.services import invitations

STATIC = Path(__file__).resolve().parents[2] / "static"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _headings(html: str) -> list[int]:
    main = html.split('id="main"', 1)[-1]
    return [int(level) for level in re.findall(r"<h([1-6])\b", main)]


def test_the_scrolling_slot_preview_takes_keyboard_focus(client, office, login):
    login("admin")
    page = client.get(f"/office/campaigns/{office.ids['campaign']}/sessions/new").get_data(as_text=True)
    [tag] = re.findall(r'<ol class="o-preview__slots"[^>]*>', page)
    assert 'tabindex="0"' in tag and "aria-labelledby=" in tag


def test_the_coverage_cross_reads_at_4_5_to_1_on_its_grey():
    css = (STATIC / "css" / "duty.css").read_text()
    colour = re.search(r"\.cov--not_possible \{[^}]*color: (#[0-9a-f]{6})", css).group(1)
    assert contrast(colour, "#f3f4f6") >= 4.5, colour
    assert contrast(colour, "#ffffff") >= 4.5, colour


def test_the_desk_board_has_an_h1_and_a_pause_button(client, office, login):
    login("clerk")
    page = client.get(f"/desk/sessions/{office.ids['session']}").get_data(as_text=True)
    assert re.search(r'<h1 class="desk-head__what">.*?会議室.*?</h1>', page, re.DOTALL)
    [button] = re.findall(r"<button[^>]*data-board-pause[^>]*>", page)
    assert 'aria-pressed="false"' in button and "data-label-resume=" in button


def test_the_phone_staff_page_names_the_caller_in_its_h1(client, office, login):
    login("clerk")
    page = client.get(f"/office/phone/staff/{office.ids['staff_a']}").get_data(as_text=True)
    assert re.search(r'<h1 id="caller-title"[^>]*>佐藤 翔太', page)
    assert _headings(page)[0] == 1


def test_the_phone_bookings_time_error_is_tied_to_the_times(client, office, login):
    login("clerk")
    response = client.post(f"/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}",
                           data={"people_shown": "1", "include_staff": "y"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'<fieldset class="o-fieldset" aria-describedby="slot-error" aria-invalid="true">', page)
    assert re.search(r'<p class="o-field__error" id="slot-error">', page)


def test_office_check_box_hints_are_tied_to_their_boxes(client, office, login):
    login("admin")
    page = client.get(f"/office/users/{office.ids['user_clerk']}").get_data(as_text=True)
    [box] = re.findall(r'<input[^>]*name="is_active"[^>]*>', page)
    assert 'aria-describedby="is_active-hint"' in box
    assert 'id="is_active-hint"' in page
    page = client.get("/office/campaigns/new").get_data(as_text=True)
    [box] = re.findall(r'<input[^>]*name="is_published"[^>]*>', page)
    assert 'aria-describedby="is_published-hint"' in box


def _booker_token(app, office) -> str:
    with app.test_request_context():
        return invitations.link_token(db.session.get(Staff, office.ids["staff_a"]))


def test_a_refused_slot_form_says_so_at_its_top_with_links_to_the_fields(app, client, office):
    token = _booker_token(app, office)
    url = f"/i/{token}/sessions/{office.ids['session']}"
    client.get(url)
    response = client.post(url, data={"people_shown": "1", "include_staff": "y"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = page.index('class="error-summary"')
    assert summary < page.index('class="people"') < page.index('id="slot-error"')
    block = page[summary:page.index("</div>", summary)]
    assert 'role="alert"' in block and 'href="#slot-choices"' in block and "Choose a time." in block
    assert 'id="slot-choices"' in page
    assert 'class="error-summary"' not in client.get(url).get_data(as_text=True)


def test_the_slot_page_has_a_live_region_for_the_greyed_out_times(app, client, office):
    page = client.get(f"/i/{_booker_token(app, office)}/sessions/{office.ids['session']}").get_data(as_text=True)
    [region] = re.findall(r'<p class="visually-hidden" role="status" data-seats-status[^>]*>', page, re.DOTALL)
    assert "data-msg-greyed=" in region and "data-msg-unticked=" in region


def test_the_bookers_session_list_goes_from_h1_to_h2(app, client, office):
    page = client.get(f"/i/{_booker_token(app, office)}").get_data(as_text=True)
    levels = _headings(page)
    assert 1 in levels
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
