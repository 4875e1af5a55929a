"""What matching compares: one person as a case file or an inquiry describes him.

Scoring works on this plain record, never on models, so a case, an inquiry, a spreadsheet row
or a PFIF person (issue 7) can all be compared with the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # models import matching (search keys); matching needs them only for typing
    from ..casework.models import Case
    from ..casework.services import CaseDetails
    from ..inquiries.models import Inquiry

# The official Iraqi name in order: given, father, grandfather, great-grandfather, then the
# family or tribal name (laqab).
NAME_PARTS = ("given", "father", "grandfather", "great_grandfather", "laqab")


@dataclass(frozen=True)
class PersonRecord:
    """A missing person as one source describes him. Empty fields are None or empty."""

    given: str | None = None
    father: str | None = None
    grandfather: str | None = None
    great_grandfather: str | None = None
    laqab: str | None = None
    mother: str | None = None
    # Other spellings of the whole name: Latin as on a passport, Cyrillic, aliases.
    other_names: tuple[str, ...] = ()
    sex: str | None = None
    birth_year: int | None = None  # from a date of birth, or estimated from an age
    governorate: str | None = None  # OCHA P-codes
    district: str | None = None
    # Keyed hashes (cases.crypto blind indexes): numbers are compared without being read.
    phone_hashes: frozenset[str] = field(default_factory=frozenset)
    document_hashes: frozenset[str] = field(default_factory=frozenset)

    def part(self, name: str) -> str | None:
        return getattr(self, name)

    @classmethod
    def from_case(cls, case: Case) -> PersonRecord:
        phones = {p.e164_hash for p in case.phones if p.e164_hash}
        phones |= {c.phone_hash for c in case.contacts if c.phone_hash}
        return cls(
            given=case.given_name,
            father=case.father_name,
            grandfather=case.grandfather_name,
            great_grandfather=case.great_grandfather_name,
            laqab=case.laqab,
            mother=case.mother_name,
            other_names=tuple(n.name for n in case.names if n.name),
            sex=case.sex,
            birth_year=case.birth_year_key,
            governorate=case.governorate_pcode,
            district=case.district_pcode,
            phone_hashes=frozenset(phones),
            document_hashes=frozenset(d.number_hash for d in case.documents if d.number_hash),
        )

    @classmethod
    def from_inquiry(cls, inquiry: Inquiry, today: date | None = None) -> PersonRecord:
        birth_year = inquiry.birth_year
        if birth_year is None and inquiry.age is not None:
            recorded = (today or inquiry.created_at.date()).year
            birth_year = recorded - inquiry.age
        phones = {inquiry.inquirer_phone_hash} if inquiry.inquirer_phone_hash else set()
        return cls(
            given=inquiry.given_name,
            father=inquiry.father_name,
            grandfather=inquiry.grandfather_name,
            great_grandfather=inquiry.great_grandfather_name,
            laqab=inquiry.laqab,
            mother=inquiry.mother_name,
            birth_year=birth_year,
            governorate=inquiry.governorate_pcode,
            district=inquiry.district_pcode,
            phone_hashes=frozenset(phones),
        )

    @classmethod
    def from_details(cls, details: CaseDetails, today: date | None = None) -> PersonRecord:
        """A case not saved yet, as typed in the creation form (the duplicate warning)."""
        from ..casework.services import birth_year_key
        from ..identity_documents import DOCUMENT_INDEX
        from ..phones import PHONE_INDEX

        phones = {PHONE_INDEX.of(n) for n in details.phones}
        phones |= {PHONE_INDEX.of(c.phone_e164) for c in details.contacts if c.phone_e164}
        documents = {DOCUMENT_INDEX.of(d.number) for d in details.documents if d.number}
        return cls(
            given=details.given_name,
            father=details.father_name,
            grandfather=details.grandfather_name,
            great_grandfather=details.great_grandfather_name,
            laqab=details.laqab,
            mother=details.mother_name,
            other_names=tuple(n for n in (*details.latin_names, *details.aliases) if n),
            sex=details.sex,
            birth_year=birth_year_key(details, today),
            governorate=details.governorate_pcode,
            district=details.district_pcode,
            phone_hashes=frozenset(h for h in phones if h),
            document_hashes=frozenset(h for h in documents if h),
        )
