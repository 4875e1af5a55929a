"""The dry-run report: problems stored as codes and parameters, put in words when shown.

A report is read in the language of whoever opens it, so it stores no sentences, only a code
per problem and what the message quotes; the words come from the catalogs at render time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..oversight.exports import spreadsheet_safe

MESSAGES: dict[str, Callable[[dict], str]] = {
    "given_name_missing": lambda p: _("The given name is missing."),
    "too_long": lambda p: _("Too long: at most %(max)s characters.", **p),
    "name_part_too_long": lambda p: _(
        "A part of this name is longer than %(max)s characters.", **p
    ),
    "too_many_name_parts": lambda p: _(
        "This name has more parts than given name, father, grandfather, great-grandfather "
        "and laqab. Put the parts in separate columns."
    ),
    "not_a_date": lambda p: _("Not a date. Write day/month/year, for example 12/03/2023."),
    "two_digit_year": lambda p: _("Write the year with four digits, for example 12/03/2023."),
    "month_day_order": lambda p: _("This reads as month/day/year. Write dates as day/month/year."),
    "no_such_date": lambda p: _("This date does not exist."),
    "birth_in_future": lambda p: _("The date of birth is in the future."),
    "last_contact_in_future": lambda p: _("The date of last contact is in the future."),
    "year_differs_from_date": lambda p: _("The year of birth does not match the date of birth."),
    "year_out_of_range": lambda p: _("Number must be between %(min)s and %(max)s.", **p),
    "age_out_of_range": lambda p: _("Number must be between %(min)s and %(max)s.", **p),
    "not_a_number": lambda p: _("Not a valid integer value."),
    "unknown_sex": lambda p: _(
        "“%(value)s” is not a sex we know. Write male or female (ذكر or أنثى).", **p
    ),
    "unknown_governorate": lambda p: _("“%(value)s” is not a governorate of Iraq we know.", **p),
    "unknown_district": lambda p: _("“%(value)s” is not a district of Iraq we know.", **p),
    "ambiguous_district": lambda p: _(
        "More than one district is called “%(value)s”. Add the governorate.", **p
    ),
    "district_not_in_governorate": lambda p: _("This district is not in the governorate chosen."),
    "unknown_country": lambda p: _("“%(value)s” is not a country we know.", **p),
    "unknown_channel": lambda p: _(
        "“%(value)s” is not a channel we know. Write phone, WhatsApp, Telegram, Facebook or other.",
        **p,
    ),
    "unknown_document_type": lambda p: _("“%(value)s” is not a document type we know.", **p),
    "bad_phone": lambda p: _(
        "“%(value)s” is not a phone number we can call. Example: 0770 123 4567", **p
    ),
    "bad_contact_phone": lambda p: _(
        "“%(value)s” is not a phone number we can call. Example: 0770 123 4567", **p
    ),
    "contact_name_missing": lambda p: _("Give the name of the family contact."),
    "document_number_empty": lambda p: _("A document number needs letters or digits."),
}
REASONS: dict[str, Callable[[], str]] = {
    "name": lambda: _("same name and year of birth or mother"),
    "phone": lambda: _("same phone number"),
    "document": lambda: _("same document number"),
}
# Problems kept in a report; the counts are always complete.
MAX_STORED_PROBLEMS = 200_000


@dataclass
class Report:
    """What a check found. ``problems``: [row, column index or None, code, params];
    ``flags``: [row, reasons, other row or None, case id or None, reference or None]."""

    rows: int = 0
    valid: int = 0
    with_problems: int = 0
    problems: list[list] = field(default_factory=list)
    flags: list[list] = field(default_factory=list)
    header: list[str] = field(default_factory=list)

    @property
    def duplicate_rows(self) -> int:
        return len({flag[0] for flag in self.flags})

    def to_json(self) -> dict:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "with_problems": self.with_problems,
            "problems": self.problems,
            "flags": self.flags,
            "header": self.header,
        }

    @classmethod
    def from_json(cls, data: dict) -> Report:
        return cls(
            data.get("rows", 0),
            data.get("valid", 0),
            data.get("with_problems", 0),
            data.get("problems", []),
            data.get("flags", []),
            data.get("header", []),
        )


def problem_text(code: str, params: dict) -> str:
    """A stored problem in the reader's language."""
    message = MESSAGES.get(code)
    try:
        return message(params) if message else code
    except (KeyError, TypeError, ValueError):
        return code


def reason_text(reasons: list[str]) -> str:
    return ", ".join(REASONS[r]() for r in reasons if r in REASONS)


def column_name(header: list[str], index: int | None) -> str:
    """A column's header, or its letter when the header cell is empty."""
    if index is None:
        return ""
    if 0 <= index < len(header) and header[index]:
        return header[index]
    return column_letter(index)


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def problems_csv(report: Report, header: list[str]) -> bytes:
    """All stored problems as CSV in the reader's language (UTF-8 with BOM, for Excel), every
    cell made inert against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Row"), _("Column"), _("Problem")])
    for row, column, code, params in report.problems:
        writer.writerow(
            [
                row,
                spreadsheet_safe(column_name(header, column)),
                spreadsheet_safe(problem_text(code, params)),
            ]
        )
    return "\ufeff".encode() + out.getvalue().encode()
