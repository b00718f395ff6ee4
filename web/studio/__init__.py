"""The organizer's workflow studio: list, check, preview, publish and unpublish workflow versions."""

from web.studio import editor, preview  # noqa: F401 - their routes are on the studio blueprint
from web.studio.views import bp

__all__ = ["bp"]
