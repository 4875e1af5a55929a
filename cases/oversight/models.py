"""Oversight records: who exported which cases, when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db


class ExportRecord(db.Model):
    """One export of case data, appended and never edited.

    ``filters`` holds the allow-listed case-list filters as JSON (see
    ``exports.filters_to_record``), never the raw query string.
    """

    __tablename__ = "export_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    format: Mapped[str] = mapped_column(String(8))
    filters: Mapped[str] = mapped_column(Text, default="{}")
    row_count: Mapped[int]

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ExportRecord {self.id} {self.format} {self.row_count}>"
