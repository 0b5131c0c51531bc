"""The teacher's activity log and the head's verification queue."""

from flask import Blueprint

bp = Blueprint("activities", __name__, url_prefix="/activities")

from pdtracker.activities import display, views  # noqa: E402, F401
