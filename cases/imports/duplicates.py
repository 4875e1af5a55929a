"""Likely duplicates among the rows of a file and against the cases already recorded.

Per-row matching (cases.matching.candidates.find_matches) takes about 25 ms, 40 minutes for
100,000 rows, so the import asks the same indexed questions in bulk, a chunk of keys per query:

- the same phone number (his, or the family contact's) or identity document number, by their
  keyed hashes, as matching's key queries do;
- the same cross-script skeletons of the given, father's and grandfather's names (the leading
  columns of the blocking index ix_cases_skel_given_father) together with the same birth year
  or the same mother's given name.

A flagged row is still imported, marked on the batch report; the case page's "Possible
duplicates" then scores it against the others in full, and a person decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select, tuple_

from ..casework.models import Case, CasePhone, ClosureReason, FamilyContact, IdentityDocument
from ..extensions import db
from .namekeys import case_skeletons
from .rows import CheckedRow, year_key
from .writer import Hashes

CHUNK = 500
MAX_LINKS = 3  # existing cases listed per flagged row


@dataclass
class RowKeys:
    number: int
    names: tuple[str, str, str] | None  # given, father, grandfather skeletons
    year: int | None
    mother: str | None
    phones: set[str] = field(default_factory=set)  # hashes
    documents: set[str] = field(default_factory=set)  # hashes


@dataclass
class Flag:
    """Row ``row`` looks like another row of the file (``other_row``) or a case (``case_id``)."""

    row: int
    reasons: list[str]
    other_row: int | None = None
    case_id: int | None = None
    reference: str | None = None


def row_keys(checked: CheckedRow, hashes: Hashes) -> RowKeys:
    details = checked.details
    skeletons = case_skeletons(
        details.given_name,
        details.father_name,
        details.grandfather_name,
        details.laqab,
        details.mother_name,
    )
    triple = (skeletons["given_skel"], skeletons["father_skel"], skeletons["grandfather_skel"])
    phones = {hashes.phone(p) for p in details.phones}
    phones |= {hashes.phone(c.phone_e164) for c in details.contacts if c.phone_e164}
    documents = {hashes.document(d.number) for d in details.documents}
    return RowKeys(
        checked.number,
        triple if all(triple) else None,
        year_key(checked),
        skeletons["mother_skel"],
        {h for h in phones if h},
        {h for h in documents if h},
    )


def within_file(keys: list[RowKeys]) -> list[Flag]:
    """Rows that repeat an earlier row of the file: each points at the first such row."""
    first: dict[tuple, int] = {}
    flags: dict[int, Flag] = {}

    def see(key: tuple, row: int, reason: str) -> None:
        earlier = first.setdefault(key, row)
        if earlier != row:
            flag = flags.setdefault(row, Flag(row, [], other_row=earlier))
            if reason not in flag.reasons:
                flag.reasons.append(reason)

    for k in keys:
        if k.names and k.year is not None:
            see(("name_year", *k.names, k.year), k.number, "name")
        if k.names and k.mother:
            see(("name_mother", *k.names, k.mother), k.number, "name")
        for phone in k.phones:
            see(("phone", phone), k.number, "phone")
        for document in k.documents:
            see(("document", document), k.number, "document")
    return [flags[row] for row in sorted(flags)]


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _eligible(stmt):  # noqa: ANN001, ANN202
    # As matching: anonymised cases have no names, merged duplicates live on in another case.
    return stmt.where(
        Case.anonymised_at.is_(None),
        or_(Case.closure_reason.is_(None), Case.closure_reason != ClosureReason.DUPLICATE),
    )


def against_cases(keys: list[RowKeys]) -> list[Flag]:
    """Rows that look like an existing case, with the case's id and reference."""
    found: dict[int, dict[int, set[str]]] = {}  # row -> case id -> reasons

    def note(row: int, case_id: int, reason: str) -> None:
        found.setdefault(row, {}).setdefault(case_id, set()).add(reason)

    by_phone: dict[str, list[int]] = {}
    by_document: dict[str, list[int]] = {}
    by_names: dict[tuple, list[RowKeys]] = {}
    for k in keys:
        for h in k.phones:
            by_phone.setdefault(h, []).append(k.number)
        for h in k.documents:
            by_document.setdefault(h, []).append(k.number)
        if k.names:
            by_names.setdefault(k.names, []).append(k)
    for column, owner, wanted, reason in (
        (CasePhone.e164_hash, CasePhone.case_id, by_phone, "phone"),
        (FamilyContact.phone_hash, FamilyContact.case_id, by_phone, "phone"),
        (IdentityDocument.number_hash, IdentityDocument.case_id, by_document, "document"),
    ):
        for chunk in _chunks(sorted(wanted)):
            for case_id, key in db.session.execute(select(owner, column).where(column.in_(chunk))):
                for row in wanted[key]:
                    note(row, case_id, reason)
    triple = tuple_(Case.given_skel, Case.father_skel, Case.grandfather_skel)
    for chunk in _chunks(sorted(by_names)):
        stmt = select(
            Case.id,
            Case.given_skel,
            Case.father_skel,
            Case.grandfather_skel,
            Case.birth_year_key,
            Case.mother_skel,
        ).where(triple.in_(chunk))
        for case in db.session.execute(_eligible(stmt)):
            for k in by_names[(case.given_skel, case.father_skel, case.grandfather_skel)]:
                same_year = k.year is not None and k.year == case.birth_year_key
                same_mother = k.mother is not None and k.mother == case.mother_skel
                if same_year or same_mother:
                    note(k.number, case.id, "name")
    if not found:
        return []
    case_ids = sorted({case_id for cases in found.values() for case_id in cases})
    references: dict[int, str] = {}
    for chunk in _chunks(case_ids):
        stmt = _eligible(select(Case.id, Case.reference).where(Case.id.in_(chunk)))
        references.update({case_id: reference for case_id, reference in db.session.execute(stmt)})
    flags = []
    for row in sorted(found):
        cases = [
            (case_id, reasons) for case_id, reasons in found[row].items() if case_id in references
        ]
        # Shared numbers first, then by age of the case.
        cases.sort(key=lambda pair: (-len(pair[1]), pair[0]))
        for case_id, reasons in cases[:MAX_LINKS]:
            order = [r for r in ("document", "phone", "name") if r in reasons]
            flags.append(Flag(row, order, case_id=case_id, reference=references[case_id]))
    return flags
