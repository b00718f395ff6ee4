"""An uploaded image: where it is stored, its size and type, its hash, its placeholder."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engagement.db import Base, utcnow

KEY_PATTERN = r"^[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|webp|gif)$"


class Media(Base):
    """One stored image, re-encoded at upload; its variants are made on demand by the resize endpoint."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, comment="storage path: <sha[:2]>/<sha256>.<ext>")
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int] = mapped_column(comment="of the stored (re-encoded) file")
    sha256: Mapped[str] = mapped_column(String(64), unique=True, comment="of the stored (re-encoded) file")
    original_name: Mapped[str] = mapped_column(String(255), default="", comment="as uploaded; never a path")
    alt: Mapped[str] = mapped_column(String(300), default="", server_default="")
    placeholder: Mapped[str] = mapped_column(Text, default="", comment="data: URI of a 20 px blurred JPEG")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
