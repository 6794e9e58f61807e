"""HQ reports: the dashboard, the ranking for all staff, the status import and the report upward."""
from flask import Blueprint

bp = Blueprint("reports", __name__)

from . import views  # noqa: F401
