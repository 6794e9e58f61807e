"""The JSON API under /api/v1 (see shared API.md): the contract outside checks drive."""
from flask import Blueprint

bp = Blueprint("api", __name__)

# The view modules register on bp when imported: errors, bootstrap (setup), booking and its
# OpenAPI document, the desk, rosters and reports.
from . import booking, cards, desk, errors, messages, openapi, reports, setup  # noqa: F401
