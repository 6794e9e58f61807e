"""URL converters shared by every blueprint."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

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
