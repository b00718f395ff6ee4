"""Writing instances and their log in as few statements as the driver allows, outside the ORM's unit of work.

A step changes one instance and appends a log row or two: the unit of work's bookkeeping for those (sorting,
per-object history, post-fetch) cost more than the two statements themselves. The log rows are inserted as they
are made; an instance changed is written by a ``before_flush`` listener as one ``UPDATE ... WHERE id = ? AND
lock_version = ?``, so the optimistic lock holds exactly as the ORM's ``version_id_col`` made it hold (a writer that
lost gets `StaleDataError`), and at the same moment of the transaction (every flush, autoflush included).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError

from engagement.workflow.models import WorkflowInstance, WorkflowTransition

_INSTANCES = cast(Table, WorkflowInstance.__table__)
_LOG = insert(cast(Table, WorkflowTransition.__table__))
_COLUMNS = {attr.key: attr.columns[0] for attr in WorkflowInstance.__mapper__.column_attrs}
_LOCK = "lock_version"
_BY_ID = select(WorkflowInstance).where(WorkflowInstance.id == bindparam("instance_id"))


def load(session: Session, instance_id: int) -> WorkflowInstance | None:
    """An instance by its id: ``session.get`` without building a new statement for every call (a step's load)."""
    return session.scalars(_BY_ID, {"instance_id": instance_id}).first()


def log(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append rows to the transition log now, in the caller's transaction (nothing reads them back as objects)."""
    if rows:
        session.connection().execute(_LOG, list(rows))


def track(factory: sessionmaker[Session]) -> None:
    """Write the instances changed in ``factory``'s sessions with one versioned UPDATE each, at every flush."""
    event.listen(factory, "before_flush", _before_flush)


def _before_flush(session: Session, _context: Any, objects: Any) -> None:
    if objects is not None:  # a flush of chosen objects: the ORM's own way
        return
    for instance in [obj for obj in session.dirty if type(obj) is WorkflowInstance]:
        save(session, instance)


def save(session: Session, instance: WorkflowInstance) -> None:
    """The instance's changed columns in one UPDATE that also moves its lock; none when nothing changed.

    Raises `StaleDataError`, as the ORM would, when another transaction moved the instance first. Anything
    this does not handle (an instance not yet inserted, or deleted, a lock set by hand) is left to the ORM.
    """
    state = instance_state(instance)
    if not state.persistent or state.deleted or _LOCK in state.committed_state or state.expired_attributes:
        return
    values = {key: state.dict.get(key) for key, old in state.committed_state.items()
              if old is NO_VALUE or not _COLUMNS[key].type.compare_values(old, state.dict.get(key))}
    if values:
        version = state.dict[_LOCK]
        result = session.connection().execute(_update(tuple(sorted(values))),
                                              {**{f"new_{key}": value for key, value in values.items()},
                                               "_id": instance.id, "_version": version, f"new_{_LOCK}": version + 1})
        if result.rowcount != 1:
            raise StaleDataError(f"UPDATE statement on table 'workflow_instances' expected to update 1 row(s); "
                                 f"{result.rowcount} were matched.")
        state.dict[_LOCK] = version + 1
    state._commit_all(state.dict, session.identity_map)  # written: nothing left for the unit of work


_UPDATES: dict[tuple[str, ...], Any] = {}


def _update(keys: tuple[str, ...]) -> Any:
    """One cached statement per set of changed columns (a step changes the same few each time)."""
    statement = _UPDATES.get(keys)
    if statement is None:
        statement = _UPDATES[keys] = (
            update(_INSTANCES)
            .where(_INSTANCES.c.id == bindparam("_id"), _INSTANCES.c.lock_version == bindparam("_version"))
            .values({_COLUMNS[key]: bindparam(f"new_{key}") for key in (*keys, _LOCK)}))
    return statement
