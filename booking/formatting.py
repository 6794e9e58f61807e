"""Dates and times as people read them, on the Tokyo clock: one way to write each.

The pages use them as jinja filters (``day_label``, ``clock``, ``when``; see web.configure) and
``day_range`` / ``when_range`` as globals; views and the services that build messages call them
directly. Formats for machines (the JSON API's ISO 8601, CSV dates, audit details) are not written here.

When the year is written (issue 16: 「12月7日 – 7月9日」 read as going backwards, and a disclosure
said "ended 7月20日" next to "deleted 7月19日"): ``year=None`` (the default) writes it whenever the
date is not in the current year; ``year=True`` always (printed pages, which are kept and read
later); ranges write it on both ends when they cross a year.
"""
from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import format_date, format_time, get_locale

from .localtime import TOKYO, local_today


def _as_local(value: datetime | date) -> datetime | date:
    return value.astimezone(TOKYO) if isinstance(value, datetime) else value


def _day_of(value: datetime | date) -> date:
    value = _as_local(value)
    return value.date() if isinstance(value, datetime) else value


def _wants_year(day: date, year: bool | None) -> bool:
    return year if year is not None else day.year != local_today().year


def day_label(value: datetime | date, year: bool | None = None) -> str:
    """7月10日(木) in Japanese, Thu 10 July in English; 2026年7月10日(金) and Fri 10 July 2026 with
    the year, which ``year=None`` writes only when the date is not in the current year."""
    day = _day_of(value)
    with_year = _wants_year(day, year)
    if str(get_locale()) == "ja":
        return format_date(day, "y年M月d日(E)" if with_year else "M月d日(E)")
    return format_date(day, "EEE d MMMM y" if with_year else "EEE d MMMM")


def clock(value: datetime | time) -> str:
    """15:00: an instant on the Tokyo clock, or a time of day (a session's hours) as it is."""
    if isinstance(value, datetime):
        value = value.astimezone(TOKYO).timetz().replace(tzinfo=None)
    return format_time(value, "HH:mm")


def when(value: datetime, year: bool | None = None) -> str:
    """7月10日(木) 15:00 (2026年7月10日(金) 15:00 with the year, as day_label decides)"""
    return f"{day_label(value, year)} {clock(value)}"


def _range_year(first: datetime | date, last: datetime | date, year: bool | None) -> bool:
    """A range writes the year on both ends when it crosses one, or when either end needs it."""
    a, b = _day_of(first), _day_of(last)
    return year if year is not None else (a.year != b.year or _wants_year(a, None) or _wants_year(b, None))


def day_range(first: datetime | date, last: datetime | date, year: bool | None = None) -> str:
    """7月10日(木) – 7月24日(金); 2026年12月7日(月) – 2027年7月9日(金) across a year."""
    with_year = _range_year(first, last, year)
    return f"{day_label(first, with_year)} – {day_label(last, with_year)}"


def when_range(first: datetime, last: datetime, year: bool | None = None) -> str:
    """A window of two instants (a campaign's booking window), with the year as day_range writes it."""
    with_year = _range_year(first, last, year)
    return f"{when(first, with_year)} – {when(last, with_year)}"
