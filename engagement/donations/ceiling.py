"""The yearly ceiling (loi n° 88-227, art. 11-4): one person gives at most 7,500 € a calendar year.

A person is matched on their normalised identity and address, not on an email address (anyone has several).
The check and the addition are one conditional ``UPDATE`` of the person's ``donor_years`` row: two payments
racing for the last euros are serialised by the row's lock (MariaDB) or the write lock (SQLite), and the second
one finds the first's amount already counted.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime

from sqlalchemy import case, insert, select, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.orm import Session

from engagement.clock import PARIS
from engagement.donations.models import DonorYear

CEILING_CENTS = 750_000  # 7,500 € per person per calendar year, to parties in all (the platform: its own movement)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _fold(text: str) -> str:
    """Lower case, without accents, spaces or punctuation: "Lefèvre-N'Diaye" and "LEFEVRE NDIAYE" are one."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("", bare.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss"))


def person_key(first_name: str, last_name: str, postal_code: str, street: str) -> str:
    """One person for the ceiling: SHA-256 of the folded names, postal code and street (unkeyed: the identity
    is kept beside it for the treasurer anyway, and a key would be lost with a rotated secret)."""
    parts = (_fold(last_name), _fold(first_name), _fold(postal_code), _fold(street))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def year_of(moment: datetime) -> int:
    """The calendar year a payment counts in: Paris's (a gift at 00:30 on 1 January, Paris time, is next year's)."""
    return moment.astimezone(PARIS).year


def _ensure_row(session: Session, key: str, year: int) -> None:
    values = {"ceiling_key": key, "year": year, "counted_cents": 0}
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(sqlite.insert(DonorYear).values(values).on_conflict_do_nothing())
    elif dialect in ("mysql", "mariadb"):
        # a no-op update, not IGNORE: IGNORE would also swallow errors other than the duplicate key
        statement = mysql.insert(DonorYear).values(values)
        session.execute(statement.on_duplicate_key_update(counted_cents=statement.table.c.counted_cents))
    else:  # pragma: no cover - the platform runs on SQLite and MariaDB/MySQL
        if session.get(DonorYear, (key, year)) is None:
            session.execute(insert(DonorYear).values(values))


def hold(session: Session, key: str, year: int, amount_cents: int) -> bool:
    """Count ``amount_cents`` for the person in ``year`` if it fits under the ceiling; whether it did."""
    if amount_cents <= 0:
        raise ValueError("an amount held under the ceiling is positive")
    _ensure_row(session, key, year)
    counted = DonorYear.counted_cents
    result = session.execute(
        update(DonorYear)
        .where(DonorYear.ceiling_key == key, DonorYear.year == year, counted + amount_cents <= CEILING_CENTS)
        .values(counted_cents=counted + amount_cents)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def restore(session: Session, key: str, year: int, amount_cents: int) -> None:
    """Count money again without the check: a chargeback won gives back what the ceiling already held."""
    if amount_cents <= 0:
        return
    _ensure_row(session, key, year)
    session.execute(update(DonorYear).where(DonorYear.ceiling_key == key, DonorYear.year == year)
                    .values(counted_cents=DonorYear.counted_cents + amount_cents)
                    .execution_options(synchronize_session=False))


def release(session: Session, key: str, year: int, amount_cents: int) -> None:
    """Stop counting ``amount_cents`` (a page expired, a refund, a chargeback); never below zero."""
    if amount_cents <= 0:
        return
    counted = DonorYear.counted_cents
    session.execute(update(DonorYear).where(DonorYear.ceiling_key == key, DonorYear.year == year)
                    .values(counted_cents=case((counted > amount_cents, counted - amount_cents), else_=0))
                    .execution_options(synchronize_session=False))


def remaining(session: Session, key: str, year: int) -> int:
    """What the person may still give in ``year``, in cents."""
    counted = session.scalar(select(DonorYear.counted_cents).where(DonorYear.ceiling_key == key,
                                                                   DonorYear.year == year))
    return max(CEILING_CENTS - (counted or 0), 0)
