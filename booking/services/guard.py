"""Rule 6: the system never takes an individual number (個人番号, My Number).

Collecting it is restricted by the My Number Act, so any free text that holds
a 12-digit number passing the check digit of the individual number is refused,
however it is written (API.md, "Refusals every call shares"):

- the text is read as people see it: NFKC (full-width and other compatibility
  digits), digits of any script, invisible format characters (zero-width space,
  soft hyphen, word joiner, …) and combining marks dropped;
- digits may be split into groups by the separators people type between them
  (spaces of any width, tabs and line breaks, hyphens, dashes, minus signs, the
  long-vowel mark ー an IME types for a dash, ・, dots, commas, slashes,
  underscores, brackets), at most ``_MAX_SEPARATOR`` of them in a row;
- a number is exactly twelve digits that are not part of a longer run: one
  group of twelve, a whole run of groups holding twelve, or, inside a longer
  run, a stretch of groups joined by one and the same separator that holds
  twelve (a phone number followed by ``1234-5678-9018``);
- a run of twelve kanji numerals (〇一二三四五六七八九) counts as well; fewer,
  as in the name 一二三, do not, and kanji and Arabic digits are not mixed;
- the name fields of one record are also read joined (family and given name,
  in kanji and in kana), so a number split over them is refused too.

Everything else stays ordinary text: addresses (福島市天神町11-28), postal
codes after 〒, phone numbers and lists of them, dates and times, numbers of
other lengths, and numbers of twelve digits that fail the check digit. Groups
that hold twelve digits but plainly read as something else are let through:
a date with a time beside it (2026/12/07 1030), a list of days (11/30・12/10・
12/25), a list counting up (rooms 301, 302, 303, 304). What stays ambiguous is
a list of unrelated numbers with exactly twelve digits between them and only
separators in between (three 4-digit numbers, say): like any twelve digits it
passes the check digit one time in ten, and is then refused; a word between
them (1001番、1057番) settles it.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import replace
from itertools import pairwise

from flask_babel import lazy_gettext as _l

from .actor import Actor
from .errors import DomainError

#: What an audit event keeps instead of a text holding an individual number.
AUDIT_MARKER = "[refused: individual number]"

_KANJI_DIGITS = "〇一二三四五六七八九"
_ASCII_DIGITS = "0123456789"
#: Separators people type between digit groups (after NFKC, which has already made
#: full-width forms ASCII and half-width ｰ the full-width ー). Whitespace and
#: dash punctuation (Unicode category Pd) are separators too, see ``_separator``.
_SEPARATOR_CHARS = frozenset(
    "-‐‑‒–—―−⁃﹣ーｰ〜～~"  # hyphens, dashes, minus, long-vowel mark, waves
    "・･·‧∙•"  # middle dots
    ".,、/_"  # dots, commas (the IME's 、 too), slashes, underscores
    "()[]{}〔〕【】「」『』〈〉《》"  # brackets
)
#: Longest stretch of separators still read as one gap between digit groups.
_MAX_SEPARATOR = 4


def _separator(char: str) -> bool:
    return char in _SEPARATOR_CHARS or char.isspace() or unicodedata.category(char) in ("Pd", "Zs", "Zl", "Zp")


def is_individual_number(digits: str) -> bool:
    """True when 12 digits pass the check digit of the individual number.

    The check digit rule (総務省令): weights 2..7 for the six rightmost of the
    first eleven digits and 2..6 for the rest; 11 minus the remainder mod 11,
    or 0 when the remainder is 0 or 1.
    """
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
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


def _as_seen(text: str) -> str:
    """The text as a reader sees it: NFKC, invisible characters (format and control
    characters other than whitespace) and combining marks dropped, digits of any script
    as ASCII digits."""
    out = []
    for char in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(char)
        if category in ("Cf", "Cc", "Cs", "Co", "Cn") and not char.isspace() or category.startswith("M"):
            continue
        out.append(str(unicodedata.decimal(char)) if category == "Nd" else char)
    return "".join(out)


#: Kanji numerals are read apart from Arabic digits: each view keeps one kind as digits.
_ARABIC_VIEW = str.maketrans(dict.fromkeys(_KANJI_DIGITS, "\x00"))
_KANJI_VIEW = str.maketrans({**dict.fromkeys(_ASCII_DIGITS, "\x00"),
                             **{k: a for k, a in zip(_KANJI_DIGITS, _ASCII_DIGITS, strict=True)}})
_RUN = re.compile(rf"[0-9]+(?:[^0-9\x00]{{1,{_MAX_SEPARATOR}}}[0-9]+)*")
_GAP = re.compile(r"[^0-9]+")
#: A digit of any script or a kanji numeral (after NFKC, which makes ⑫ or ½ digits too).
_DIGIT = re.compile(rf"[\d{_KANJI_DIGITS}]")
#: A postal code after its mark (〒960-8601) is read as a word, not as digits of a run.
_POSTAL_CODE = re.compile(r"〒\s*[0-9]{3}[^0-9〒]?[0-9]{4}(?![0-9])")


def _runs(view: str) -> Iterator[tuple[list[str], list[str]]]:
    """Runs of digit groups joined by short stretches of separators: (groups, gaps), where
    ``gaps[i]`` is what stands between ``groups[i]`` and ``groups[i + 1]``."""
    marked = "".join(c if c in _ASCII_DIGITS or _separator(c) else "\x00" for c in view)
    for run in _RUN.finditer(marked):
        text = run.group()
        yield re.findall(r"[0-9]+", text), _GAP.findall(text)


def _month_day(month: str, day: str) -> bool:
    return len(month) <= 2 and len(day) <= 2 and 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def _reads_as_something_else(groups: list[str], gaps: list[str]) -> bool:
    """Groups that are plainly not a number split for writing: a date with a time or other
    numbers beside it (``2026/12/07 1030``), a list of days (``11/30・12/10・12/25``) or a
    list counting up (rooms ``301, 302, 303, 304``, years, consecutive staff numbers). A
    number written in groups of four or three almost never looks like any of them (about one
    in ten thousand), and that chance is kept out of the refusal."""
    if len(groups) >= 4 and any(len(year) == 4 and 1900 <= int(year) <= 2099 and _month_day(month, day)
                                for year, month, day in zip(groups, groups[1:], groups[2:])):
        return True
    if len(groups) % 2 == 0 and all(gap.strip() == "/" for gap in gaps[::2]) \
            and all(_month_day(m, d) for m, d in zip(groups[::2], groups[1::2], strict=True)):
        return True
    if len(groups) >= 3 and len({len(g) for g in groups}) == 1 and len(groups[0]) >= 2:
        values = [int(g) for g in groups]
        steps = [b - a for a, b in pairwise(values)]
        if all(step > 0 for step in steps) and (len(set(steps)) == 1 or max(steps) <= 10):
            return True
    return False


def _candidates(groups: list[str], gaps: list[str]) -> Iterator[str]:
    """The twelve-digit readings of one run that are not part of a longer one."""
    for group in groups:
        if len(group) == 12:
            yield group
    if len(groups) == 1:
        return
    if sum(map(len, groups)) == 12:
        if not _reads_as_something_else(groups, gaps):
            yield "".join(groups)
        return
    # Inside a longer run: each longest stretch of groups joined by one and the same separator.
    first = 0
    while first < len(groups) - 1:
        last = first + 1
        while last < len(groups) - 1 and gaps[last] == gaps[first]:
            last += 1
        stretch = groups[first:last + 1]
        if sum(map(len, stretch)) == 12 and not _reads_as_something_else(stretch, gaps[first:last]):
            yield "".join(stretch)
        first = last


def contains_individual_number(text: str) -> bool:
    """True when the text holds an individual number, however it is written."""
    if not isinstance(text, str) or len(_DIGIT.findall(unicodedata.normalize("NFKC", text))) < 12:
        return False  # the common case, answered without reading the text character by character
    seen = _POSTAL_CODE.sub("〒", _as_seen(text))
    for view in (seen.translate(_ARABIC_VIEW), seen.translate(_KANJI_VIEW)):
        for groups, gaps in _runs(view):
            if any(is_individual_number(digits) for digits in _candidates(groups, gaps)):
                return True
    return False


# --- the fields of one record --------------------------------------------------------------

_FAMILY, _GIVEN = "family_name", "given_name"


def _name_sets(values: Mapping[str, object]) -> Iterator[tuple[str, ...]]:
    """The keys of name fields that belong together: each family name with its given name
    (``family_name``/``given_name``, ``family_name_kana``/``given_name_kana``, also with a
    prefix such as ``dep-`` or ``dependents[0].``), and all four names of one person."""
    for key in values:
        at = key.rfind(_FAMILY)
        if at < 0:
            continue
        prefix, suffix = key[:at], key[at + len(_FAMILY):]
        given = f"{prefix}{_GIVEN}{suffix}"
        if given in values:
            yield key, given
        if suffix == "":
            four = (key, given, f"{prefix}{_FAMILY}_kana", f"{prefix}{_GIVEN}_kana")
            if all(k in values for k in four):
                yield four


def _has_digits(text: str) -> bool:
    return any(c in _ASCII_DIGITS or c in _KANJI_DIGITS for c in _as_seen(text))


def split_individual_number_fields(values: Mapping[str, object]) -> list[str]:
    """The name fields that hold an individual number only when read together (family name
    ``1234`` and given name ``5678 9018``): empty when there is none. Fields that hold one on
    their own are ``contains_individual_number``'s to find."""
    names = " ".join(v for k, v in values.items() if isinstance(v, str) and "_name" in k)
    if len(_DIGIT.findall(unicodedata.normalize("NFKC", names))) < 12:
        return []  # the common case: names without digits
    found: list[str] = []
    for keys in _name_sets(values):
        texts = [value if isinstance(value := values[k], str) else "" for k in keys]
        if any(contains_individual_number(text) for text in texts):
            continue
        joined = [" ".join(texts), " ".join(reversed(texts))]
        if any(contains_individual_number(text) for text in joined):
            found.extend(k for k, text in zip(keys, texts, strict=True) if k not in found and _has_digits(text))
    return found


