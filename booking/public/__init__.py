"""Booker pages: invitation, choose a session and slot, confirmation, manage."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from . import views  # noqa: F401
