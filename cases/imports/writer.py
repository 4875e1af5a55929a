"""Writing many cases at once: the rows services.open_case would write, in bulk.

One ORM object per case and one reference query per case would take minutes for 100,000 rows.
Here every table's rows are plain dicts written a chunk at a time, straight to the driver:
COPY on PostgreSQL, the driver's executemany on SQLite. Each value goes through the column
type's own bind processor first, exactly as Core would convert it, so phone and document
numbers are encrypted by EncryptedString like any other write; their blind-index hashes are
computed here (crypto.keep_blind_index only watches ORM writes). Tests compare an imported case
with one made by services.create_case, column by column.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import Table, func, select

from ..bulk import insert_rows
from ..casework.models import (
    Assignment,
    Case,
    CaseName,
    CaseNameToken,
    CasePhone,
    CaseStatus,
    FamilyContact,
    IdentityDocument,
    NameKind,
    StatusChange,
)
from ..casework.services import REFERENCE_ALPHABET, SCALAR_FIELDS, CaseDetails, birth_year_key
from ..extensions import db
from ..identity_documents import DOCUMENT_INDEX
from ..matching.keys import stored_token_skeletons
from ..phones import PHONE_INDEX
from . import namekeys

CHUNK = 2_000  # rows per IN query or COPY; SQLite allows 32,766 bound parameters
SQLITE_CACHE_KIB = 256 * 1024


def new_references(count: int) -> list[str]:
    """``count`` fresh references (as services.new_reference makes them), unique among
    themselves and among existing cases, checked with one query per chunk."""

    base = len(REFERENCE_ALPHABET)
    space = base**8

    def one() -> str:
        # One draw per reference, its eight base-27 digits: the distribution of eight
        # secrets.choice calls (as services.new_reference) for an eighth of the time.
        value = secrets.randbelow(space)
        raw = []
        for _ in range(8):
            value, digit = divmod(value, base)
            raw.append(REFERENCE_ALPHABET[digit])
        return f"{raw[0]}{raw[1]}{raw[2]}-{raw[3]}{raw[4]}{raw[5]}-{raw[6]}{raw[7]}"

    result: list[str] = [""] * count
    accepted: set[str] = set()
    pending = list(range(count))
    while pending:
        candidates = {i: one() for i in pending}
        wanted = list(candidates.values())
        taken: set[str] = set()
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            taken.update(
                db.session.scalars(select(Case.reference).where(Case.reference.in_(chunk)))
            )
        pending = []
        for i, ref in candidates.items():
            if ref in taken or ref in accepted:
                pending.append(i)
            else:
                accepted.add(ref)
                result[i] = ref
    return result


def reserve_case_ids(count: int) -> list[int]:
    """Ids for ``count`` new cases, so child rows can point at them without RETURNING.

    PostgreSQL hands them out from the table's own sequence, so concurrent inserts never
    collide. On SQLite the caller already holds the database's write lock (it has written in
    this transaction), so nobody can take the ids after the current maximum meanwhile.
    """
    if count == 0:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(Case.__tablename__, "id")
        return list(
            db.session.scalars(
                select(func.nextval(sequence)).select_from(func.generate_series(1, count))
            )
        )
    first = (db.session.scalar(select(func.max(Case.id))) or 0) + 1
    return list(range(first, first + count))


class Hashes:
    """Blind-index hashes (PHONE_INDEX, DOCUMENT_INDEX) computed once per number per import."""

    def __init__(
        self,
        phones: dict[str, str | None] | None = None,
        documents: dict[str, str | None] | None = None,
    ) -> None:
        self._phones: dict[str, str | None] = phones or {}
        self._documents: dict[str, str | None] = documents or {}

    def known(self) -> tuple[dict[str, str | None], dict[str, str | None]]:
        """The hashes computed so far (phones, documents), to be kept with the dry run's rows."""
        return self._phones, self._documents

    def phone(self, number: str | None) -> str | None:
        if not number:
            return None
        if number not in self._phones:
            self._phones[number] = PHONE_INDEX.of(number)
        return self._phones[number]

    def document(self, number: str | None) -> str | None:
        if not number:
            return None
        if number not in self._documents:
            self._documents[number] = DOCUMENT_INDEX.of(number)
        return self._documents[number]


