"""Keyboard-only booking (Tab, Space, Enter: no mouse) and slot times that screen readers read
out with their date, start and end (accessible names, not bare numbers)."""
from __future__ import annotations

import re

import pytest


def _tab_to(page, predicate_js: str, limit: int = 60) -> None:
    """Press Tab until the focused element satisfies the predicate (a JS expression over `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({predicate_js}); }})()"):
            return
    raise AssertionError(f"never reached by Tab: {predicate_js} on {page.url}")


def _focus_is_visible(page) -> bool:
    """The focused element (or the label it styles) shows an outline: WCAG 2.4.7."""
    return page.evaluate("""() => {
        const el = document.activeElement;
        const shown = (node) => node && getComputedStyle(node).outlineStyle !== 'none'
                                && parseFloat(getComputedStyle(node).outlineWidth) > 0;
        return shown(el) || shown(el.labels && el.labels[0]) || shown(el.nextElementSibling);
    }""")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_booker_books_moves_and_cancels_with_the_keyboard_alone(a11y_page, live_server, world, lang):
    page = a11y_page()
    page.goto(f"{live_server}/i/{world.invitation_token}?lang={lang}")
    # Invitation: Tab to the session, Enter.
    _tab_to(page, f"el.tagName === 'A' && el.getAttribute('href').includes('/sessions/{world.session_id}')")
    assert _focus_is_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/sessions/{world.session_id}*")
    # Slot page: Tab to the first time, Space to choose it, Tab to the button, Enter.
    _tab_to(page, "el.name === 'slot_id'")
    assert _focus_is_visible(page)
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked")
    _tab_to(page, "el.type === 'submit'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/r/**")
    manage = page.url.split("?")[0]
    assert page.locator("h1").count() >= 1
    # Move: Tab to the move link, Enter; the session; then the next free time.
    _tab_to(page, "el.tagName === 'A' && el.getAttribute('href').endsWith('/move')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/move")
    _tab_to(page, "el.tagName === 'A' && /\\/move\\/\\d+/.test(el.getAttribute('href'))")
    page.keyboard.press("Enter")
    page.wait_for_url("**/move/*")
    _tab_to(page, "el.name === 'slot_id' && !el.disabled && !el.checked")
    page.keyboard.press("Space")
    _tab_to(page, "el.type === 'submit'")
    page.keyboard.press("Enter")
    page.wait_for_url(manage + "*")
    # Cancel: Tab to the cancel link, Enter; confirm with Enter.
    _tab_to(page, "el.tagName === 'A' && el.getAttribute('href').endsWith('/cancel')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/cancel")
    _tab_to(page, "el.type === 'submit'")
    page.keyboard.press("Enter")
    page.wait_for_url(manage + "*")
    from booking.extensions import db
    from booking.models import Reservation

    with world.app.app_context():
        statuses = [r.status for r in db.session.query(Reservation).all()]
    assert statuses == ["cancelled"]


def test_a_booker_signs_in_with_number_and_code_by_keyboard(a11y_page, live_server, world):
    page = a11y_page()
    page.goto(f"{live_server}/?lang=en")
    _tab_to(page, "el.name === 'staff_number'")
    page.keyboard.type(world.staff_number)
    _tab_to(page, "el.name === 'invitation_code'")
    page.keyboard.type(world.invitation_code)
    page.keyboard.press("Enter")
    page.wait_for_url("**/i/**")


def test_slot_times_have_accessible_names_with_date_start_and_end(a11y_page, live_server, world):
    page = a11y_page(locale="en-GB")
    page.goto(f"{live_server}/i/{world.invitation_token}/sessions/{world.session_id}?lang=en")
    radios = page.get_by_role("radio")
    assert radios.count() == len(world.slot_ids)
    day = f"{world.session_day.day} {world.session_day.strftime('%B')}"
    first = page.locator("input[name=slot_id]").first
    name = page.evaluate(
        "(el) => el.labels[0].textContent.replace(/\\s+/g, ' ').trim()", first.element_handle())
    assert day in name and "15:00" in name and "15:10" in name, name
    # Playwright finds it by that accessible name, as a screen reader announces it.
    assert page.get_by_role("radio", name=re.compile(rf"{day}.*15:00.*15:10")).count() == 1


def test_slot_times_read_out_in_japanese_with_the_day_too(a11y_page, live_server, world):
    page = a11y_page()
    page.goto(f"{live_server}/i/{world.invitation_token}/sessions/{world.session_id}?lang=ja")
    day = f"{world.session_day.month}月{world.session_day.day}日"
    assert page.get_by_role("radio", name=re.compile(rf"{day}.*15:00.*15:10")).count() == 1
