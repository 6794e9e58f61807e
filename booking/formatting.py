"""Dates and times as people read them, on the Tokyo clock: one way to write each.

The pages use them as jinja filters (``day_label``, ``clock``, ``when``; see web.configure);
views and the services that build messages call them directly. Formats for machines (the
JSON API's ISO 8601, CSV dates, audit details) are not written here.
"""
from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import format_date, format_time, get_locale

from .localtime import TOKYO


def _as_local(value: datetime | date) -> datetime | date:
    return value.astimezone(TOKYO) if isinstance(value, datetime) else value


def day_label(value: datetime | date, year: bool = False) -> str:
    """7月10日(木) in Japanese, Thu 10 July in English; with ``year``, 2026年7月10日(金) and
    Fri 10 July 2026 (documents that are kept, such as a personal-data disclosure)."""
    value = _as_local(value)
    day = value.date() if isinstance(value, datetime) else value
    if str(get_locale()) == "ja":
        return format_date(day, "y年M月d日(E)" if year else "M月d日(E)")
    return format_date(day, "EEE d MMMM y" if year else "EEE d MMMM")


def clock(value: datetime | time) -> str:
    """15:00: an instant on the Tokyo clock, or a time of day (a session's hours) as it is."""
    if isinstance(value, datetime):
        value = value.astimezone(TOKYO).timetz().replace(tzinfo=None)
    return format_time(value, "HH:mm")


def when(value: datetime, year: bool = False) -> str:
    """7月10日(木) 15:00 (2026年7月10日(金) 15:00 with ``year``)"""
    return f"{day_label(value, year)} {clock(value)}"
