"""Station chiefs (and admins): rosters to print, the unit's card status, invitation slips, a calendar feed."""
from flask import Blueprint

bp = Blueprint("chiefs", __name__)

# The view modules register on bp when imported; approvals are the duty approvals
# (a booking in duty hours waits for the chief's exemption).
from . import approvals, views  # noqa: F401
