"""The school coordinator's area: safety reports, content, questions, users, overview.

Coordinators see everything except the private answers in reflections: they get
counts only. Every view here is wrapped in require_role("coordinator").
"""
from flask import Blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")

from bot.portal.views.coordinator import content, dashboard, overview, questions, safety, users  # noqa: E402,F401
from bot.portal.views.coordinator import audit_log, students  # noqa: E402,F401
