"""The request's locale as a plain string, for the core's services."""

from flask_babel import get_locale


def current_locale() -> str:
    return str(get_locale() or "fr")
