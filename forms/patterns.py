"""Shared input patterns."""

import re

FRENCH_POSTAL_CODE = re.compile(r"^[0-9]{5}$")  # ASCII only: \d also matches fullwidth and Arabic-Indic digits
