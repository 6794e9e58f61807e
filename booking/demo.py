"""Demo data modelled on Fukushima City's 2022 station visits (see shared/reference)."""
from __future__ import annotations

import random
import secrets
from datetime import date, datetime, time, timedelta

from flask import url_for
from sqlalchemy import select

from .extensions import db
from .localtime import at_tokyo, local, local_today, utcnow
from .models import Staff, Unit, Venue
from .services import accounts, bookings, campaigns, directory, duty, invitations
from .services.actor import Actor

FAMILY_NAMES = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("渡辺", "ワタナベ"),
    ("伊藤", "イトウ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
    ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("佐々木", "ササキ"), ("斎藤", "サイトウ"), ("松本", "マツモト"),
    ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"), ("清水", "シミズ"), ("阿部", "アベ"),
    ("菅野", "カンノ"), ("遠藤", "エンドウ"), ("大槻", "オオツキ"), ("橋本", "ハシモト"), ("本田", "ホンダ"),
]
MALE_NAMES = [
    ("翔太", "ショウタ"), ("大輔", "ダイスケ"), ("健一", "ケンイチ"), ("拓也", "タクヤ"), ("直樹", "ナオキ"),
    ("誠", "マコト"), ("亮", "リョウ"), ("浩二", "コウジ"), ("隆", "タカシ"), ("悠斗", "ユウト"),
    ("和也", "カズヤ"), ("修", "オサム"), ("剛", "ツヨシ"), ("聡", "サトシ"), ("蓮", "レン"),
]
FEMALE_NAMES = [
    ("陽子", "ヨウコ"), ("美咲", "ミサキ"), ("由美", "ユミ"), ("恵", "メグミ"), ("さくら", "サクラ"),
    ("真由美", "マユミ"), ("愛", "アイ"), ("結衣", "ユイ"), ("智子", "トモコ"), ("彩", "アヤ"),
]
CHILD_NAMES = [("陽向", "ヒナタ"), ("葵", "アオイ"), ("湊", "ミナト"), ("凛", "リン"), ("大和", "ヤマト"), ("芽依", "メイ")]

UNITS = [
    # code, name, parent, share of staff, venue (name, address, notes)
    # The central station shares the HQ building (and so its hall), as in Fukushima; the
    # branch office's staff come to their station's building.
    ("HQ", "消防本部", None, 0.20,
     ("消防本部・中央消防署 3階会議室", "福島県福島市天神町11-28",
      "正面玄関から入り、受付で「マイナンバーカードの申請」とお伝えください。")),
    ("A", "中央消防署", "HQ", 0.32, None),
    ("A1", "中央消防署 東出張所", "A", 0.08, None),
    ("B", "北消防署", None, 0.20,
     ("北消防署 2階講堂", "福島県福島市本内字北原3-1", "駐車場は庁舎裏をご利用ください。")),
    ("C", "南消防署", None, 0.20,
     ("南消防署 1階会議室", "福島県福島市黒岩字上ノ町1", "")),
]


