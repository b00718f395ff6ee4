"""Shared input patterns."""

from engagement.geo.communes import POSTAL_CODE as FRENCH_POSTAL_CODE  # the core's, five ASCII digits

__all__ = ["FRENCH_POSTAL_CODE"]
