"""Office pages for the My Number section, chiefs and clerks, one module per area."""
from flask import Blueprint

bp = Blueprint("office", __name__)

from . import common  # noqa: E402,F401  (the blueprint's error handler)
from . import accounts, audit_log, campaigns, imports, phone, staff, units  # noqa: E402,F401
from . import duty  # noqa: E402,F401  (duty calendars and coverage, issue 8)
from . import disclosure  # noqa: E402,F401  (personal data: disclosure, erasure, retention, issue 7)
