"""Enterprise placements: planning, lifecycle, timeline, and the enterprise list."""

from flask import Blueprint

bp = Blueprint("placements", __name__, url_prefix="/placements")

from pdtracker.placements import views  # noqa: E402, F401
