"""Office pages for the My Number section, chiefs and clerks, one module per area."""
from flask import Blueprint

bp = Blueprint("office", __name__)

# The view modules register on bp when imported: common holds the blueprint's error handler,
# duty the duty calendars and coverage, disclosure the personal data kept on a person (showing,
# printing and erasing it).
from . import (  # noqa: F401
    accounts,
    application_settings,
    audit_log,
    campaigns,
    cards,
    common,
    disclosure,
    duty,
    imports,
    messages,
    phone,
    staff,
    two_factor,
    units,
)
