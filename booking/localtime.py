"""Time zone helpers: instants are UTC inside, Asia/Tokyo at the edges."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today(now: datetime | None = None) -> date:
    """Today's date in Tokyo."""
    return (now or utcnow()).astimezone(TOKYO).date()


def local(dt: datetime) -> datetime:
    """The instant on the Tokyo wall clock."""
    return dt.astimezone(TOKYO)


def at_tokyo(day: date, clock: time) -> datetime:
    """The instant of a Tokyo wall-clock time on a date (Japan has no DST)."""
    return datetime.combine(day, clock, tzinfo=TOKYO)


def naive_as_tokyo(dt: datetime) -> datetime:
    """The instant a datetime sent in stands for: a naive one is on the Tokyo clock (API.md)."""
    return dt if dt.tzinfo else dt.replace(tzinfo=TOKYO)


#: The years a date may fall in, everywhere a date is entered (office forms, the API, the command
#: line): a desk is never booked outside them, dates before 1888 come back in Tokyo's local mean time
#: (+09:18:59, not a valid ISO 8601 offset), and a session on 9999-12-31 overflows the date type the
#: moment anything looks at the day after it (issue 16: every booker's invitation page answered 500).
FIRST_YEAR, LAST_YEAR = 2000, 2099


def in_our_years(value: date | datetime) -> bool:
    return FIRST_YEAR <= value.year <= LAST_YEAR


def year_range_message() -> str:
    """The refusal of a date outside them, the same words on the pages and in the API."""
    from flask_babel import gettext as _

    return _("Enter a date in the years %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
