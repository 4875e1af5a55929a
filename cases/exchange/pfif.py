"""PFIF (People Finder Interchange Format) as plain dictionaries: parsing and writing.

Pure format code, no database. ``parse`` reads PFIF 1.1 to 1.4 XML, or Google Person Finder's
CSV import form, into records keyed by PFIF 1.4 field names (older names are renamed as Person
Finder does); ``serialise`` writes PFIF 1.4 XML with the fields in the order of the
specification (http://zesty.ca/pfif/1.4).

XML is parsed only with defusedxml and with every DTD refused: a billion-laughs file, an
external entity or an external DTD fails before anything is expanded or fetched.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from flask_babel import lazy_gettext as _l

NAMESPACE_PREFIX = "http://zesty.ca/pfif/"
VERSIONS = ("1.1", "1.2", "1.3", "1.4")
NAMESPACE = NAMESPACE_PREFIX + "1.4"
MIME_TYPE = "application/pfif+xml"

# PFIF 1.4 fields in the order of the specification.
PERSON_FIELDS = (
    "person_record_id",
    "entry_date",
    "expiry_date",
    "author_name",
    "author_email",
    "author_phone",
    "source_name",
    "source_date",
    "source_url",
    "full_name",
    "given_name",
    "family_name",
    "alternate_names",
    "description",
    "sex",
    "date_of_birth",
    "age",
    "home_street",
    "home_neighborhood",
    "home_city",
    "home_state",
    "home_postal_code",
    "home_country",
    "photo_url",
    "profile_urls",
)
NOTE_FIELDS = (
    "note_record_id",
    "person_record_id",
    "linked_person_record_id",
    "entry_date",
    "author_name",
    "author_email",
    "author_phone",
    "source_date",
    "author_made_contact",
    "status",
    "email_of_found_person",
    "phone_of_found_person",
    "last_known_location",
    "text",
    "photo_url",
)
# Names used before 1.4 (home_zip until 1.1, first/last_name, found and other until 1.3).
RENAMED = {
    "home_zip": "home_postal_code",
    "first_name": "given_name",
    "last_name": "family_name",
    "found": "author_made_contact",
    "other": "description",
}
# Fields carrying contact details of the author or of the person found.
CONTACT_FIELDS = frozenset(
    {
        "author_name",
        "author_email",
        "author_phone",
        "email_of_found_person",
        "phone_of_found_person",
    }
)
SEX_VALUES = frozenset({"female", "male", "other"})
STATUS_VALUES = frozenset(
    {"information_sought", "is_note_author", "believed_alive", "believed_missing", "believed_dead"}
)
TIME_FIELDS = ("entry_date", "expiry_date", "source_date")

# Bounds on what one file may make us do.
MAX_BYTES = 20 * 1024 * 1024
MAX_RECORDS = 20_000
MAX_FIELD_CHARS = 20_000
MAX_RECORD_ID = 255

_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?Z$")
_LOCAL_TIME = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})[ T]+(\d{1,2}):(\d\d)(?::(\d\d))?$")
_DATE_OF_BIRTH = re.compile(r"^\d{4}(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?)?$")
_AGE = re.compile(r"^(\d{1,3})(?:-(\d{1,3}))?$")
# What XML 1.0 may carry at all; anything else is dropped on writing (as Person Finder does).
_NOT_XML_CHAR = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
DESCRIPTION_LABEL = "description:"


class PfifFormatError(ValueError):
    """The whole file is refused; ``str(error)`` is a translated message for the user."""


class RecordError(ValueError):
    """One record is unusable; the others are still read. ``str()`` is a short code."""


@dataclass
class PfifDocument:
    """The records of one file, with PFIF 1.4 field names and non-empty, stripped values.

    Notes nested in a person carry that person's id. ``invalid`` lists records that could not
    be used, as (record id or "", kind, code) so the caller can report them.
    """

    version: str
    persons: list[dict[str, str]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    invalid: list[tuple[str, str, str]] = field(default_factory=list)
    # CSV only: template columns the header lacked while its rows had them (``_realigned``).
    restored_columns: list[str] = field(default_factory=list)


# --- times ------------------------------------------------------------------------------


def format_time(value: datetime) -> str:
    """A naive UTC (or aware) datetime as PFIF's ``YYYY-MM-DDThh:mm:ssZ``."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


def parse_time(text: str | None) -> datetime | None:
    """PFIF's UTC time as a naive UTC datetime; None for an empty or malformed value."""
    match = _TIME.match(text or "")
    if not match:
        return None
    try:
        return datetime(*(int(g) for g in match.groups()))
    except ValueError:
        return None


