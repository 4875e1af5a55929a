"""A spreadsheet on its way in: the encrypted file between the steps, then the import's record.

The file itself is kept only while a supervisor maps and checks it; it is deleted (``content``
set to NULL) once the rows are imported or the import is abandoned, and batches left half-way
are purged after a day (services.purge_stale_batches), and with it the rows the dry run found
valid (``checked_rows``). What stays is the record of the import:
who, when, counts, and the report of skipped rows and likely duplicates (row numbers, column
headers and problem codes, no cell values beyond what the problem quotes), encrypted too.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db


class BatchState(StrEnum):
    UPLOADED = "uploaded"  # the file is kept; columns being mapped and checked
    IMPORTED = "imported"  # valid rows became cases; the file is deleted
    DISCARDED = "discarded"  # "import nothing"; the file is deleted


class ImportBatch(db.Model):
    __tablename__ = "import_batches"
    __table_args__ = (Index("ix_import_batches_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(12), default=BatchState.UPLOADED)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The name the browser gave, cleaned (shown on the batch and case pages).
    file_name: Mapped[str] = mapped_column(String(200))
    file_kind: Mapped[str] = mapped_column(String(8))  # "csv" or "xlsx"
    file_size: Mapped[int] = mapped_column(default=0)
    sheet_name: Mapped[str | None] = mapped_column(String(100))
    # Fernet token of the file's bytes (cases.crypto); NULL once imported or discarded.
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The chosen mapping as JSON: {"columns": {index: field}, "owner_id": ..., "sheet": ...}.
    mapping: Mapped[str | None] = mapped_column(Text)
    row_count: Mapped[int | None]
    valid_count: Mapped[int | None]
    problem_count: Mapped[int | None]
    duplicate_count: Mapped[int | None]
    checked_at: Mapped[datetime | None]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    imported_count: Mapped[int | None]
    # Encrypted, compressed JSON of the last check: problems and likely duplicates by row.
    report: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Encrypted, compressed JSON of the valid rows of the last check (stored.py), so the
    # import does not read the file again; NULL once imported or discarded, like the file.
    checked_rows: Mapped[bytes | None] = mapped_column(LargeBinary)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def is_open(self) -> bool:
        return self.state == BatchState.UPLOADED
