"""Home page, language switch and health check."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from pdtracker.main import views  # noqa: E402, F401
