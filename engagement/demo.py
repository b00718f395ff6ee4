"""Idempotent demonstration data: the workflows on disk, invitation content, committees, events, members."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from engagement import demo_events
from engagement.accounts.models import User
from engagement.db import transaction, utcnow
from engagement.invitations import content
from engagement.workflow.definitions import load_files, workflow_files


def load(sessions: sessionmaker[Session], workflows_dir: Path, members: int = 0) -> list[str]:
    """Load what is missing and report it; a second run reports that nothing changed."""
    lines: list[str] = []
    with transaction(sessions) as session:
        published, diagnostics = load_files(session, workflow_files(workflows_dir))
        seeded = content.seed(session)
        activity = demo_events.load(session, utcnow())
    lines.extend(str(d) for d in diagnostics)
    lines.append(f"invitation content: {seeded} pieces added" if seeded else "invitation content: unchanged")
    for item in published:
        lines.append(f"workflow {item.workflow_id} v{item.version}: {'published' if item.changed else 'unchanged'}")
    lines.extend(activity)
    if members:
        lines.append(f"synthetic members: {_members(sessions, members)} created, {members} wanted")
    return lines


def _members(sessions: sessionmaker[Session], count: int) -> int:
    """Members member000001@demo.invalid ... (no password: they cannot log in); only missing ones are added."""
    emails = [f"member{i:06d}@demo.invalid" for i in range(1, count + 1)]
    created = 0
    with transaction(sessions) as session:
        for start in range(0, count, 5000):
            chunk = emails[start:start + 5000]
            existing = set(session.scalars(select(User.email).where(User.email.in_(chunk))))
            fresh = [{"email": e, "first_name": "Demo", "last_name": e[6:12], "role": "member", "is_active": True,
                      "created_at": utcnow()} for e in chunk if e not in existing]
            if fresh:
                session.execute(insert(User), fresh)
                created += len(fresh)
    return created
