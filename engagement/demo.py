"""Idempotent demonstration data: the workflows on disk, invitation content, committees, events, members."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from engagement import demo_events, homepage
from engagement.accounts.models import User
from engagement.campaigns import lists
from engagement.committees.models import Committee, CommitteeMembership
from engagement.db import transaction, utcnow
from engagement.geo import postal
from engagement.geo.communes import department_of
from engagement.invitations import content
from engagement.pages import service as pages
from engagement.workflow.definitions import load_files, workflow_files


def load(sessions: sessionmaker[Session], workflows_dir: Path, members: int = 0) -> list[str]:
    """Load what is missing and report it; a second run reports that nothing changed."""
    lines: list[str] = []
    with transaction(sessions) as session:
        published, diagnostics = load_files(session, workflow_files(workflows_dir))
        seeded = content.seed(session)
        activity = demo_events.load(session, utcnow())
        activity += pages.load_demo(session, utcnow())
        activity += demo_events.load_covers(session)
        activity += homepage.place_demo(session, utcnow())
    lines.extend(str(d) for d in diagnostics)
    lines.append(f"invitation content: {seeded} pieces added" if seeded else "invitation content: unchanged")
    for item in published:
        lines.append(f"workflow {item.workflow_id} v{item.version}: {'published' if item.changed else 'unchanged'}")
    lines.extend(activity)
    if members:
        lines.append(f"synthetic members: {_members(sessions, members)} created, {members} wanted")
    return lines


# Real communes (INSEE code, postal code) across departments: synthetic members live in them in turn, under
# the directory's name of each (Paris 4e Arrondissement, Lyon 1er Arrondissement, ..., Fort-de-France).
COMMUNES = (
    ("75104", "75004"), ("69381", "69001"), ("13201", "13001"), ("31555", "31000"), ("33063", "33000"),
    ("44109", "44000"), ("59350", "59000"), ("67482", "67000"), ("06088", "06000"), ("34172", "34000"),
    ("35238", "35000"), ("2A004", "20000"), ("2B033", "20200"), ("21231", "21000"), ("63113", "63000"),
    ("87085", "87000"), ("29019", "29200"), ("45234", "45000"), ("97411", "97400"), ("97209", "97200"),
)
FOLLOW_EVERY = 10  # every 10th synthetic member follows the first demo committee
NEWSLETTER_OF_5 = 2  # two synthetic members in five asked for the newsletter (campaigns to ``all`` reach them)


def _member(number: int, now: datetime) -> dict[str, Any]:
    code, postal_code = COMMUNES[number % len(COMMUNES)]
    address = postal.recorded({"street": f"{number % 150 + 1} rue de la République", "postal_code": postal_code,
                               "city": code, "country": "FR"})  # as the address field records it
    # A bulk insert skips User's @validates: the department is set here, from the same address.
    return {"email": f"member{number:06d}@demo.invalid", "first_name": "Demo", "last_name": f"{number:06d}",
            "role": "member", "is_active": True, "created_at": now, "activated_at": now, "address": address,
            "department": department_of(address), "has_newsletter": number % 5 < NEWSLETTER_OF_5}


def _members(sessions: sessionmaker[Session], count: int) -> int:
    """Members member000001@demo.invalid ... (no password: they cannot log in), activated, each in a real
    commune; every 10th follows the first demo committee. Only what is missing is added, by bulk inserts,
    so the lists they change are marked dirty here (no session hook sees a bulk insert)."""
    created, touched, now = 0, set(), utcnow()
    with transaction(sessions) as session:
        committee_id = session.scalar(select(Committee.id).where(Committee.slug == demo_events.COMMITTEES[0][0]))
        for start in range(1, count + 1, 5000):
            numbers = range(start, min(start + 5000, count + 1))
            emails = [f"member{n:06d}@demo.invalid" for n in numbers]
            existing = set(session.scalars(select(User.email).where(User.email.in_(emails))))
            fresh = [_member(n, now) for n in numbers if f"member{n:06d}@demo.invalid" not in existing]
            if fresh:
                session.execute(insert(User), fresh)
                created += len(fresh)
                touched |= {lists.department_key(row["department"]) for row in fresh}
            if committee_id is not None and _follow(session, committee_id, emails[FOLLOW_EVERY - 1::FOLLOW_EVERY], now):
                touched.add(lists.committee_key(committee_id))
        if touched:
            lists.mark_dirty(session, touched, now)
    return created


def _follow(session: Session, committee_id: int, emails: list[str], now: datetime) -> int:
    """Memberships of the members ``emails`` in the committee, where missing; how many were added."""
    ids = set(session.scalars(select(User.id).where(User.email.in_(emails))))
    ids -= set(session.scalars(select(CommitteeMembership.user_id).where(
        CommitteeMembership.committee_id == committee_id, CommitteeMembership.user_id.in_(ids))))
    if ids:
        session.execute(insert(CommitteeMembership), [
            {"committee_id": committee_id, "user_id": user_id, "role": "follower", "created_at": now}
            for user_id in sorted(ids)])
    return len(ids)
