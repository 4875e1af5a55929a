"""Case exports for supervisors: allow-listed columns, safe to open in a spreadsheet, recorded.

Minimisation (DOMAIN §6): an export carries what oversight needs to follow cases up (who the
missing man is, where he is from, where his case stands and who holds it) and nothing more.
Family contacts and their phone numbers, the missing man's own phone numbers, identity document
numbers and free-text fields (circumstances, route, notes, which often name third parties) are
never exported: they stay in the case file, behind its access checks. The columns are the
explicit list ``COLUMNS`` below; a new field on ``Case`` is not exported until someone adds it
here on purpose.
"""

from __future__ import annotations

import codecs
import csv
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, tzinfo
from typing import IO, TYPE_CHECKING

from flask_babel import format_date, format_number, get_locale, get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select
from sqlalchemy.orm import load_only, raiseload, selectinload

from .. import places
from ..audit import services as audit
from ..auth.models import User
from ..casework.forms import LABELS
from ..casework.listing import CaseFilter, filtered_cases
from ..casework.models import Case, CaseName
from ..extensions import db
from ..i18n import RTL_LANGUAGES
from .models import ExportRecord

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BATCH_SIZE = 1000  # rows fetched per round trip; 100,000 cases never sit in memory at once

# OWASP "CSV injection": a cell starting with one of these may be run as a formula. Full-width
# forms are included because some spreadsheet locales read them as their ASCII twins.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def spreadsheet_safe(text: str) -> str:
    """``text`` made inert for spreadsheets: a leading = + - @ tab or CR gets a ' before it.

    Also when the trigger follows leading spaces or line breaks, which some spreadsheets skip.
    Families type phone numbers as ``+964…``, so this is routine, not exotic.
    """
    if text[:1] in FORMULA_TRIGGERS or text.lstrip()[:1] in FORMULA_TRIGGERS:
        return "'" + text
    return text


@dataclass(frozen=True)
class _Context:
    """What every row needs, worked out once per export rather than once per cell."""

    locale: str
    zone: tzinfo
    status: Mapping[str, str]
    closure: Mapping[str, str]
    sex: Mapping[str, str]


def _local(moment: datetime | None, zone: tzinfo) -> datetime | None:
    # Stored as naive UTC; shown in the deployment's time zone, like every page.
    return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None) if moment else None


Cell = str | int | date | datetime | None
# (header, value) pairs in file order: the allow-list.
COLUMNS: tuple[tuple[object, Callable[[Case, _Context], Cell]], ...] = (
    (_l("Reference"), lambda c, x: c.reference),
    (_l("Status"), lambda c, x: x.status.get(c.status, c.status)),
    (
        _l("Reason for closing"),
        lambda c, x: x.closure.get(c.closure_reason, c.closure_reason) if c.closure_reason else "",
    ),
    (_l("Full name (Arabic)"), lambda c, x: c.arabic_name),
    (_l("Latin spellings"), lambda c, x: "; ".join(c.latin_names)),
    (_l("Mother's full name"), lambda c, x: c.mother_name or ""),
    (_l("Sex"), lambda c, x: x.sex.get(c.sex, c.sex)),
    (_l("Age (as recorded)"), lambda c, x: c.age),
    (_l("Year of birth"), lambda c, x: c.birth_year),
    (_l("Governorate"), lambda c, x: places.place_name(c.governorate_pcode, x.locale)),
    (_l("Governorate P-code"), lambda c, x: c.governorate_pcode or ""),
    (_l("District"), lambda c, x: places.place_name(c.district_pcode, x.locale)),
    (_l("District P-code"), lambda c, x: c.district_pcode or ""),
    (_l("Date of last contact"), lambda c, x: c.last_contact_date),
    (_l("Caseworker"), lambda c, x: c.owner.display_name if c.owner else ""),
    (_l("Created"), lambda c, x: _local(c.created_at, x.zone)),
    (_l("Latest activity"), lambda c, x: _local(c.last_activity_at, x.zone)),
)

# Only these Case columns are read from the database at all.
_LOADED = (
    Case.reference,
    Case.status,
    Case.closure_reason,
    Case.given_name,
    Case.father_name,
    Case.grandfather_name,
    Case.great_grandfather_name,
    Case.laqab,
    Case.mother_name,
    Case.sex,
    Case.age,
    Case.birth_year,
    Case.governorate_pcode,
    Case.district_pcode,
    Case.last_contact_date,
    Case.owner_id,
    Case.created_at,
    Case.last_activity_at,
)


def export_header() -> list[str]:
    """The column headers in the reader's language."""
    return [str(header) for header, _value in COLUMNS]


def case_rows(user: User, filters: CaseFilter, locale: str) -> Iterator[list[Cell]]:
    """One row per case ``user`` may see that matches ``filters``, in the list's order.

    Rows are fetched ``BATCH_SIZE`` at a time; any relationship not named here (phones,
    documents, family contacts) raises instead of loading, so it cannot leak in by accident.
    """
    stmt = (
        filtered_cases(user, filters)
        .options(
            load_only(*_LOADED),
            selectinload(Case.names).load_only(CaseName.kind, CaseName.name),
            selectinload(Case.owner).load_only(User.display_name),
            raiseload("*"),
        )
        .execution_options(yield_per=BATCH_SIZE)
    )
    context = _Context(
        locale=locale,
        zone=get_timezone(),
        status={k: str(v) for k, v in LABELS["status"].items()},
        closure={k: str(v) for k, v in LABELS["closure"].items()},
        sex={k: str(v) for k, v in LABELS["sex"].items()},
    )
    for case in db.session.scalars(stmt):
        yield [value(case, context) for _header, value in COLUMNS]