def seed(*, staff_count: int = 300, today: date | None = None, rng_seed: int = 2022,
         now: datetime | None = None, first_run: bool = True) -> str:
    """Create the demo department, staff, campaign and the seven sessions, and the HQ's first run
    (a session running ``now`` and one tomorrow, already booked); return what to print.

    ``today`` alone (as tests give it) puts ``now`` at noon that day, so the demo stays the same
    whatever the hour. ``first_run`` False leaves the first run out (the main campaign alone)."""
    if db.session.scalar(select(Unit.id).limit(1)) is not None:
        raise SystemExit("The database already has data; the demo needs an empty one.")
    rng = random.Random(rng_seed)
    if now is None:
        now = at_tokyo(today, time(12)) if today is not None else utcnow()
    today = today or local_today(now)

    actor = Actor.command_line()
    units, venues = {}, {}
    for code, name, parent, _share, venue in UNITS:
        units[code] = directory.create_unit(actor, code=code, name=name, parent_code=parent)
        if venue:
            venues[code] = directory.create_venue(actor, name=venue[0], address=venue[1], unit_code=code,
                                                  notes=venue[2])

    number = 1000
    for code, _name, _parent, share, _venue in UNITS:
        for _ in range(round(staff_count * share)):
            number += 1
            _make_staff(actor, rng, number, units[code], today)

    first = today + timedelta(days=14)
    # Fukushima's pattern: HQ and the central station on three days (15:00–19:00),
    # then each other station on two evenings (18:00–19:00), so every shift crew
    # is on duty on at least one of them.
    campaign = campaigns.create_campaign(
        actor,
        title="令和8年度 消防職員マイナンバーカード出張申請",
        booking_opens_at=at_tokyo(today - timedelta(days=1), time(8, 30)),
        booking_closes_at=at_tokyo(first + timedelta(days=16), time(17, 0)),
        published=True,
        what_to_bring="本人確認書類（運転免許証など）、通知カードまたは個人番号通知書（お持ちの方）、"
        "交付申請書（お持ちの方）。写真は会場で撮影します。",
    )
    _duty_calendars(units, first)
    plan = [
        ("HQ", 0, time(15), time(19)), ("HQ", 2, time(15), time(19)), ("HQ", 3, time(15), time(19)),
        ("B", 9, time(18), time(19)), ("B", 10, time(18), time(19)),
        ("C", 13, time(18), time(19)), ("C", 14, time(18), time(19)),
    ]
    for venue_code, offset, start, end in plan:
        campaigns.create_session(actor, campaign, venue_id=venues[venue_code].id, day=first + timedelta(days=offset),
                                 start=start, end=end, slot_minutes=10, desks=2)

    password = secrets.token_urlsafe(9)
    accounts.ensure_user("admin", "admin", password=password)
    db.session.flush()

    examples = _example_staff()
    _make_families(actor, examples, today)
    extra = f", and the HQ's first run: {_first_run(actor, venues['HQ'], examples, now)}" if first_run else ""
    lines = [
        (f"Demo data: {len(units)} units, {staff_count} staff, 1 campaign with {len(plan)} sessions "
         f"from {first:%Y-%m-%d}{extra}."),
        f"Office login: {url_for('office.login', _external=True)}",
        f"  username: admin   password: {password}",
        "Invitation links (open on a phone):",
    ]
    for staff in examples:
        lines.append(f"  {staff.name} ({staff.unit.name}, {staff.crew}, "
                     f"{len(staff.dependents)} dependents): {invitations.link_url(staff)}")
        lines.append(f"    staff number {staff.staff_number} / invitation code {invitations.code(staff)}")
    return "\n".join(lines)


#: The first run's own sessions: the one running when the demo is seeded starts this long before
#: it (on the hour) and lasts four hours; the next is tomorrow 15:00–17:00.
FIRST_RUN_LEAD = timedelta(hours=1)


def _first_run(actor: Actor, venue: Venue, examples: list[Staff], now: datetime) -> str:
    """A small campaign for the HQ building's staff (HQ, the central station and its branch office)
    with a session running now and one tomorrow, booked by a dozen people the day before: the desk
    can be tried at once (check-in, late arrivals, no-shows). The example bookers are left out so
    that their invitations show the main campaign as before."""
    start = local(now).replace(minute=0, second=0, microsecond=0, tzinfo=None) - FIRST_RUN_LEAD
    end = start + timedelta(hours=4)
    tomorrow = local_today(now) + timedelta(days=1)
    campaign = campaigns.create_campaign(
        actor,
        title="本部庁舎 先行実施（窓口の試行）",
        booking_opens_at=at_tokyo(start.date() - timedelta(days=7), time(8, 30)),
        booking_closes_at=at_tokyo(tomorrow, time(14, 0)),
        published=True,
        contact_phone="024-535-1111（内線 2150）",
        what_to_bring="本人確認書類（運転免許証など）。写真は会場で撮影します。",
        target_unit_codes=["HQ", "A"],
    )
    running = campaigns.create_session(actor, campaign, venue_id=venue.id, day=start.date(), start=start.time(),
                                       end=end.time(), slot_minutes=10, desks=2)
    campaigns.create_session(actor, campaign, venue_id=venue.id, day=tomorrow, start=time(15), end=time(17),
                             slot_minutes=10, desks=2)
    db.session.flush()
    # Booked the day before it began, one person every other slot, a few with their family.
    booked_at = at_tokyo(start.date() - timedelta(days=1), time(12))
    skip = {s.id for s in examples}
    people = [s for s in db.session.scalars(
        select(Staff).join(Staff.unit).where(Unit.code.in_(["HQ", "A", "A1"]), Staff.card_status == "none")
        .order_by(Staff.id)) if s.id not in skip]
    booked = 0
    for staff, slot in zip(people, running.slots[::2]):
        dependents = [d.id for d in staff.dependents if d.card_status == "none"][:1]
        bookings.book(Actor("page", staff=staff), slot.id, staff, dependent_ids=dependents, now=booked_at)
        booked += 1
    return (f"{campaign.title}, a session now ({start:%Y-%m-%d %H:%M}–{end:%H:%M}, {booked} bookings) "
            f"and one tomorrow")


