"""Association events: browsing, registration with a waitlist, attendance, import."""

from flask import Blueprint

bp = Blueprint("events", __name__, url_prefix="/events")

from pdtracker.events import views  # noqa: E402, F401
