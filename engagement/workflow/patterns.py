"""Organizers' ``pattern:`` regular expressions, matched within a time bound.

A pattern that backtracks badly (``(a+)+$``) would hold a web worker for minutes on a few dozen
characters. Patterns are compiled and matched with the ``regex`` library (the syntax of Python's
``re``) with a timeout: a value that cannot be matched in time is refused like one that does not
match, and the checker and the wizard use the same engine.
"""

from __future__ import annotations

import regex

MATCH_SECONDS = 0.05  # far above any sane pattern on a form's value; a step's whole budget is a few ms


def compile_problem(pattern: object) -> str | None:
    """Why ``pattern`` is not a regular expression the wizard can match, or None."""
    if not isinstance(pattern, str):
        return "a pattern must be text"
    try:
        regex.compile(pattern)
    except regex.error as exc:
        return str(exc)
    return None


def matches(pattern: str, value: str) -> bool | None:
    """Whether the whole ``value`` matches; None when it could not be decided in ``MATCH_SECONDS``."""
    try:
        return regex.fullmatch(pattern, value, timeout=MATCH_SECONDS) is not None
    except TimeoutError:
        return None
