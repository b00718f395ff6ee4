"""Overseas collectivities get their own code: the department of every member, committee and event is
recomputed from its stored address (engagement/geo/communes.py department_of).

Before, New Caledonia (988), French Polynesia (987) and Wallis-et-Futuna (986) were all stored as "98", and an
address known only by its postal code took the code's first digits (97133 Saint-Barthélemy as 971, a Corsican
20xxx as nothing). Rows whose value changes also get their search record's department fixed, and the audience
lists of the departments they leave or join are dropped (derived data: the organizer page builds them again).
With Algolia, run `engagement search reindex` afterwards. Downgrading leaves the corrected values.

Revision ID: 0019_overseas_departments
Revises: 0018_rate_limits
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from engagement.geo.communes import department_of

revision: str = "0019_overseas_departments"
down_revision: str | Sequence[str] | None = "0018_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
PLACES = {"users": "user", "committees": "committee", "events": "event"}  # table -> search record prefix


def _places(name: str) -> sa.TableClause:
    return sa.table(name, sa.column("id", sa.Integer()), sa.column("address", sa.JSON()),
                    sa.column("department", sa.String(3)))


def upgrade() -> None:
    if op.get_context().as_sql:  # printing the SQL for review: the recomputation is Python, it has none
        op.execute("-- 0019_overseas_departments: users, committees and events get their department recomputed "
                   "in Python from their address (engagement/geo/communes.py department_of); "
                   "`engagement db upgrade` does it")
        return
    moved: set[str] = set()
    for name, kind in PLACES.items():
        for row_id, before, after in _recompute(_places(name)):
            moved |= {code for code in (before, after) if code}
            if kind != "user":
                _fix_search_record(f"{kind}-{row_id}", after)
    if moved:
        lists = sa.table("audience_lists", sa.column("key", sa.String(120)))
        op.get_bind().execute(lists.delete().where(lists.c.key.in_(sorted(f"department:{c}" for c in moved))))


def _recompute(places: sa.TableClause) -> list[tuple[int, str | None, str | None]]:
    """(id, before, after) of the rows of ``places`` whose department changes, changed, in batches by id."""
    connection, last, changed = op.get_bind(), 0, []
    while True:
        rows = connection.execute(sa.select(places.c.id, places.c.address, places.c.department)
                                  .where(places.c.id > last).order_by(places.c.id).limit(BATCH)).all()
        if not rows:
            return changed
        batch = [(row_id, before, department_of(address)) for row_id, address, before in rows]
        batch = [(row_id, before, after) for row_id, before, after in batch if after != before]
        if batch:
            connection.execute(places.update().where(places.c.id == sa.bindparam("row_id"))
                               .values(department=sa.bindparam("code")),
                               [{"row_id": row_id, "code": after} for row_id, _before, after in batch])
        changed += batch
        last = rows[-1][0]


def _fix_search_record(object_id: str, department: str | None) -> None:
    """The local search index's copy of a committee's or event's department (its column and its record)."""
    records = sa.table("search_records", sa.column("object_id", sa.String(64)),
                       sa.column("department", sa.String(3)), sa.column("record", sa.JSON()))
    connection = op.get_bind()
    record: Any = connection.scalar(sa.select(records.c.record).where(records.c.object_id == object_id))
    if record is None:
        return
    connection.execute(records.update().where(records.c.object_id == object_id)
                       .values(department=department, record={**record, "department": department}))


def downgrade() -> None:
    """Nothing to undo: the recomputed departments are right under every revision's code."""