#: Fields that hold an identifier validated for its own shape, never free text: a 申請書ID is
#: 23 digits, and some of its first twelve pass the individual number's check digit.
IDENTIFIER_FIELDS = frozenset({"application_id"})


def refuse_individual_numbers(values: Mapping[str, object]) -> None:
    """Raise ``individual_number_refused`` naming each text field that holds one, alone or
    together with the other name fields of the same record (identifier fields aside)."""
    values = {name: value for name, value in values.items() if name.rsplit(".", 1)[-1] not in IDENTIFIER_FIELDS}
    fields = {
        name: _l(
            "This looks like an individual number (My Number). It must not be "
            "entered here: remove it and try again."
        )
        for name, value in values.items()
        if isinstance(value, str) and contains_individual_number(value)
    }
    for name in split_individual_number_fields(values):
        fields.setdefault(name, _l(
            "Together with the other name fields, this looks like an individual number "
            "(My Number), which may not be collected: remove it."))
    if fields:
        raise DomainError(
            "individual_number_refused",
            _l(
                "Individual numbers (My Number) may not be collected by this system. "
                "Remove the 12-digit number and send again."
            ),
            fields=fields,
        )


# --- the audit log ---------------------------------------------------------------------------


#: Details that are digests the system computed, not text anybody typed (a SHA-256 in hex
#: holds a run of twelve digits now and then).
_AUDIT_DIGESTS = frozenset({"sha256"})


def _scrubbed(value: object) -> object:
    if isinstance(value, str):
        return AUDIT_MARKER if contains_individual_number(value) else value
    if isinstance(value, (list, tuple)):
        return [_scrubbed(item) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items()}
    return value


def scrub_for_audit(actor: Actor, details: dict[str, object]) -> tuple[Actor, dict[str, object]]:
    """The actor and details of an audit event with every text holding an individual number
    replaced by ``AUDIT_MARKER``.

    An event records what was tried as well as what was done (a failed sign-in names the
    username typed, an export its search term): it is still written, without the number,
    rather than refused, so neither the act nor the record of a refusal is lost.
    """
    if actor.name and contains_individual_number(actor.name):
        actor = replace(actor, name=AUDIT_MARKER)
    return actor, {key: value if key in _AUDIT_DIGESTS else _scrubbed(value) for key, value in details.items()}
