"""Office pages for the My Number section, chiefs and clerks, one module per area."""
from flask import Blueprint

bp = Blueprint("office", __name__)

# The view modules register on bp when imported: common holds the blueprint's error handler,
# duty the duty calendars and coverage (issue 8), disclosure personal data (issue 7).
from . import (  # noqa: F401
    accounts,
    audit_log,
    campaigns,
    common,
    disclosure,
    duty,
    imports,
    phone,
    staff,
    units,
)
