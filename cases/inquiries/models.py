"""Inquiries from families, what they add later, and their requests about their data."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..casework.models import ArabicNameParts, Case
from ..clock import utcnow
from ..crypto import EncryptedString, keep_blind_index
from ..extensions import db
from ..phones import PHONE_INDEX


class InquiryState(StrEnum):
    NEW = "new"  # waiting in the intake queue
    LINKED = "linked"  # a case was created from it or it was attached to one
    REJECTED = "rejected"  # spam or invalid
    ERASED = "erased"  # personal data removed (deletion request or retention): cases.retention


class RejectReason(StrEnum):
    SPAM = "spam"
    INVALID = "invalid"


class FamilyStatus(StrEnum):
    """The coarse status a family sees: never the detail of the case file."""

    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    SEARCHING = "searching"
    CLOSED = "closed"


class RequestKind(StrEnum):
    WITHDRAW_CONSENT = "withdraw_consent"
    DELETION = "deletion"
    ACCESS = "access"  # "what do you hold about us"
    CORRECTION = "correction"  # what is wrong and what it should be


class RequestState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Inquiry(ArabicNameParts, db.Model):
    __tablename__ = "inquiries"
    __table_args__ = (
        Index("ix_inquiries_state_created", "state", "created_at"),
        Index("ix_inquiries_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    # argon2id hash of the secret shown once to the family; the secret itself is never stored.
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(12), default=InquiryState.NEW)
    channel: Mapped[str] = mapped_column(String(12), default="web")
    locale: Mapped[str] = mapped_column(String(8), default="ar")

    # Consent, with the notice the family saw.
    notice_version: Mapped[str] = mapped_column(String(20))
    consent_search: Mapped[bool] = mapped_column(default=False)
    consent_share: Mapped[bool] = mapped_column(default=False)
    consent_at: Mapped[datetime] = mapped_column(default=utcnow)
    consent_withdrawn_at: Mapped[datetime | None]

    # The family member asking.
    inquirer_name: Mapped[str] = mapped_column(String(200))
    inquirer_relationship: Mapped[str] = mapped_column(String(60))
    inquirer_phone: Mapped[str | None] = mapped_column(EncryptedString(255))
    inquirer_phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    inquirer_language: Mapped[str] = mapped_column(String(8), default="ar")
    inquirer_channel: Mapped[str | None] = mapped_column(String(20))

    # The missing person, as the family describes him.
    given_name: Mapped[str] = mapped_column(String(80))
    father_name: Mapped[str | None] = mapped_column(String(80))
    grandfather_name: Mapped[str | None] = mapped_column(String(80))
    great_grandfather_name: Mapped[str | None] = mapped_column(String(80))
    laqab: Mapped[str | None] = mapped_column(String(80))
    mother_name: Mapped[str | None] = mapped_column(String(200))
    age: Mapped[int | None]
    birth_year: Mapped[int | None]
    governorate_pcode: Mapped[str | None] = mapped_column(String(12))
    district_pcode: Mapped[str | None] = mapped_column(String(12))
    last_contact_date: Mapped[date | None]
    last_contact_channel: Mapped[str | None] = mapped_column(String(20))
    destination_country: Mapped[str | None] = mapped_column(String(2))
    travel_company: Mapped[str | None] = mapped_column(String(200))
    route: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)

    # Triage.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    triaged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    triaged_at: Mapped[datetime | None]
    reject_reason: Mapped[str | None] = mapped_column(String(12))
    triage_comment: Mapped[str | None] = mapped_column(Text)
    # When the personal data was removed (state "erased"); reference and secret hash remain so
    # the family can still see that it was done.
    erased_at: Mapped[datetime | None]

    case: Mapped[Case | None] = relationship()
    triaged_by: Mapped[User | None] = relationship()
    updates: Mapped[list[InquiryUpdate]] = relationship(
        back_populates="inquiry", cascade="all, delete-orphan", order_by="InquiryUpdate.id"
    )


# The hash follows the encrypted number on every ORM write (see crypto.keep_blind_index).
keep_blind_index(Inquiry.inquirer_phone, Inquiry.inquirer_phone_hash, PHONE_INDEX)


class InquiryUpdate(db.Model):
    """Information a family added after submitting; it lands on the case timeline."""

    __tablename__ = "inquiry_updates"
    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(
        ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[str] = mapped_column(Text)
    inquiry: Mapped[Inquiry] = relationship(back_populates="updates")


class DataRequest(db.Model):
    """A family's request about their data (withdrawal, deletion, access, correction), decided
    by a supervisor."""

    __tablename__ = "data_requests"
    __table_args__ = (Index("ix_data_requests_state", "state", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(
        ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    # Deletion: the family also asks to delete the file about their relative.
    include_case: Mapped[bool] = mapped_column(default=False)
    # Correction: in the family's words.
    what_is_wrong: Mapped[str | None] = mapped_column(Text)
    what_it_should_be: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)

    inquiry: Mapped[Inquiry] = relationship()
    decided_by: Mapped[User | None] = relationship()


class Alert(db.Model):
    """Something a caseworker should look at: new family information on a case they own."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_user_unread", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
