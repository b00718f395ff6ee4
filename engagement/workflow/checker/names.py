"""Whether a value written where a name belongs names something declared."""

from __future__ import annotations

from collections.abc import Container
from typing import Any


def known(value: Any, names: Container[str]) -> bool:
    """``value`` names one of ``names``: a string (a mapping or a list written where a name belongs is not one,
    and could not even be looked up: it cannot be hashed)."""
    return isinstance(value, str) and value in names
