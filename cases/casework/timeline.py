"""One chronological story of a case: notes, status changes, assignments and approvals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import selectinload

from ..extensions import db
from .models import ApprovalRequest, Assignment, Case, CaseNote, StatusChange


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # note, status, assignment, approval_requested, approval_decided
    item: Any


# Other domains (inquiries) add their events here, so casework does not import them.
SOURCES: list[Callable[[Case], list[Entry]]] = []


def register_source(source: Callable[[Case], list[Entry]]) -> Callable[[Case], list[Entry]]:
    """Add a function that returns more timeline entries for a case."""
    SOURCES.append(source)
    return source


def case_timeline(case: Case) -> list[Entry]:
    """Every event on ``case``, newest first."""
    entries: list[Entry] = [entry for source in SOURCES for entry in source(case)]
    notes = db.session.scalars(
        db.select(CaseNote)
        .filter_by(case_id=case.id)
        .options(selectinload(CaseNote.author), selectinload(CaseNote.corrects))
    )
    entries += [Entry(n.created_at, "note", n) for n in notes]
    changes = db.session.scalars(
        db.select(StatusChange).filter_by(case_id=case.id).options(selectinload(StatusChange.actor))
    )
    entries += [Entry(c.created_at, "status", c) for c in changes]
    assignments = db.session.scalars(
        db.select(Assignment)
        .filter_by(case_id=case.id)
        .options(
            selectinload(Assignment.actor),
            selectinload(Assignment.from_user),
            selectinload(Assignment.to_user),
        )
    )
    entries += [Entry(a.created_at, "assignment", a) for a in assignments]
    requests = db.session.scalars(
        db.select(ApprovalRequest)
        .filter_by(case_id=case.id)
        .options(
            selectinload(ApprovalRequest.requested_by), selectinload(ApprovalRequest.decided_by)
        )
    )
    for r in requests:
        entries.append(Entry(r.requested_at, "approval_requested", r))
        if r.decided_at is not None:
            entries.append(Entry(r.decided_at, "approval_decided", r))
    order = {"status": 0, "assignment": 1, "approval_requested": 2, "approval_decided": 3}
    entries.sort(key=lambda e: (e.at, order.get(e.kind, 4)), reverse=True)
    return entries
