"""Every role's pages meet WCAG 2.1 AA as far as a browser can tell (issue 16 item 11): axe-core
over the admin's, chief's, clerk's, HQ's and booker's pages at their users' screen sizes, headings
in order with an h1, and on the booker's pages a visible keyboard focus and 200 % text without
sideways scrolling. Each page's results go to the published report (tests/accessibility/report.py:
``--a11y-report docs/accessibility.md``)."""
from __future__ import annotations

import json

import pytest

from booking.extensions import db
from booking.models import Staff
from booking.services import accounts, reservations
from tests.accessibility import report
from tests.accessibility.conftest import axe_run, axe_violations
from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE

PASSWORD = "correct horse battery"
#: The desk's tablet, upright (DESIGN.md: tablet desk pages, 820×1180).
DESK = {"width": 820, "height": 1180}

#: Heading levels in document order: an h1, and no level skipped on the way down (h1 → h3).
HEADINGS_JS = """() => {
  const levels = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .filter((h) => h.offsetParent !== null || getComputedStyle(h).position === 'fixed')
    .map((h) => Number(h.tagName[1]));
  const problems = [];
  if (!levels.includes(1)) problems.push('no h1');
  for (let i = 1; i < levels.length; i++) {
    if (levels[i] > levels[i - 1] + 1) problems.push(`h${levels[i - 1]} then h${levels[i]}`);
  }
  return problems;
}"""


def audit(page, *, name: str, role: str, viewport: dict, lang: str = "ja", extra: dict | None = None) -> list:
    """axe and the heading check on the page as it is; recorded for the report; the problems found."""
    result = axe_run(page)
    headings = page.evaluate(HEADINGS_JS)
    checks = {"1.3.1": ("見出しの階層（h1 があり、レベルを飛ばさない）", not headings), **(extra or {})}
    path = page.url.split("//", 1)[-1].split("/", 1)[-1]
    report.record(report.test_id(), page=name, url="/" + path.split("?")[0], role=role, viewport=viewport,
                  lang=lang, axe=report.axe_summary(result), checks=checks)
    problems = axe_violations(page, result=result)
    if headings:
        problems.append({"id": "headings", "found": headings})
    problems += [{"id": key, "check": what} for key, (what, passed) in (extra or {}).items() if not passed]
    return problems


@pytest.fixture
def people(app, world):
    """One office user per role, and the world's booker with a reservation (staff and spouse)."""
    with app.test_request_context():
        accounts.ensure_user("a11y-admin", "admin", password=PASSWORD)
        accounts.ensure_user("a11y-chief", "chief", unit_code="A", password=PASSWORD)
        accounts.ensure_user("a11y-clerk", "clerk", password=PASSWORD)
        accounts.ensure_user("a11y-hq", "hq", password=PASSWORD)
        staff = db.session.get(Staff, world.staff_id)
        reservation = reservations.reserve(world.slot_ids[0], staff, dependent_ids=[world.dependent_id])
        db.session.commit()
        return {"reservation": reservation.id, "staff": world.staff_id}


def _sign_in(page, live_server: str, username: str) -> None:
    page.goto(f"{live_server}/office/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/office/login" not in page.url, page.url


def _walk(page, live_server: str, role: str, viewport: dict, pages: list[tuple[str, str]]) -> dict:
    found = {}
    for name, url in pages:
        response = page.goto(f"{live_server}{url}")
        assert response.status < 400, (url, response.status)
        problems = audit(page, name=name, role=role, viewport=viewport)
        if problems:
            found[url] = problems
    return found


def test_the_admins_pages(a11y_page, live_server, world, people):
    page = a11y_page(viewport=DESKTOP)
    _sign_in(page, live_server, "a11y-admin")
    c, s, staff, unit = world.campaign_id, world.session_id, people["staff"], world.unit_ids["A"]
    found = _walk(page, live_server, "admin", DESKTOP, [
        ("実施計画", "/office/"),
        ("実施計画の詳細", f"/office/campaigns/{c}"),
        ("実施計画の編集", f"/office/campaigns/{c}/edit"),
        ("日程の編集", f"/office/sessions/{s}/edit"),
        ("日程の複製", f"/office/sessions/{s}/copy"),
        ("勤務と日程の対応表", f"/office/campaigns/{c}/coverage"),
        ("所属", "/office/units"),
        ("所属の勤務表", f"/office/units/{unit}/duty"),
        ("会場", "/office/venues"),
        ("職員", "/office/staff"),
        ("職員の詳細", f"/office/staff/{staff}"),
        ("職員の取り込み", "/office/staff/import"),
        ("電話予約", "/office/phone?q=サトウ"),
        ("電話予約（職員）", f"/office/phone/staff/{staff}"),
        ("電話予約（時間の選択）", f"/office/phone/staff/{staff}/sessions/{s}"),
        ("利用者", "/office/users"),
        ("利用者の追加", "/office/users/new"),
        ("操作記録", "/office/audit"),
        ("個人情報", "/office/personal-data"),
        ("2段階認証", "/office/account/two-factor"),
        ("本部集計", "/reports/"),
        ("所属別の申請率", "/reports/ranking"),
        ("県への報告", "/reports/upward"),
        ("有効期限の到来", "/reports/expiring"),
        ("状況調査の取り込み", "/reports/status-import"),
        ("写真の保存期間", "/desk/photo-retention"),
    ])
    # The new-session form with a 144-slot preview, which scrolls (WCAG 2.1.1: it must take focus).
    page.goto(f"{live_server}/office/campaigns/{c}/sessions/new")
    page.evaluate("""() => {
        const form = document.getElementById('slot-preview').closest('form');
        const set = (name, value) => { form.elements[name].value = value; };
        set('date', '2031-07-10'); set('start_time', '08:00'); set('end_time', '20:00');
        set('slot_minutes', '5'); set('desks', '2');
        form.elements['desks'].dispatchEvent(new Event('change', {bubbles: true}));
    }""")
    page.wait_for_function("document.querySelectorAll('#slot-preview li').length === 144")
    problems = audit(page, name="日程の追加（144 枠の一覧）", role="admin", viewport=DESKTOP)
    if problems:
        found["new session"] = problems
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


def test_the_chiefs_pages(a11y_page, live_server, world, people):
    page = a11y_page(viewport=DESKTOP)
    _sign_in(page, live_server, "a11y-chief")
    found = _walk(page, live_server, "chief", DESKTOP, [
        ("名簿", "/chiefs/"),
        ("所属の状況", "/chiefs/unit"),
        ("職員の状況", f"/chiefs/staff/{people['staff']}"),
        ("勤務時間中の申請の承認", "/chiefs/approvals"),
        ("カレンダー配信", "/chiefs/calendar"),
        ("職員", "/office/staff"),
        ("所属", "/office/units"),
        ("所属別の申請率", "/reports/ranking"),
    ])
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


def test_the_clerks_pages(a11y_page, live_server, world, people):
    page = a11y_page(viewport=DESK)
    _sign_in(page, live_server, "a11y-clerk")
    s = world.session_id
    found = _walk(page, live_server, "clerk", DESK, [
        ("受付", "/desk/"),
        ("受付ボード", f"/desk/sessions/{s}"),
        ("QR の読み取り", f"/desk/sessions/{s}/scan"),
        ("受付（予約）", f"/desk/reservations/{people['reservation']}"),
        ("当日受付", f"/desk/sessions/{s}/walk-in"),
        ("来なかった人", "/desk/no-shows"),
        ("電話予約", "/office/phone?q=サトウ"),
        ("電話予約（職員）", f"/office/phone/staff/{people['staff']}"),
    ])
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


def test_the_hq_pages(a11y_page, live_server, world, people):
    page = a11y_page(viewport=DESKTOP)
    _sign_in(page, live_server, "a11y-hq")
    found = _walk(page, live_server, "hq", DESKTOP, [
        ("本部集計", "/reports/"),
        ("所属別の申請率", "/reports/ranking"),
        ("県への報告", "/reports/upward"),
        ("有効期限の到来", "/reports/expiring"),
        ("名簿", "/chiefs/"),
        ("所属の状況", "/chiefs/unit"),
        ("職員の状況", f"/chiefs/staff/{people['staff']}"),
    ])
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


# --- the booker's pages: axe, the keyboard focus, 200 % text ---------------------------------

#: The keyboard focus is visible on every focusable element the booker meets (WCAG 2.4.7): Tab
#: through the page and look at each element's outline (or its label's, for styled radios).
FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const shown = (node) => {
    if (!node) return false;
    const style = getComputedStyle(node);
    return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
      || style.boxShadow !== 'none';
  };
  const label = el.labels && el.labels[0];
  const ok = shown(el) || shown(label) || shown(el.closest('label')) || shown(el.nextElementSibling);
  return {ok, what: el.outerHTML.slice(0, 120)};
}"""


def focus_problems(page, limit: int = 80) -> list[str]:
    """Tab through the page; every element that takes focus without a visible outline."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate("window.scrollTo(0, 0)")
    missing, seen = [], set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        found = page.evaluate(FOCUS_JS)
        if found is None:
            continue
        if found["what"] in seen:
            break
        seen.add(found["what"])
        if not found["ok"]:
            missing.append(found["what"])
    return missing


