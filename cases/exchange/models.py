"""PFIF records received from partner registries, kept whole.

Only part of a PFIF record fits a case or an inquiry (a photo URL, a partner's note status,
its author's e-mail have no column). The record is therefore kept verbatim, encrypted, next
to what it produced: nothing a partner sent is lost, an export can give it back unchanged, and
a second import of the same record is recognised by its id.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ..auth.models import User
from ..casework.models import Case, CaseNote
from ..clock import utcnow
from ..crypto import EncryptedString
from ..extensions import db
from ..inquiries.models import Inquiry, InquiryUpdate


class EncryptedText(EncryptedString):
    """EncryptedString without a length limit: a whole PFIF record with its notes' text."""

    impl = Text
    cache_ok = True

    def __init__(self) -> None:
        TypeDecorator.__init__(self)


class PfifRecord(db.Model):
    """One PFIF person or note as a partner sent it (PFIF 1.4 field names).

    ``fields`` is None once the record expired or its person's data was erased: the row stays
    as a tombstone, so the same record offered again is recognised and not taken back in.
    """

    __tablename__ = "pfif_records"
    __table_args__ = (
        # A CSV import may give a person and its note the same id: ids are unique per kind.
        UniqueConstraint("kind", "record_id", name="uq_pfif_records_kind_record"),
        Index("ix_pfif_records_expiry", "expiry_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(6))  # "person" or "note"
    record_id: Mapped[str] = mapped_column(String(255))
    # The person a note is about; for a person, its own id.
    person_record_id: Mapped[str] = mapped_column(String(255), index=True)
    fields_json: Mapped[str | None] = mapped_column("fields", EncryptedText())
    source_date: Mapped[datetime | None]
    # The partner's entry date as sent (the export gives ours: when it entered Athar).
    entry_date: Mapped[datetime | None]
    expiry_date: Mapped[datetime | None]

    # What the record produced here.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    inquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("inquiries.id", ondelete="SET NULL"), index=True
    )
    case_note_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_notes.id", ondelete="SET NULL"), index=True
    )
    inquiry_update_id: Mapped[int | None] = mapped_column(
        ForeignKey("inquiry_updates.id", ondelete="SET NULL")
    )
    # The case's updated_at right after the import wrote it: a later value means staff edited
    # the case since, and a newer version of the record no longer overwrites it.
    case_synced_at: Mapped[datetime | None]

    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_imported_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    purged_at: Mapped[datetime | None]

    case: Mapped[Case | None] = relationship()
    inquiry: Mapped[Inquiry | None] = relationship()
    case_note: Mapped[CaseNote | None] = relationship()
    inquiry_update: Mapped[InquiryUpdate | None] = relationship()
    imported_by: Mapped[User | None] = relationship()

    @property
    def fields(self) -> dict[str, str]:
        return json.loads(self.fields_json) if self.fields_json else {}

    @fields.setter
    def fields(self, value: dict[str, Any] | None) -> None:
        self.fields_json = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else None

    @property
    def domain(self) -> str:
        return self.record_id.partition("/")[0]

    def __repr__(self) -> str:
        return f"<PfifRecord {self.kind} {self.id}>"
