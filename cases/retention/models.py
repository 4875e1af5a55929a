"""Retention records: what was destroyed, and when a case was put on or taken off legal hold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db


class DestructionRecord(db.Model):
    """One destruction of personal data, appended and never edited.

    It says which record, why, which categories and how many items went, who did it and when;
    never what the data was. ``object_id`` has no foreign key so the record outlives any row.
    """

    __tablename__ = "destruction_records"
    __table_args__ = (Index("ix_destruction_records_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(12))  # "case" or "inquiry"
    object_id: Mapped[int]
    # The case reference or the inquiry's reference number: how people will ask about it.
    reference: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(20))  # "retention" or "deletion_request"
    # The retention rule applied (a key of RETENTION_DAYS), or None for a deletion request.
    rule: Mapped[str | None] = mapped_column(String(40))
    data_request_id: Mapped[int | None]
    # Comma-separated category names, and a JSON object of counts per category.
    categories: Mapped[str] = mapped_column(Text, default="")
    counts: Mapped[str] = mapped_column(Text, default="{}")
    performed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    performed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Dry runs write nothing, so this is always false; kept so the table says so explicitly.
    dry_run: Mapped[bool] = mapped_column(default=False)

    performed_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<DestructionRecord {self.object_type}:{self.object_id} {self.reason}>"


class LegalHoldChange(db.Model):
    """A supervisor put a case on legal hold or lifted it, with the reason given."""

    __tablename__ = "legal_hold_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    held: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()