def text_200_problems(page, shot: str | None = None) -> list[str]:
    """With text at 200 % (the root font size doubled, as a browser's text-size setting does), the
    page does not scroll sideways and no element's text spills out of its box (WCAG 1.4.4)."""
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    page.wait_for_timeout(50)
    problems = page.evaluate("""() => {
      const out = [];
      const over = document.documentElement.scrollWidth - window.innerWidth;
      if (over > 0) out.push(`scrolls sideways by ${over}px`);
      for (const el of document.querySelectorAll('main *, header *')) {
        if (el.closest('.table-scroll, .visually-hidden, .skip-link')) continue;
        const box = el.getBoundingClientRect();
        if (!box.width || !el.childNodes.length) continue;
        if (box.left < -1 || box.right > window.innerWidth + 1) {
          out.push(`${el.tagName.toLowerCase()}.${el.className}: ${Math.round(Math.max(-box.left, box.right - window.innerWidth))}px outside the screen`);
        }
      }
      const header = document.querySelector('.site-header__inner');
      if (header) {
        const kids = [...header.children].map((k) => k.getBoundingClientRect());
        for (let i = 1; i < kids.length; i++) {
          const a = kids[i - 1], b = kids[i];
          if (a.right > b.left + 1 && a.bottom > b.top + 1 && b.bottom > a.top + 1) out.push('header parts overlap');
        }
      }
      return out;
    }""")
    if shot:
        page.evaluate("document.activeElement && document.activeElement.blur()")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    page.evaluate("document.documentElement.style.fontSize = ''")
    return problems


def _booker_audit(page, name: str, lang: str) -> list:
    focus = focus_problems(page)
    slug = page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    text = text_200_problems(page, shot=f"a11y-booker-200pct-{lang}-{len(slug)}-{slug[:12]}")
    extra = {"2.4.7": ("キーボードのフォーカスが見える", not focus),
             "1.4.4": ("文字 200% で横スクロールせず、文字が欠けない", not text)}
    problems = audit(page, name=name, role="booker", viewport=PHONE, lang=lang, extra=extra)
    return problems + [{"focus": focus, "text_200": text}] if (focus or text) else problems


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_bookers_pages_with_focus_and_200_percent_text(a11y_page, live_server, world, lang):
    page = a11y_page(viewport=PHONE, locale="ja-JP" if lang == "ja" else "en-US")
    token = world.invitation_token
    found = {}
    for name, url in (("招待コードの入力", "/"), ("日程の一覧", f"/i/{token}"),
                      ("時間の選択", f"/i/{token}/sessions/{world.session_id}")):
        page.goto(f"{live_server}{url}?lang={lang}")
        problems = _booker_audit(page, name, lang)
        if problems:
            found[url] = problems
    page.goto(f"{live_server}/i/{token}/sessions/{world.session_id}?lang={lang}")
    page.locator("input[name=slot_id]").first.check()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/r/**")
    manage = page.url.split("?")[0]
    problems = _booker_audit(page, "予約の確認", lang)
    if problems:
        found["confirmation"] = problems
    for name, suffix in (("予約の変更（日程）", "/move"), ("予約の変更（時間）", f"/move/{world.session_id}"),
                         ("予約の取り消し", "/cancel")):
        page.goto(f"{manage}{suffix}?lang={lang}")
        problems = _booker_audit(page, name, lang)
        if problems:
            found[suffix] = problems
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