# --- normalising one record ----------------------------------------------------------------


def _description_from_other(other: str) -> str:
    """PFIF 1.3's ``other`` holds "label: value" lines; when its only label is
    "description:", the text after it is 1.4's description. Anything else is kept whole, so
    nothing is lost."""
    lines = []
    labelled = False
    for line in other.splitlines(keepends=True):
        if line.startswith(DESCRIPTION_LABEL):
            labelled = True
            line = line[len(DESCRIPTION_LABEL) :]
            if not line.strip():
                continue
        elif re.match(r"\S+:", line):
            return other
        lines.append(line.strip(" \t"))
    return "".join(lines) if labelled else other


def _rename(record: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in record.items():
        new = RENAMED.get(name, name)
        if name == "other":
            value = _description_from_other(value)
        # A file that carries both names keeps the 1.4 one.
        if new != name and new in record:
            continue
        out[new] = value
    return out


def _check_id(value: str | None) -> str:
    if not value:
        raise RecordError("missing_id")
    domain, slash, local = value.partition("/")
    if not slash or not domain or not local:
        raise RecordError("bad_id")
    if len(value) > MAX_RECORD_ID or _CONTROL.search(value) or " " in value:
        raise RecordError("bad_id")
    return value


def normalise_person(raw: dict[str, str]) -> dict[str, str]:
    """A person record with 1.4 names, stripped non-empty values, checked values.

    Raises RecordError (its message a short code) when the record cannot be used.
    """
    record = _clean(_rename(raw), PERSON_FIELDS)
    _check_id(record.get("person_record_id"))
    if "full_name" not in record:
        # Mandatory since 1.3; older records have only the name parts (Person Finder joins them).
        joined = " ".join(p for p in (record.get("given_name"), record.get("family_name")) if p)
        if not joined:
            raise RecordError("no_name")
        record["full_name"] = joined
    if "sex" in record:
        record["sex"] = record["sex"].lower()
        if record["sex"] not in SEX_VALUES:
            raise RecordError("bad_sex")
    if "date_of_birth" in record and not _DATE_OF_BIRTH.match(record["date_of_birth"]):
        raise RecordError("bad_date_of_birth")
    if "age" in record:
        match = _AGE.match(record["age"])
        if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
            raise RecordError("bad_age")
    if "home_country" in record:
        record["home_country"] = record["home_country"].upper()
    return record


def normalise_note(raw: dict[str, str]) -> dict[str, str]:
    """A note record with 1.4 names, stripped non-empty values, checked values."""
    record = _clean(_rename(raw), NOTE_FIELDS)
    _check_id(record.get("note_record_id"))
    if not record.get("person_record_id"):
        raise RecordError("no_person")
    _check_id(record["person_record_id"])
    if record.get("linked_person_record_id"):
        _check_id(record["linked_person_record_id"])
    if "status" in record:
        record["status"] = record["status"].lower()
        if record["status"] not in STATUS_VALUES:
            raise RecordError("bad_status")
    if "author_made_contact" in record:
        flag = record["author_made_contact"].lower()
        if flag not in ("true", "false", "1", "0"):
            raise RecordError("bad_boolean")
        record["author_made_contact"] = "true" if flag in ("true", "1") else "false"
    return record


def _clean(record: dict[str, str], fields: tuple[str, ...]) -> dict[str, str]:
    """Only the fields of the specification, stripped, empty ones dropped; times checked."""
    out = {}
    for name in fields:
        value = (record.get(name) or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        if not value:
            continue
        if len(value) > MAX_FIELD_CHARS:
            raise RecordError("too_long")
        if name in TIME_FIELDS and parse_time(value) is None:
            raise RecordError("bad_time")
        if name in TIME_FIELDS:
            value = format_time(parse_time(value))  # fractions of a second dropped
        out[name] = value
    return out


def _record_id(raw: dict[str, str], kind: str) -> str:
    key = "person_record_id" if kind == "person" else "note_record_id"
    return (raw.get(key) or "").strip()[:MAX_RECORD_ID]


# --- XML ----------------------------------------------------------------------------------


def _local(tag: str, namespace: str) -> str | None:
    prefix = "{" + namespace + "}"
    return tag[len(prefix) :] if isinstance(tag, str) and tag.startswith(prefix) else None


def _fields(element: Element, namespace: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for child in element:
        name = _local(child.tag, namespace)
        if name is None or name in ("note", "person"):
            continue
        out[name] = "".join(child.itertext())
    return out


def _parse_xml(data: bytes) -> PfifDocument:
    try:
        root = safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise PfifFormatError(
            _l(
                "The file declares a DTD or entities, which PFIF never needs; it was refused "
                "without being read (it may be an attack)."
            )
        ) from error
    except (ParseError, ValueError) as error:
        raise PfifFormatError(_l("The file is not well-formed XML.")) from error
    version = None
    for candidate in VERSIONS:
        if _local(root.tag, NAMESPACE_PREFIX + candidate) == "pfif":
            version = candidate
    if version is None:
        raise PfifFormatError(
            _l("The file is not PFIF: its root must be pfif in a PFIF 1.1 to 1.4 namespace.")
        )
    namespace = NAMESPACE_PREFIX + version
    document = PfifDocument(version=version)
    raw_persons: list[dict[str, str]] = []
    raw_notes: list[dict[str, str]] = []
    for child in root:
        kind = _local(child.tag, namespace)
        if kind == "person":
            person = _fields(child, namespace)
            raw_persons.append(person)
            for nested in child:
                if _local(nested.tag, namespace) == "note":
                    note = _fields(nested, namespace)
                    # A nested note belongs to its person, whatever it says itself.
                    if person.get("person_record_id", "").strip():
                        note["person_record_id"] = person["person_record_id"]
                    raw_notes.append(note)
        elif kind == "note":
            raw_notes.append(_fields(child, namespace))
        _check_count(len(raw_persons) + len(raw_notes))
    _normalise_into(document, raw_persons, raw_notes)
    return document


def _check_count(count: int) -> None:
    if count > MAX_RECORDS:
        raise PfifFormatError(
            _l(
                "The file holds more than %(num)s records; split it into smaller files.",
                num=MAX_RECORDS,
            )
        )


def _normalise_into(
    document: PfifDocument, persons: list[dict[str, str]], notes: list[dict[str, str]]
) -> None:
    for raw in persons:
        try:
            document.persons.append(normalise_person(raw))
        except RecordError as error:
            document.invalid.append((_record_id(raw, "person"), "person", str(error)))
    for raw in notes:
        try:
            document.notes.append(normalise_note(raw))
        except RecordError as error:
            document.invalid.append((_record_id(raw, "note"), "note", str(error)))


# --- Person Finder's CSV ------------------------------------------------------------------


def _csv_time(value: str, offset_hours: float) -> str:
    """CSV times may be local "YYYY-MM-DD hh:mm" (shifted by the preamble's
    time_zone_offset, as Person Finder does) or already PFIF UTC."""
    value = value.strip()
    match = _LOCAL_TIME.match(value)
    if not match:
        return value
    year, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return value
    return format_time(local - timedelta(hours=offset_hours))


# The columns of Person Finder's import template, in order: what a source writes of a person
# (the repository sets entry and expiry dates), then of a note about them (the author and
# source columns are shared by both; the form does not link records).
CSV_ORDER = (
    *(f for f in PERSON_FIELDS if f not in ("entry_date", "expiry_date")),
    *(f for f in NOTE_FIELDS if f not in PERSON_FIELDS and f != "linked_person_record_id"),
)


def _realigned(header: list[str], width: int) -> list[str] | None:
    """The header a row of ``width`` cells was written for, when the file's header dropped
    template columns but its rows kept them.

    Only for a header in template order whose rows are longer by exactly the number of
    template columns it skips: then there is one way to read them, and it is the template's.
    Otherwise None, and the row is refused rather than read shifted.
    """
    if not header or any(name not in CSV_ORDER for name in header):
        return None
    positions = [CSV_ORDER.index(name) for name in header]
    if positions != sorted(positions):
        return None
    span = list(CSV_ORDER[positions[0] : positions[-1] + 1])
    return span if len(span) == width else None


def _csv_rows(text: str) -> tuple[list[dict[str, str]], list[str], str]:
    """The rows under the header (the first row naming person_record_id) as dictionaries,
    the columns the header lacked and the rows needed (see ``_realigned``), and the
    time_zone_offset set in the preamble above it, if any."""
    header: list[str] = []
    settings: dict[str, str] = {}
    setting_names: list[str] = []
    rows: list[dict[str, str]] = []
    restored: list[str] = []
    for row in csv.reader(io.StringIO(text, newline="")):
        if header:
            if not any(cell.strip() for cell in row):
                continue
            names = header
            if len(row) > len(header):
                names = _realigned(header, len(row)) or header
                restored += [n for n in names if n not in header and n not in restored]
            if len(row) > len(names):
                rows.append({"__extra__": "1"})  # more cells than columns: refused below
            else:
                rows.append(dict(zip(names, row, strict=False)))
            _check_count(len(rows))
        elif "person_record_id" in [cell.strip().lower() for cell in row]:
            header = [cell.strip().lower() for cell in row]
        else:
            settings.update(zip(setting_names, row, strict=False))
            setting_names = [cell.strip().lower() for cell in row]
    if not header:
        raise PfifFormatError(
            _l("The file is neither PFIF XML nor a CSV file with a person_record_id column.")
        )
    return rows, restored, settings.get("time_zone_offset", "")


def _complete_id(value: str, domain: str | None) -> str:
    value = value.strip()
    if value and "/" not in value:
        if not domain:
            raise PfifFormatError(
                _l(
                    "The CSV file has record ids without a domain (such as %(id)s): say whose "
                    "records they are with the domain option.",
                    id=value[:40],
                )
            )
        return f"{domain}/{value}"
    return value


def _parse_csv(text: str, domain: str | None) -> PfifDocument:
    rows, restored, offset_text = _csv_rows(text)
    try:
        offset = float(offset_text) if offset_text.strip() else 0.0
    except ValueError as error:
        raise PfifFormatError(_l("The CSV file's time_zone_offset is not a number.")) from error
    persons: list[dict[str, str]] = []
    notes: list[dict[str, str]] = []
    document = PfifDocument(version="csv", restored_columns=restored)
    for row in rows:
        if "__extra__" in row:
            document.invalid.append(("", "row", "columns"))
            continue
        row = {k: v for k, v in row.items() if k}
        for name in list(row):
            if name.endswith("_date"):
                row[name] = _csv_time(row[name] or "", offset)
        for key in ("person_record_id", "note_record_id", "linked_person_record_id"):
            if row.get(key):
                row[key] = _complete_id(row[key], domain)
        renamed = _rename(row)
        # One row is a person and, when it has a note id, a note about them sharing the
        # author and source columns (Person Finder's import form).
        if any((renamed.get(k) or "").strip() for k in ("full_name", "given_name", "family_name")):
            persons.append({k: v for k, v in renamed.items() if k in PERSON_FIELDS})
        if (renamed.get("note_record_id") or "").strip():
            notes.append({k: v for k, v in renamed.items() if k in NOTE_FIELDS})
    _normalise_into(document, persons, notes)
    return document


# --- entry point --------------------------------------------------------------------------


def parse(data: bytes, *, domain: str | None = None) -> PfifDocument:
    """Read a PFIF XML document or a Person Finder CSV import file.

    ``domain`` completes CSV record ids that have none ("1" becomes "domain/1"). Raises
    PfifFormatError for a file that must be refused as a whole; single bad records are listed
    in ``PfifDocument.invalid`` instead.
    """
    if len(data) > MAX_BYTES:
        raise PfifFormatError(
            _l("The file is larger than %(num)s MB.", num=MAX_BYTES // (1024 * 1024))
        )
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise PfifFormatError(_l("The file is empty."))
    if head.startswith(b"<"):
        return _parse_xml(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PfifFormatError(_l("The file is not UTF-8 text.")) from error
    if "\x00" in text:
        raise PfifFormatError(_l("The file is not UTF-8 text."))
    try:
        return _parse_csv(text, domain)
    except csv.Error as error:
        raise PfifFormatError(_l("The CSV file is not formatted correctly.")) from error


# --- writing ------------------------------------------------------------------------------


def _escape(value: str) -> str:
    value = _NOT_XML_CHAR.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _write_record(
    out: list[str], kind: str, record: dict[str, str], fields: tuple[str, ...], indent: str
) -> None:
    out.append(f"{indent}<pfif:{kind}>\n")
    for name in fields:
        value = record.get(name)
        if value:
            out.append(f"{indent}  <pfif:{name}>{_escape(value)}</pfif:{name}>\n")


def serialise(
    persons: Iterable[tuple[dict[str, str], Iterable[dict[str, str]]]],
    notes: Iterable[dict[str, str]] = (),
) -> bytes:
    """PFIF 1.4 XML in UTF-8: each person with its notes nested, then notes on their own.

    Fields are written in the specification's order and empty ones are left out.
    """
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<pfif:pfif xmlns:pfif="{NAMESPACE}">\n']
    for person, person_notes in persons:
        _write_record(out, "person", person, PERSON_FIELDS, "  ")
        for note in person_notes:
            _write_record(out, "note", note, NOTE_FIELDS, "    ")
            out.append("    </pfif:note>\n")
        out.append("  </pfif:person>\n")
    for note in notes:
        _write_record(out, "note", note, NOTE_FIELDS, "  ")
        out.append("  </pfif:note>\n")
    out.append("</pfif:pfif>\n")
    return "".join(out).encode("utf-8")
