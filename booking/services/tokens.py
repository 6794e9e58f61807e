"""Secrets handed to people: invitation links and codes, manage tokens, API tokens.

None of them is stored. Invitation and manage tokens are HMACs of a record's id
and a random nonce under the app's SECRET_KEY, so they can be shown again, are
unguessable (128 bits), reveal no id, and are revoked by rotating the nonce;
only a SHA-256 of each is kept, for lookup.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata

from flask import current_app

#: Reservation and invitation codes avoid look-alikes (0/O/D, 1/I/L, 2/Z, 5/S, 8/B, 6/G, U/V).
CODE_ALPHABET = "ACEFHJKMNPRTWXY34679"


def _mac(purpose: str, *parts: object) -> bytes:
    key = current_app.config["SECRET_KEY"].encode()
    message = ":".join([purpose, *map(str, parts)]).encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def keyed_digest(purpose: str, text: str) -> str:
    """An HMAC of a secret under SECRET_KEY, for secrets too short to be kept as a plain hash
    (a recovery code): a copy of the database alone does not let them be tried offline."""
    return _mac(purpose, text).hex()


def new_nonce() -> str:
    return secrets.token_hex(16)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def url_token(purpose: str, record_id: int, nonce: str) -> str:
    """A 128-bit URL-safe token bound to a record and its current nonce."""
    raw = _mac(purpose, record_id, nonce)[:16]
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def short_code(purpose: str, record_id: int, nonce: str, length: int = 8) -> str:
    """A code typed by hand, drawn from CODE_ALPHABET."""
    mac = _mac(purpose, record_id, nonce)
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in mac[:length])


def random_code(length: int = 6) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(text: str) -> str:
    """What a person typed, as stored: full-width folded, upper case, no hyphens or spaces."""
    folded = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in folded if ch.isalnum())


def format_code(code: str) -> str:
    """Codes are read out in groups of three: K7M-4QX."""
    return "-".join(code[i : i + 3] for i in range(0, len(code), 3))


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_api_token() -> str:
    return secrets.token_urlsafe(32)
