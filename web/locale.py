"""The site's languages, and the request's locale as a plain string for the core's services."""

from flask_babel import get_locale

LOCALES = ("fr", "en")  # French first: the movement is French


def current_locale() -> str:
    return str(get_locale() or "fr")
