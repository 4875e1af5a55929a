"""The case file and everything appended to it.

History (notes, status changes, assignments, approval requests) is appended, never edited in
place: a correction is a new row that points at the one it corrects.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import gettext
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..clock import utcnow
from ..crypto import EncryptedString, keep_blind_index
from ..extensions import db
from ..identity_documents import DOCUMENT_INDEX
from ..phones import PHONE_INDEX

if TYPE_CHECKING:
    from ..imports.models import ImportBatch


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    LOCATED_ALIVE = "located_alive"
    LOCATED_DETAINED = "located_detained"
    LOCATED_DECEASED = "located_deceased"
    CLOSED = "closed"


class ClosureReason(StrEnum):
    IN_CONTACT = "in_contact"
    DEATH_CONFIRMED = "death_confirmed"
    FAMILY_WITHDREW = "family_withdrew"
    DUPLICATE = "duplicate"
    NO_TRACE = "no_trace"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class ContactChannel(StrEnum):
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    FACEBOOK = "facebook"
    OTHER = "other"


class NoteKind(StrEnum):
    CALL = "call"
    VISIT = "visit"
    INFORMATION = "information"
    REFERRAL = "referral"
    OTHER = "other"


class NoteVisibility(StrEnum):
    INTERNAL = "internal"
    SHAREABLE = "shareable"


class NameKind(StrEnum):
    LATIN = "latin"
    ALIAS = "alias"


class DocumentType(StrEnum):
    NATIONAL_ID = "national_id"
    CIVIL_ID = "civil_id"
    PASSPORT = "passport"
    RESIDENCE_CARD = "residence_card"
    MILITARY_CONTRACT = "military_contract"
    OTHER = "other"


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ArabicNameParts:
    """Models holding the official name parts (given, father, grandfather, great-grandfather,
    laqab) show them joined in that order."""

    given_name: str
    father_name: str | None
    grandfather_name: str | None
    great_grandfather_name: str | None
    laqab: str | None

    @property
    def arabic_name(self) -> str:
        parts = (
            self.given_name,
            self.father_name,
            self.grandfather_name,
            self.great_grandfather_name,
            self.laqab,
        )
        # Anonymised records keep no name parts (cases.retention): say so instead of a blank.
        return " ".join(p for p in parts if p) or gettext("[anonymised]")


def _ranking_columns(*pair: str) -> tuple[str, ...]:
    """The columns after a blocking pair: the other name skeletons, district, birth year."""
    others = [
        f"{p}_skel" for p in ("given", "father", "grandfather", "mother", "laqab") if p not in pair
    ]
    return (*others, "district_pcode", "birth_year_key")


class Case(ArabicNameParts, db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_activity", "status", "last_activity_at"),
        Index("ix_cases_owner_status", "owner_id", "status"),
        # Covering indexes for the case list's common filters, so counts never touch the
        # table (bench/case_list.py). A lone birth-year index misled SQLite's planner.
        Index("ix_cases_status_gov_birth", "status", "governorate_pcode", "birth_year_key"),
        Index("ix_cases_district_contact", "district_pcode", "last_contact_date"),
        Index("ix_cases_governorate", "governorate_pcode"),
        Index("ix_cases_last_contact", "last_contact_date"),
        Index("ix_cases_activity", "last_activity_at"),
        Index("ix_cases_created", "created_at"),
        # Candidate blocking for matching (cases.matching.candidates): two name parts agree
        # (the leading pair), and the namesakes are ranked by the other columns without
        # reading the table: covering indexes (PostgreSQL also needs the id for that).
        Index(
            "ix_cases_skel_given_father",
            "given_skel",
            "father_skel",
            *_ranking_columns("given", "father"),
            postgresql_include=["id"],
        ),
        Index(
            "ix_cases_skel_given_grandfather",
            "given_skel",
            "grandfather_skel",
            *_ranking_columns("given", "grandfather"),
            postgresql_include=["id"],
        ),
        Index(
            "ix_cases_skel_father_grandfather",
            "father_skel",
            "grandfather_skel",
            *_ranking_columns("father", "grandfather"),
            postgresql_include=["id"],
        ),
        Index(
            "ix_cases_skel_given_mother",
            "given_skel",
            "mother_skel",
            *_ranking_columns("given", "mother"),
            postgresql_include=["id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.NEW)
    closure_reason: Mapped[str | None] = mapped_column(String(20))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Last note, status change or assignment: what "stale" is measured against.
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The missing person. Arabic name parts are the official form; the name as entered is kept
    # verbatim because families write it in many ways.
    given_name: Mapped[str] = mapped_column(String(80))
    father_name: Mapped[str | None] = mapped_column(String(80))
    grandfather_name: Mapped[str | None] = mapped_column(String(80))
    great_grandfather_name: Mapped[str | None] = mapped_column(String(80))
    laqab: Mapped[str | None] = mapped_column(String(80))
    name_as_entered: Mapped[str | None] = mapped_column(String(300))
    mother_name: Mapped[str | None] = mapped_column(String(200))
    sex: Mapped[str] = mapped_column(String(10), default=Sex.MALE)
    birth_year: Mapped[int | None]
    birth_month: Mapped[int | None]
    birth_day: Mapped[int | None]
    age: Mapped[int | None]
    age_estimated: Mapped[bool] = mapped_column(default=False)
    age_recorded_on: Mapped[date | None]
    # Birth year from the date of birth, or from the age when it was recorded: the age filter key.
    birth_year_key: Mapped[int | None]
    governorate_pcode: Mapped[str | None] = mapped_column(String(12))
    district_pcode: Mapped[str | None] = mapped_column(String(12))
    locality: Mapped[str | None] = mapped_column(String(200))
    departure_date: Mapped[date | None]
    destination_country: Mapped[str | None] = mapped_column(String(2))
    route: Mapped[str | None] = mapped_column(Text)
    travel_company: Mapped[str | None] = mapped_column(String(200))
    last_contact_date: Mapped[date | None]
    last_contact_channel: Mapped[str | None] = mapped_column(String(20))
    last_known_location: Mapped[str | None] = mapped_column(String(300))
    circumstances: Mapped[str | None] = mapped_column(Text)
    distinguishing_marks: Mapped[str | None] = mapped_column(Text)
    # Normalised full name (see matching.normalize) for sorting and display of search hits.
    name_key: Mapped[str] = mapped_column(String(400), default="")
    # Cross-script consonant skeletons of the name parts (matching.keys.part_skeleton) and of
    # the mother's given name, kept current on every save: the blocking keys of matching.
    given_skel: Mapped[str | None] = mapped_column(String(40))
    father_skel: Mapped[str | None] = mapped_column(String(40))
    grandfather_skel: Mapped[str | None] = mapped_column(String(40))
    laqab_skel: Mapped[str | None] = mapped_column(String(40))
    mother_skel: Mapped[str | None] = mapped_column(String(40))
    # Retention (cases.retention): a hold keeps the file from purge and deletion; once the
    # retention period has passed the personal data is removed and anonymised_at is set.
    legal_hold: Mapped[bool] = mapped_column(default=False)
    legal_hold_reason: Mapped[str | None] = mapped_column(Text)
    legal_hold_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    legal_hold_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]
    # Set when a supervisor approved that this case describes the same person as another one
    # (cases.matching.decisions): it is then closed as a duplicate and reached from that case.
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    # Cases that came from a spreadsheet (cases.imports): the import and the file's row number.
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="SET NULL"), index=True
    )
    import_row: Mapped[int | None]

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    legal_hold_by: Mapped[User | None] = relationship(foreign_keys=[legal_hold_by_id])
    duplicate_of: Mapped[Case | None] = relationship(
        foreign_keys=[duplicate_of_id], remote_side=[id]
    )
    import_batch: Mapped[ImportBatch | None] = relationship("ImportBatch")
    names: Mapped[list[CaseName]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseName.id"
    )
    phones: Mapped[list[CasePhone]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CasePhone.id"
    )
    documents: Mapped[list[IdentityDocument]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="IdentityDocument.id"
    )
    contacts: Mapped[list[FamilyContact]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="FamilyContact.id"
    )
    tokens: Mapped[list[CaseNameToken]] = relationship(cascade="all, delete-orphan")

    @property
    def latin_names(self) -> list[str]:
        return [n.name for n in self.names if n.kind == NameKind.LATIN]

    @property
    def aliases(self) -> list[str]:
        return [n.name for n in self.names if n.kind == NameKind.ALIAS]

    @property
    def is_closed(self) -> bool:
        return self.status == CaseStatus.CLOSED

    def __repr__(self) -> str:
        return f"<Case {self.reference} {self.status}>"


class CaseName(db.Model):
    """A Latin spelling or an alias (former name, nickname) of the missing person."""

    __tablename__ = "case_names"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    case: Mapped[Case] = relationship(back_populates="names")


class CasePhone(db.Model):
    """A phone number of the missing person, in E.164, encrypted; found by its keyed hash."""

    __tablename__ = "case_phones"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(EncryptedString(255))
    e164_hash: Mapped[str] = mapped_column(String(64), index=True)
    case: Mapped[Case] = relationship(back_populates="phones")


class IdentityDocument(db.Model):
    __tablename__ = "identity_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    doc_type: Mapped[str] = mapped_column(String(20))
    # Up to 60 characters typed; encrypted, four-byte characters included, it needs 420.
    number: Mapped[str] = mapped_column(EncryptedString(512))
    number_hash: Mapped[str] = mapped_column(String(64), index=True)
    case: Mapped[Case] = relationship(back_populates="documents")


class FamilyContact(db.Model):
    """A relative who reported the case and whom caseworkers call back."""

    __tablename__ = "family_contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relationship_to_person: Mapped[str | None] = mapped_column(String(60))
    phone_e164: Mapped[str | None] = mapped_column(EncryptedString(255))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    case: Mapped[Case] = relationship(back_populates="contacts")


# The hashes follow the encrypted values on every ORM write (see crypto.keep_blind_index).
keep_blind_index(CasePhone.e164, CasePhone.e164_hash, PHONE_INDEX)
keep_blind_index(IdentityDocument.number, IdentityDocument.number_hash, DOCUMENT_INDEX)
keep_blind_index(FamilyContact.phone_e164, FamilyContact.phone_hash, PHONE_INDEX)


class CaseNameToken(db.Model):
    """Normalised name tokens: the prefix-token search index (as in Google Person Finder)."""

    __tablename__ = "case_name_tokens"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    # Byte order on PostgreSQL so the prefix range matches what Python computes.
    token: Mapped[str] = mapped_column(
        String(80).with_variant(String(80, collation="C"), "postgresql"), primary_key=True
    )
    # The token's cross-script skeleton (matching.keys), so the search box finds «محمد عماد»
    # from "Mohammed Imad". Stored once per case and skeleton, on the Arabic token if there is
    # one, else NULL (see keys.stored_token_skeletons).
    skeleton: Mapped[str | None] = mapped_column(String(40))
    __table_args__ = (
        Index("ix_case_name_tokens_token_case", "token", "case_id"),
        # With the token, so the search box can ask for Latin tokens only (listing.py).
        Index("ix_case_name_tokens_skeleton_token_case", "skeleton", "token", "case_id"),
    )


class CaseNote(db.Model):
    __tablename__ = "case_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    visibility: Mapped[str] = mapped_column(String(20), default=NoteVisibility.INTERNAL)
    body: Mapped[str] = mapped_column(Text)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("case_notes.id"))

    author: Mapped[User | None] = relationship()
    corrects: Mapped[CaseNote | None] = relationship(remote_side=[id])


class StatusChange(db.Model):
    __tablename__ = "status_changes"
    # Time spent in each status, read in index order for the dashboard's medians.
    __table_args__ = (
        Index("ix_status_changes_from_seconds", "from_status", "seconds_in_previous"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(20))
    # How long the case stayed in from_status before this change.
    seconds_in_previous: Mapped[int | None]
    to_status: Mapped[str] = mapped_column(String(20))
    closure_reason: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    # Set when a supervisor's approval carried this change out.
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))

    actor: Mapped[User | None] = relationship()


class Assignment(db.Model):
    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    from_user: Mapped[User | None] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])


class CaseShare(db.Model):
    """An explicit grant letting a caseworker other than the owner work on a case."""

    __tablename__ = "case_shares"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])


class ApprovalRequest(db.Model):
    """A status change that needs a second person: closure and "located deceased"."""

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_state", "state", "requested_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    to_status: Mapped[str] = mapped_column(String(20))
    closure_reason: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default=ApprovalState.PENDING)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