def write_csv(header: list[str], rows: Iterable[list[Cell]], out: IO[bytes]) -> int:
    """CSV in UTF-8 with a byte-order mark (so Excel reads Arabic); returns the rows written."""
    out.write(codecs.BOM_UTF8)
    writer = csv.writer(codecs.getwriter("utf-8")(out), lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([_csv_text(value) for value in row])
        count += 1
    return count


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return str(value)


def write_xlsx(
    header: list[str], rows: Iterable[list[Cell]], out: IO[bytes], right_to_left: bool
) -> int:
    """An XLSX workbook written row by row (openpyxl write-only); returns the rows written.

    Every text cell is escaped like the CSV and stored as a string, never as a formula; the
    header row stays in view while scrolling.
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("Cases"))
    sheet.sheet_view.rightToLeft = right_to_left
    sheet.freeze_panes = "A2"
    sheet.append([_xlsx_cell(sheet, h) for h in header])
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
        count += 1
    book.save(out)
    return count


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Cell) -> WriteOnlyCell | Cell:
    if not isinstance(value, str):
        return value  # numbers, dates and times keep their types (openpyxl's date formats)
    value = spreadsheet_safe(value)
    if value.startswith("'"):
        # An escaped cell is also pinned as a string, so no reader could take it for a formula.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    # Passed as a plain value (far cheaper than a cell object): after escaping it cannot start
    # with "=", the only start openpyxl stores as a formula.
    return value


def export_cases(user: User, filters: CaseFilter, fmt: str) -> tuple[IO[bytes], ExportRecord]:
    """Write the matching cases to a temporary file and record the export; the file is rewound.

    The file is complete and its ExportRecord committed (in the transaction that read the
    rows) before a byte is sent, so ``row_count`` is exactly the number of rows in the file,
    and an export that fails half-way leaves neither a record nor a file. The caller closes
    the file (``send_file`` does once the download ends).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    locale = str(get_locale())
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
    try:
        rows = case_rows(user, filters, locale)
        if fmt == "csv":
            count = write_csv(export_header(), rows, out)
        else:
            count = write_xlsx(export_header(), rows, out, locale in RTL_LANGUAGES)
        record = ExportRecord(
            user_id=user.id, format=fmt, filters=filters_to_record(filters), row_count=count
        )
        db.session.add(record)
        audit.record("export", "case_list", actor=user, item_count=count)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        out.close()
        raise
    out.seek(0)
    return out, record


# --- filters as recorded and shown ---------------------------------------------------------

# Every CaseFilter field but the sort order, so a filter added to the list later is recorded
# too. Sorting changes the order of the rows, not which cases left the building.
RECORDED_FILTERS = tuple(f.name for f in fields(CaseFilter) if f.name != "sort")
_DATE_FILTERS = {"contact_from", "contact_to", "created_from", "created_to"}


def filters_to_record(filters: CaseFilter) -> str:
    """The allow-listed filters that are set, as JSON (dates in ISO form)."""
    data = {}
    for name in RECORDED_FILTERS:
        value = getattr(filters, name)
        if value is None or value == "" or value == []:
            continue
        data[name] = value.isoformat() if isinstance(value, date) else value
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def recorded_filters(text: str | None) -> dict:
    """A record's filters back as a dict; anything unreadable counts as no filter."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return (
        {k: v for k, v in data.items() if k in RECORDED_FILTERS} if isinstance(data, dict) else {}
    )


def staff_names(filter_sets: Iterable[Mapping]) -> dict[int, str]:
    """Display names of the caseworkers named in these filters, in one query."""
    ids = {f["owner_id"] for f in filter_sets if isinstance(f.get("owner_id"), int)}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {row.id: row.display_name for row in rows}


FILTER_LABELS = {
    "q": _l("Name"),
    "status": _l("Status"),
    "governorate": _l("Governorate"),
    "district": _l("District"),
    "owner_id": _l("Caseworker"),
    "age_min": _l("Age from"),
    "age_max": _l("Age to"),
    "contact_from": _l("Last contact from"),
    "contact_to": _l("Last contact to"),
    "created_from": _l("Opened from"),
    "created_to": _l("Opened to"),
    "inactive_days": _l("No note or status change for (days)"),
}


def describe_filters(data: Mapping, names: Mapping[int, str]) -> list[tuple[str, str]]:
    """(label, value) pairs in the reader's language for a recorded filter dict."""
    locale = str(get_locale())
    shown = []
    for key, label in FILTER_LABELS.items():
        value = data.get(key)
        if value is None or value == "" or value == []:
            continue
        if key == "status":
            text = _(", ").join(str(LABELS["status"].get(s, s)) for s in value)
        elif key in ("governorate", "district"):
            text = places.place_name(value, locale) or str(value)
        elif key == "owner_id":
            text = names.get(value, f"#{value}")
        elif key in _DATE_FILTERS:
            text = format_date(date.fromisoformat(value))
        elif isinstance(value, int):
            text = format_number(value)
        else:
            text = str(value)
        shown.append((str(label), text))
    return shown
