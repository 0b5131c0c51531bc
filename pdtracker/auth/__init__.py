"""Accounts: login, logout, password change."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from pdtracker.auth import views  # noqa: E402, F401
