"""Administration: users, roles, departments, rulesets."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from pdtracker.admin import rulesets, views  # noqa: E402, F401
