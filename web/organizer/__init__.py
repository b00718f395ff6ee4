"""The organizer area: one blueprint, its views in the modules below (each registers on it at import)."""

from __future__ import annotations

from flask import Blueprint

from web.organizer.scoping import guard_undeclared

bp = Blueprint("organizer", __name__, url_prefix="/organizer")
bp.before_app_request(guard_undeclared)  # the studio's routes, and any new one, too

# Their views, on this blueprint (after ``bp``: each imports it).
from web.organizer import (  # noqa: E402, F401
    audiences,
    campaigns,
    committees,
    compose,
    content,
    covers,
    events,
    media,
    pages,
)
