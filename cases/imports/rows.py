"""One spreadsheet row checked by the case form's rules and turned into CaseDetails.

The rules are the form's (cases.casework.forms.CaseForm): the same required given name, the
same length limits (read from the form's own validators, so the two cannot drift apart), the
same phone check (cases.phones), the same places, dates and ranges. They are applied here
without building a WTForms form per row, which would cost about a millisecond a row. A row
with any problem is not imported at all: nothing is silently cut or dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache

import phonenumbers
from wtforms.validators import Length, NumberRange

from ..casework.forms import CaseForm, ContactForm, DocumentForm
from ..casework.models import DocumentType, Sex
from ..casework.services import CaseDetails, ContactDetails, DocumentDetails, birth_year_key
from ..identity_documents import DOCUMENT_INDEX
from ..matching.normalize import normalize_arabic
from ..phones import PhoneError, to_e164
from . import values
from .values import CellProblem, text_of


def _form_max(unbound) -> int:  # noqa: ANN001
    return next(v.max for v in unbound.kwargs.get("validators", ()) if isinstance(v, Length))


def _form_range(unbound) -> tuple[int, int]:  # noqa: ANN001
    check = next(v for v in unbound.kwargs["validators"] if isinstance(v, NumberRange))
    return check.min, check.max


# Length limits of the case form, by import field.
LIMITS = {
    "given_name": _form_max(CaseForm.given_name),
    "father_name": _form_max(CaseForm.father_name),
    "grandfather_name": _form_max(CaseForm.grandfather_name),
    "great_grandfather_name": _form_max(CaseForm.great_grandfather_name),
    "laqab": _form_max(CaseForm.laqab),
    "full_name": _form_max(CaseForm.name_as_entered),
    "mother_name": _form_max(CaseForm.mother_name),
    "latin_name": _form_max(CaseForm.latin_names),
    "alias": _form_max(CaseForm.aliases),
    "phone": _form_max(CaseForm.phones),
    "locality": _form_max(CaseForm.locality),
    "route": _form_max(CaseForm.route),
    "travel_company": _form_max(CaseForm.travel_company),
    "last_known_location": _form_max(CaseForm.last_known_location),
    "circumstances": _form_max(CaseForm.circumstances),
    "distinguishing_marks": _form_max(CaseForm.distinguishing_marks),
    "document_number": _form_max(DocumentForm.number),
    "passport_number": _form_max(DocumentForm.number),
    "national_id_number": _form_max(DocumentForm.number),
    "civil_id_number": _form_max(DocumentForm.number),
    "contact_name": _form_max(ContactForm.name),
    "contact_relationship": _form_max(ContactForm.relationship),
    "contact_phone": _form_max(ContactForm.phone),
}
YEAR_RANGE = _form_range(CaseForm.birth_year)
AGE_RANGE = _form_range(CaseForm.age)
_TEXT_FIELDS = (
    "locality",
    "route",
    "travel_company",
    "last_known_location",
    "circumstances",
    "distinguishing_marks",
)
_PART_FIELDS = ("given_name", "father_name", "grandfather_name", "great_grandfather_name", "laqab")
_DOCUMENT_COLUMNS = {
    "passport_number": DocumentType.PASSPORT,
    "national_id_number": DocumentType.NATIONAL_ID,
    "civil_id_number": DocumentType.CIVIL_ID,
}
# Several numbers or names in one cell: one per line, or separated like lists usually are.
_PHONE_SEPARATORS = re.compile(r"[\n\r,;/،؛|]+")
_LINES = re.compile(r"[\n\r]+")


@dataclass
class Problem:
    column: int | None  # index in the header; None for the row as a whole
    code: str
    params: dict = field(default_factory=dict)


@dataclass
class CheckedRow:
    number: int  # the spreadsheet's row number
    details: CaseDetails | None
    problems: list[Problem]
    recorded_on: date | None = None  # when an age was given: the day it is dated


# --- names -------------------------------------------------------------------------------------

_JOIN_NEXT = frozenset({"عبد", "ابو", "abd", "abdul", "abdel", "abu", "abo"})
_JOIN_PREVIOUS = frozenset({"الدين", "الله"})
_NOT_LAQAB = frozenset({"الياس", "الهام", "اليسع"})


def split_full_name(text: str) -> list[str]:
    """The parts of a full name as written: compounds stay one part (عبد الأمير, أبو علي,
    نور الدين, عبد الله; "Abdul Rahman"), as the matching keys treat them."""
    words = text.split()
    keys = [_normalized(w) for w in words]
    joined: list[list[str]] = []
    for word, key in zip(words, keys, strict=True):
        if key in _JOIN_PREVIOUS and joined:
            joined[-1].append(word)
        else:
            joined.append([word])
    groups: list[str] = []
    carry: list[str] = []
    for group in joined:
        if len(group) == 1 and _normalized(group[0]) in _JOIN_NEXT:
            carry.extend(group)
            continue
        groups.append(" ".join([*carry, *group]))
        carry = []
    if carry:
        groups.append(" ".join(carry))
    return groups


_normalized = lru_cache(maxsize=100_000)(normalize_arabic)


def _is_laqab(part: str) -> bool:
    key = _normalized(part)
    return (key.startswith("ال") or key.startswith("ال ")) and key not in _NOT_LAQAB


# --- phones ----------------------------------------------------------------------------------

_IQ_MOBILE_SHAPE = re.compile(r"(?:\+964|00964|0)?(7[0-9]{9})")
_SEPARATORS = str.maketrans(
    {" ": None, "-": None, "(": None, ")": None, "\u00a0": None, ".": None}
    | {0x0660 + i: str(i) for i in range(10)}
    | {0x06F0 + i: str(i) for i in range(10)}
)


@cache
def _iq_mobile_pattern() -> re.Pattern:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("IQ")
    return re.compile(metadata.mobile.national_number_pattern)


def phone_e164(raw: str) -> str:
    """``to_e164`` with a fast path for the Iraqi mobiles that fill spreadsheets.

    A number shaped like an Iraqi mobile whose national part matches phonenumbers' own mobile
    pattern for Iraq is valid there, so its E.164 form is +964 and that part: what to_e164
    returns, in a tenth of the time (tests compare the two). Anything else goes to to_e164.
    """
    compact = raw.translate(_SEPARATORS)
    if (m := _IQ_MOBILE_SHAPE.fullmatch(compact)) and _iq_mobile_pattern().fullmatch(m.group(1)):
        return "+964" + m.group(1)
    return to_e164(raw)


# --- the row ---------------------------------------------------------------------------------


class _Row:
    """The cells of one row by field, with the problems found so far."""

    def __init__(self, cells: list, columns: dict[str, list[int]]) -> None:
        self.cells = cells
        self.columns = columns
        self.problems: list[Problem] = []

    def raw(self, key: str) -> tuple[int | None, object]:
        """(column, value) of a single-column field; (None, None) when not mapped or empty."""
        for index in self.columns.get(key, ()):
            value = self.cells[index] if index < len(self.cells) else None
            if value is not None and text_of(value) != "":
                return index, value
        return None, None

    def texts(self, key: str) -> list[tuple[int, str]]:
        """(column, text) of every non-empty cell mapped to ``key``."""
        found = []
        for index in self.columns.get(key, ()):
            value = self.cells[index] if index < len(self.cells) else None
            if value is not None and (text := text_of(value)):
                found.append((index, text))
        return found

    def text(self, key: str, limit_key: str | None = None) -> str | None:
        column, value = self.raw(key)
        if column is None:
            return None
        text = text_of(value)
        limit = LIMITS.get(limit_key or key)
        if limit is not None and len(text) > limit:
            self.problem(column, "too_long", max=limit)
            return None
        return text

    def problem(self, column: int | None, code: str, **params: object) -> None:
        self.problems.append(Problem(column, code, params))

    def read(self, key: str, reader, *args):  # noqa: ANN001, ANN002, ANN202
        column, value = self.raw(key)
        if column is None:
            return None
        try:
            return reader(value, *args)
        except CellProblem as problem:
            self.problems.append(Problem(column, problem.code, problem.params))
            return None


def mapped_columns(mapping: list[str]) -> dict[str, list[int]]:
    columns: dict[str, list[int]] = {}
    for index, key in enumerate(mapping):
        if key:
            columns.setdefault(key, []).append(index)
    return columns


def check_row(number: int, cells: list, columns: dict[str, list[int]], today: date) -> CheckedRow:
    """Check one row and build the CaseDetails the case form would produce from it."""
    row = _Row(cells, columns)
    parts = {key: row.text(key) for key in _PART_FIELDS}
    name_as_entered = row.text("full_name")
    if name_as_entered:
        _fill_parts(row, parts, name_as_entered)
    if not parts["given_name"]:
        column = (columns.get("given_name") or columns.get("full_name") or [None])[0]
        if not any(p.code == "too_long" and p.column == column for p in row.problems):
            row.problem(column, "given_name_missing")

    sex = row.read("sex", values.read_choice, values.SEX, "unknown_sex") or Sex.MALE
    birth_year = birth_month = birth_day = None
    born = row.read("birth_date", values.read_date, True)
    if isinstance(born, int):
        birth_year = born
    elif born is not None:
        birth_year, birth_month, birth_day = born.year, born.month, born.day
        if born > today:
            row.problem(columns["birth_date"][0], "birth_in_future")
    year = row.read("birth_year", values.read_whole_number)
    if year is not None:
        if birth_year is not None and year != birth_year:
            row.problem(columns["birth_year"][0], "year_differs_from_date")
        birth_year = year
    if birth_year is not None and not YEAR_RANGE[0] <= birth_year <= YEAR_RANGE[1]:
        column = (columns.get("birth_year") or columns["birth_date"])[0]
        row.problem(column, "year_out_of_range", min=YEAR_RANGE[0], max=YEAR_RANGE[1])
    elif birth_year is not None and birth_year > today.year and birth_day is None:
        row.problem((columns.get("birth_year") or columns["birth_date"])[0], "birth_in_future")
    age = row.read("age", values.read_whole_number)
    if age is not None and not AGE_RANGE[0] <= age <= AGE_RANGE[1]:
        row.problem(columns["age"][0], "age_out_of_range", min=AGE_RANGE[0], max=AGE_RANGE[1])

    governorate = row.read("governorate", values.read_governorate)
    district = row.read("district", values.read_district, governorate)
    if district and governorate and values.places.district(district).parent != governorate:
        row.problem(columns["district"][0], "district_not_in_governorate")
    departure = row.read("departure_date", values.read_date)
    last_contact = row.read("last_contact_date", values.read_date)
    if last_contact is not None and last_contact > today:
        row.problem(columns["last_contact_date"][0], "last_contact_in_future")
    channel = row.read(
        "last_contact_channel", values.read_choice, values.CHANNELS, "unknown_channel"
    )
    country = row.read("destination_country", values.read_country)
    texts = {key: row.text(key) for key in _TEXT_FIELDS}
    mother = row.text("mother_name")
    latin_names = _lines(row, "latin_name")
    aliases = _lines(row, "alias")
    phones = _phones(row)
    documents = _documents(row)
    contacts = _contact(row)

    if row.problems:
        return CheckedRow(number, None, row.problems)
    district_place = values.places.district(district)
    details = CaseDetails(
        given_name=parts["given_name"],
        father_name=parts["father_name"] or None,
        grandfather_name=parts["grandfather_name"] or None,
        great_grandfather_name=parts["great_grandfather_name"] or None,
        laqab=parts["laqab"] or None,
        name_as_entered=name_as_entered or None,
        mother_name=mother or None,
        sex=sex,
        birth_year=birth_year,
        birth_month=birth_month,
        birth_day=birth_day,
        age=age,
        age_estimated=False,
        governorate_pcode=(district_place.parent if district_place else None) or governorate,
        district_pcode=district,
        locality=texts["locality"] or None,
        departure_date=departure if isinstance(departure, date) else None,
        destination_country=country,
        route=texts["route"] or None,
        travel_company=texts["travel_company"] or None,
        last_contact_date=last_contact,
        last_contact_channel=channel,
        last_known_location=texts["last_known_location"] or None,
        circumstances=texts["circumstances"] or None,
        distinguishing_marks=texts["distinguishing_marks"] or None,
        latin_names=latin_names,
        aliases=aliases,
        phones=phones,
        documents=documents,
        contacts=contacts,
    )
    return CheckedRow(number, details, [], today if age is not None else None)


def _fill_parts(row: _Row, parts: dict[str, str | None], full: str) -> None:
    """Fill the name parts the file has no column (or no value) for from the full name."""
    groups = split_full_name(full)
    laqab = groups.pop() if len(groups) >= 2 and _is_laqab(groups[-1]) else None
    column = row.columns["full_name"][0]
    if len(groups) > 4:
        row.problem(column, "too_many_name_parts")
        return
    split = dict(zip(_PART_FIELDS[:4], groups, strict=False))
    split["laqab"] = laqab
    for key, value in split.items():
        if value and len(value) > LIMITS[key]:
            row.problem(column, "name_part_too_long", max=LIMITS[key])
            return
    for key in _PART_FIELDS:
        if not parts[key] and not row.columns.get(key) and split.get(key):
            parts[key] = split[key]


def _lines(row: _Row, key: str) -> list[str]:
    """The names of one or more columns, one per line as the form takes them."""
    found = row.texts(key)
    lines = [line.strip() for _c, text in found for line in _LINES.split(text) if line.strip()]
    if found and len("\n".join(lines)) > LIMITS[key]:
        row.problem(found[0][0], "too_long", max=LIMITS[key])
        return []
    return lines


def _phones(row: _Row) -> list[str]:
    numbers: list[str] = []
    found = row.texts("phone")
    total = 0
    for column, text in found:
        for part in _PHONE_SEPARATORS.split(text):
            if not (part := part.strip()):
                continue
            total += len(part) + 1
            try:
                numbers.append(phone_e164(part))
            except PhoneError:
                row.problem(column, "bad_phone", value=part[:40])
    if total - 1 > LIMITS["phone"]:
        row.problem(found[0][0], "too_long", max=LIMITS["phone"])
    return numbers


def _documents(row: _Row) -> list[DocumentDetails]:
    documents = []
    for key in ("document_number", *_DOCUMENT_COLUMNS):
        column, value = row.raw(key)
        text = text_of(value) if column is not None else None
        if text and DOCUMENT_INDEX.of(text) is None:
            # The case form's rule: a number of punctuation alone has no lookup key.
            row.problem(column, "document_number_empty")
    if any(p.code == "document_number_empty" for p in row.problems):
        return []
    number = row.text("document_number")
    if number:
        doc_type = row.read(
            "document_type", values.read_choice, values.DOCUMENTS, "unknown_document_type"
        )
        documents.append(DocumentDetails(doc_type or DocumentType.NATIONAL_ID, number))
    for key, doc_type in _DOCUMENT_COLUMNS.items():
        if number := row.text(key):
            documents.append(DocumentDetails(str(doc_type), number))
    return [DocumentDetails(str(d.doc_type), d.number) for d in documents]


def _contact(row: _Row) -> list[ContactDetails]:
    name = row.text("contact_name")
    relationship = row.text("contact_relationship")
    phone_column, _value = row.raw("contact_phone")
    phone_text = row.text("contact_phone")
    phone = None
    if phone_text:
        try:
            phone = phone_e164(phone_text)
        except PhoneError:
            row.problem(phone_column, "bad_contact_phone", value=phone_text[:40])
    if not name and (phone_text or relationship):
        column = (row.columns.get("contact_name") or [phone_column])[0]
        row.problem(column, "contact_name_missing")
        return []
    if not name:
        return []
    return [ContactDetails(name, relationship, phone, "ar")]


def year_key(checked: CheckedRow) -> int | None:
    """The birth-year key the case will store (from the date, or the age dated today)."""
    return birth_year_key(checked.details, checked.recorded_on) if checked.details else None
