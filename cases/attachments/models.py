"""Photos and documents of the missing person, uploaded by staff or by the family.

The row describes the file; the bytes live encrypted on disk under a random name
(``stored_name``), never under anything the uploader chose.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


class AttachmentSource(StrEnum):
    STAFF = "staff"
    FAMILY = "family"


class Attachment(db.Model):
    __tablename__ = "attachments"
    __table_args__ = (
        # A file always belongs to a case (staff upload) or an inquiry (family upload).
        CheckConstraint("case_id IS NOT NULL OR inquiry_id IS NOT NULL", name="has_owner"),
        Index("ix_attachments_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    inquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    # secrets.token_hex(16): the only name the file has on disk.
    stored_name: Mapped[str] = mapped_column(String(32), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    byte_size: Mapped[int]
    # Of the stored (re-encoded) plaintext: finds duplicates and proves the file is intact.
    sha256: Mapped[str] = mapped_column(String(64))
    # Sanitised and shown to staff only; never used to build a path.
    original_name: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Removal by staff deletes the bytes and keeps this row as a trace.
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    deleted_by: Mapped[User | None] = relationship(foreign_keys=[deleted_by_id])

    @property
    def is_photo(self) -> bool:
        return self.kind == AttachmentKind.PHOTO

    @property
    def removed(self) -> bool:
        return self.deleted_at is not None
