"""Field checks that workflows name in ``validate:``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engagement.accounts.service import find_by_email
from engagement.workflow.registry import REGISTRY


@REGISTRY.field_validator("accounts.email_available", rules=("email_taken",))
def email_available(session: Session, value: Any) -> str | None:
    """No account uses this address yet (compared case-insensitively)."""
    return "email_taken" if isinstance(value, str) and find_by_email(session, value) is not None else None
