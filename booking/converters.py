"""Numbers from requests, shared by every blueprint: URL converters, query values, form fields."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter
from wtforms import IntegerField

#: Record ids are PostgreSQL integers (and SQLite rejects numbers past 2**63): a larger number in a
#: path matches no route (404) instead of reaching the database and failing there (500).
MAX_ID = 2_147_483_647


def _up_to(limit: str) -> str:
    """A regex for the decimal numbers 0..limit (no sign), so that larger ones never match.

    Done in the regex rather than with ``max=``: a converter's ValidationError makes Werkzeug
    answer 405 when the same path exists for another method, instead of 404.
    """
    alternatives = [rf"\d{{1,{len(limit) - 1}}}"]
    for i, digit in enumerate(limit):
        rest = len(limit) - i - 1
        if int(digit) > 0:
            low = "0" if i else "1"
            if int(digit) - 1 >= int(low):
                alternatives.append(f"{limit[:i]}[{low}-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    alternatives.append(limit)
    return "(?:" + "|".join(alternatives) + ")"


class BoundedIntConverter(IntegerConverter):
    regex = _up_to(str(MAX_ID))


def bounded_int(value: object) -> int:
    """A whole number from a query string or a form: ASCII digits, at most MAX_ID, else ValueError.

    For ``request.args.get(name, type=bounded_int)`` (a refused value gives the default) and as a
    WTForms ``coerce`` (a refused value is a field error). ``int()`` alone took numbers no id
    column holds (an OverflowError on SQLite, a DataError on PostgreSQL: issue 17) and digits of
    other scripts ("١٢٣"), and ``str.isdigit`` let "²" through to an int() that fails.
    """
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        raise ValueError("not a whole number of ASCII digits")
    number = int(text)
    if number > MAX_ID:
        raise ValueError(f"out of range 0..{MAX_ID}")
    return number


def optional_bounded_int(value: object) -> int | None:
    """``bounded_int``, with None for a select's empty choice ("" or "None")."""
    return None if value is None or value in ("", "None") else bounded_int(value)


class BoundedIntegerField(IntegerField):
    """WTForms' IntegerField, refusing numbers beyond ±MAX_ID as it refuses text: a field error
    rather than a number that no column (and not every date or time computation) can take."""

    data: Any  # as IntegerField's (WTForms is untyped here): an int, or None when missing or refused

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and abs(self.data) > MAX_ID:
            self.data = None
            raise ValueError(_("This number is too large."))