class Rows:
    """The rows of an import, per table, in foreign-key order."""

    def __init__(self) -> None:
        self.cases: list[dict] = []
        self.names: list[dict] = []
        self.phones: list[dict] = []
        self.documents: list[dict] = []
        self.contacts: list[dict] = []
        self.tokens: list[dict] = []
        self.changes: list[dict] = []
        self.assignments: list[dict] = []

    def tables(self) -> list[tuple[Table, list[dict]]]:
        return [
            (Case.__table__, self.cases),
            (CaseName.__table__, self.names),
            (CasePhone.__table__, self.phones),
            (IdentityDocument.__table__, self.documents),
            (FamilyContact.__table__, self.contacts),
            (CaseNameToken.__table__, self.tokens),
            (StatusChange.__table__, self.changes),
            (Assignment.__table__, self.assignments),
        ]

    def add_case(
        self,
        case_id: int,
        reference: str,
        details: CaseDetails,
        recorded_on: date | None,
        *,
        actor_id: int,
        owner_id: int,
        batch_id: int,
        row_number: int,
        now: datetime,
        hashes: Hashes,
    ) -> None:
        """The rows open_case writes for one case (services._apply, refresh_search_keys)."""
        case = {name: getattr(details, name) for name in SCALAR_FIELDS}
        parts = (
            details.given_name,
            details.father_name,
            details.grandfather_name,
            details.great_grandfather_name,
            details.laqab,
        )
        arabic_name = " ".join(p for p in parts if p)
        case.update(
            id=case_id,
            reference=reference,
            status=CaseStatus.NEW,
            closure_reason=None,
            owner_id=owner_id,
            created_by_id=actor_id,
            created_at=now,
            updated_at=now,
            last_activity_at=now,
            age_recorded_on=recorded_on,
            birth_year_key=birth_year_key(details, recorded_on),
            name_key=namekeys.name_key(arabic_name)[:400],
            legal_hold=False,
            import_batch_id=batch_id,
            import_row=row_number,
            **namekeys.case_skeletons(
                details.given_name,
                details.father_name,
                details.grandfather_name,
                details.laqab,
                details.mother_name,
            ),
        )
        self.cases.append(case)
        for kind, names in (
            (NameKind.LATIN, details.latin_names),
            (NameKind.ALIAS, details.aliases),
        ):
            for name in names:
                self.names.append({"case_id": case_id, "kind": str(kind), "name": name})
        for phone in dict.fromkeys(details.phones):
            self.phones.append(
                {"case_id": case_id, "e164": phone, "e164_hash": hashes.phone(phone)}
            )
        for document in details.documents:
            self.documents.append(
                {
                    "case_id": case_id,
                    "doc_type": document.doc_type,
                    "number": document.number,
                    "number_hash": hashes.document(document.number),
                }
            )
        for contact in details.contacts:
            self.contacts.append(
                {
                    "case_id": case_id,
                    "name": contact.name,
                    "relationship_to_person": contact.relationship,
                    "phone_e164": contact.phone_e164,
                    "phone_hash": hashes.phone(contact.phone_e164),
                    "preferred_language": contact.preferred_language,
                }
            )
        tokens: set[str] = set()
        for text in (arabic_name, details.name_as_entered, *details.latin_names, *details.aliases):
            tokens |= namekeys.text_tokens(text)
        skeletons = stored_token_skeletons(t[:80] for t in tokens)
        for token in sorted(skeletons):
            self.tokens.append({"case_id": case_id, "token": token, "skeleton": skeletons[token]})
        self.changes.append(
            {
                "case_id": case_id,
                "actor_id": actor_id,
                "created_at": now,
                "from_status": None,
                "seconds_in_previous": None,
                "to_status": str(CaseStatus.NEW),
                "closure_reason": None,
                "reason": "",
                "approval_id": None,
            }
        )
        self.assignments.append(
            {
                "case_id": case_id,
                "actor_id": actor_id,
                "from_user_id": None,
                "to_user_id": owner_id,
                "created_at": now,
                "reason": None,
            }
        )

    def write(self) -> None:
        """Insert every table's rows in the session's transaction."""
        connection = db.session.connection()
        if connection.dialect.name == "sqlite":
            # Index pages of a million token rows do not fit SQLite's default 2 MB page cache;
            # a larger cache for this connection halves the insert time.
            previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
            connection.exec_driver_sql(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
        for table, rows in self.tables():
            for start in range(0, len(rows), CHUNK * 5):
                chunk = rows[start : start + CHUNK * 5]
                insert_rows(connection, table, chunk)
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")
