"""The staff pages' side of the access log (engagement.privacy.access): who is shown whose data."""

from __future__ import annotations

from collections.abc import Iterable

from flask_login import current_user

from engagement.db import transaction, utcnow
from engagement.privacy import access
from web.db import sessions


def record(action: str, target: str, subject_ids: Iterable[int | None], *, people: int | None = None) -> None:
    """Log, in its own transaction, that the signed-in staff member is shown these members' data
    (``people``: everyone shown, when some have no account); a page that shows nobody is not logged.
    A page that cannot log is not shown (the error propagates)."""
    ids = [i for i in subject_ids if i is not None]
    if not ids and not people:
        return
    with transaction(sessions()) as session:
        access.log(session, current_user, action, target, ids, utcnow(), people=people)
