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
