"""Decisions people took about suggested matches, remembered so they are not asked again.

"Not the same person" is recorded at once by whoever works on both files; "same person" is
proposed by staff and carried out when a supervisor approves (four-eyes, DOMAIN.md section 5).
History is kept: a decision that ends (rejected, withdrawn, undone) keeps its row.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..casework.models import Case
from ..clock import utcnow
from ..extensions import db
from ..inquiries.models import Inquiry


class DecisionKind(StrEnum):
    NOT_SAME = "not_same"
    SAME = "same"


class DecisionState(StrEnum):
    ACTIVE = "active"  # "not the same person", in force
    PENDING = "pending"  # "same person", waiting for a supervisor
    APPROVED = "approved"  # "same person", carried out: the duplicate is closed
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    UNDONE = "undone"


# While a decision is in one of these states its pair cannot get another one.
LIVE_STATES = frozenset({DecisionState.ACTIVE, DecisionState.PENDING, DecisionState.APPROVED})


class MatchDecision(db.Model):
    """One decision about two cases, or about an inquiry and a case.

    Two cases are stored in a canonical order (the smaller id in ``case_id``) so that A–B and
    B–A are one pair; ``pair_key`` names the pair while the decision is live and is cleared when
    it ends, and its unique constraint keeps a pair to one live decision even when two people
    decide at the same moment.
    """

    __tablename__ = "match_decisions"
    __table_args__ = (
        CheckConstraint(
            "(other_case_id IS NULL) <> (inquiry_id IS NULL)",
            name="one_subject",
        ),
        CheckConstraint(
            "other_case_id IS NULL OR case_id < other_case_id",
            name="pair_order",
        ),
        # The approvals page: merges waiting for a supervisor, oldest first.
        Index("ix_match_decisions_state", "state", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(12))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    other_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    inquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    pair_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    # "Same person": which of the two is closed as the duplicate, and where it stood before,
    # so that undoing the merge puts it back.
    duplicate_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    previous_status: Mapped[str | None] = mapped_column(String(20))
    previous_closure_reason: Mapped[str | None] = mapped_column(String(20))

    reason: Mapped[str | None] = mapped_column(Text)  # the requester's words
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)  # the supervisor's
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    undone_at: Mapped[datetime | None]
    undo_reason: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(foreign_keys=[case_id])
    other_case: Mapped[Case | None] = relationship(foreign_keys=[other_case_id])
    inquiry: Mapped[Inquiry | None] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    undone_by: Mapped[User | None] = relationship(foreign_keys=[undone_by_id])

    @property
    def duplicate(self) -> Case | None:
        """The case closed (or to be closed) as a duplicate; None for "not the same"."""
        if self.duplicate_id is None:
            return None
        return self.case if self.duplicate_id == self.case_id else self.other_case

    @property
    def surviving(self) -> Case | None:
        """The case that is kept; None for "not the same"."""
        if self.duplicate_id is None:
            return None
        return self.other_case if self.duplicate_id == self.case_id else self.case

    def partner_of(self, case_id: int) -> Case | None:
        """The other case of the pair, seen from ``case_id``; None for an inquiry."""
        if self.other_case_id is None:
            return None
        return self.other_case if self.case_id == case_id else self.case

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES
