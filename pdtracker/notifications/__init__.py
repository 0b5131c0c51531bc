"""Notifications: the outbox, delivery preferences, the in-app page and scheduler runs."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from pdtracker.notifications import views  # noqa: E402, F401