def _duty_calendars(units: dict[str, Unit], first: date) -> None:
    """HQ on day work; each station on 二部制 with 1部 and 2部 (the branch office follows its station).

    The stations' rotations are offset from one another, as real ones are; with the seven
    sessions every shift crew is reached on duty at its station, while the day workers of
    stations B and C (evening sessions only, after 17:15) are not: the coverage page's gaps.
    """
    duty.store_plan(units["HQ"], duty.check_plan("day_only", None, []))
    for code, offset in (("A", 0), ("B", 1), ("C", 0)):
        on = first + timedelta(days=offset)
        duty.store_plan(units[code], duty.check_plan(
            "two_crew", time(8, 30), [("1部", on), ("2部", on + timedelta(days=1))]))


def _make_staff(actor: Actor, rng: random.Random, number: int, unit: Unit, today: date) -> Staff:
    family, family_kana = rng.choice(FAMILY_NAMES)
    female = rng.random() < 0.12
    given, given_kana = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    crew = "日勤" if unit.code == "HQ" or rng.random() < 0.1 else rng.choice(["1部", "2部"])
    status = rng.choices(["none", "applied", "received"], weights=[45, 15, 40])[0]
    staff = directory.add_staff(
        staff_number=str(number),
        family_name=family,
        given_name=given,
        family_name_kana=family_kana,
        given_name_kana=given_kana,
        unit=unit,
        crew=crew,
        card_status=status,
    )
    # Serving for years (not drawn from ``rng``: the rest of the demo stays as it was), so that the
    # dashboard's months before the demo was made count them and their families.
    staff.joined_on = date(today.year - 2 - number % 28, 4, 1)
    if rng.random() < 0.35:
        spouse, spouse_kana = rng.choice(MALE_NAMES if female else FEMALE_NAMES)
        directory.add_dependent(actor, staff, family_name=family, given_name=spouse, family_name_kana=family_kana,
                                given_name_kana=spouse_kana, relation="夫" if female else "妻",
                                card_status=rng.choice(["none", "none", "received"]))
        # Birth dates from a generator of their own, so that the rest of the demo stays as it was.
        ages = random.Random(number)
        for i in range(rng.choice([0, 1, 1, 2])):
            _add_child(actor, staff, rng.choice(CHILD_NAMES), ["長子", "次子"][i],
                       today - timedelta(days=ages.randrange(60, 18 * 365)))
    for dependent in staff.dependents:
        dependent.joined_on = max(staff.joined_on, dependent.birth_date or staff.joined_on)
    return staff


def _add_child(actor: Actor, staff: Staff, name: tuple[str, str], relation: str, born: date) -> None:
    directory.add_dependent(actor, staff, family_name=staff.family_name, given_name=name[0],
                            family_name_kana=staff.family_name_kana, given_name_kana=name[1],
                            relation=relation, card_status="none", birth_date=born)


def _make_families(actor: Actor, examples: list[Staff], today: date) -> None:
    """The examples with dependents come as families of four and three, so that a party larger
    than a time's two desks is seen at once: a primary-school child and a baby (no photo needed)."""
    ages = {0: (("sakura", 8 * 365 + 40), ("baby", 200)), 2: (("sakura", 11 * 365 + 100),)}
    for index, children in ages.items():
        staff = examples[index]
        if not any(d.relation in ("妻", "夫") for d in staff.dependents):
            directory.add_dependent(actor, staff, family_name=staff.family_name, given_name="美咲",
                                    family_name_kana=staff.family_name_kana, given_name_kana="ミサキ",
                                    relation="妻")
        for d in list(staff.dependents):
            if d.relation not in ("妻", "夫"):
                directory.remove_dependent(actor, d)
        for number, (which, days) in enumerate(children):
            name = ("さくら", "サクラ") if which == "sakura" else ("湊", "ミナト")
            _add_child(actor, staff, name, ["長子", "次子"][number], today - timedelta(days=days))
        db.session.refresh(staff)


def _example_staff() -> list[Staff]:
    """Three people worth trying: with dependents at the central station, at station B, at HQ."""
    picks = []
    for code, want_dependents in (("A", True), ("B", False), ("HQ", True)):
        candidates = db.session.scalars(
            select(Staff).join(Staff.unit).where(Unit.code == code, Staff.card_status == "none").order_by(Staff.id)
        ).all()
        chosen = next((s for s in candidates if bool(s.dependents) == want_dependents), candidates[0])
        picks.append(chosen)
    return picks
