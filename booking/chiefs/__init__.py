"""Station chiefs (and admins): rosters to print, the unit's card status, invitation slips, a calendar feed."""
from flask import Blueprint

bp = Blueprint("chiefs", __name__)

from . import views  # noqa: E402,F401
from . import approvals  # noqa: E402,F401  (duty approvals, issue 8)
