"""The JSON API under /api/v1 (see shared API.md): the contract outside checks drive."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import errors, setup, booking, openapi  # noqa: E402,F401  (views register on bp)
from . import desk  # noqa: E402,F401
from . import reports  # noqa: E402,F401  (rosters and reports, issue 5)
