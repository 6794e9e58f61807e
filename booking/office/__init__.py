"""Office pages for the My Number section, chiefs and clerks."""
from flask import Blueprint

bp = Blueprint("office", __name__)

from . import views  # noqa: E402,F401
