"""Rule 6: the system never takes an individual number (個人番号, My Number).

Collecting it is restricted by the My Number Act, so any free text that holds
a 12-digit number passing the check digit of the individual number is refused.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from .errors import DomainError

# 12 digits, optionally written in groups of four with a space or hyphen.
_CANDIDATE = re.compile(r"(?<!\d)(\d{4})[ \-]?(\d{4})[ \-]?(\d{4})(?!\d)")


def is_individual_number(digits: str) -> bool:
    """True when 12 digits pass the check digit of the individual number.

    The check digit rule (総務省令): weights 2..7 for the six rightmost of the
    first eleven digits and 2..6 for the rest; 11 minus the remainder mod 11,
    or 0 when the remainder is 0 or 1.
    """
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = [int(d) for d in digits[:11]]
    total = 0
    for n in range(1, 12):
        p = body[11 - n]
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    remainder = total % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return check == int(digits[11])


def contains_individual_number(text: str) -> bool:
    normalised = unicodedata.normalize("NFKC", text)
    for match in _CANDIDATE.finditer(normalised):
        if is_individual_number("".join(match.groups())):
            return True
    return False


def refuse_individual_numbers(values: Mapping[str, object]) -> None:
    """Raise ``individual_number_refused`` naming each text field that holds one."""
    fields = {
        name: _l(
            "This looks like an individual number (My Number). It must not be "
            "entered here: remove it and try again."
        )
        for name, value in values.items()
        if isinstance(value, str) and contains_individual_number(value)
    }
    if fields:
        raise DomainError(
            "individual_number_refused",
            _l(
                "Individual numbers (My Number) may not be collected by this system. "
                "Remove the 12-digit number and send again."
            ),
            fields=fields,
        )
