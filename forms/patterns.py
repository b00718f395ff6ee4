"""Shared input patterns."""

import re

FRENCH_POSTAL_CODE = re.compile(r"^\d{5}$")
