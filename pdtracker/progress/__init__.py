"""Dual-qualified progress: the engine's adapter, dashboards and exports."""

from flask import Blueprint

bp = Blueprint("progress", __name__, url_prefix="/progress")

from pdtracker.progress import views  # noqa: E402, F401
