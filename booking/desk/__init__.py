"""The desk at the venue: sessions, QR scan, check-in, photos, walk-ins, no-shows (clerks, admins)."""
from flask import Blueprint

bp = Blueprint("desk", __name__)

from . import offline, photo_sheets, views  # noqa: F401
