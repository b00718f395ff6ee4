"""Audience lists: each committee's and department's members, serialized in the background."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from engagement.db import Base


class AudienceList(Base):
    """The JSON list of one audience's members (gzip), rebuilt when ``dirty_at`` passes ``built_at``."""

    __tablename__ = "audience_lists"

    key: Mapped[str] = mapped_column(String(120), primary_key=True, comment="committee:ID or department:CODE")
    count: Mapped[int] = mapped_column(default=0)
    etag: Mapped[str | None] = mapped_column(String(64), comment="SHA-256 of the JSON")
    body: Mapped[bytes | None] = mapped_column(
        LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"), comment="gzip of the JSON list")
    dirty_at: Mapped[datetime | None] = mapped_column(comment="a membership changed at this time")
    built_at: Mapped[datetime | None] = mapped_column(comment="the build started at this time")
