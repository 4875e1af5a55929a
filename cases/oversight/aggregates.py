"""The aggregate report: cases by governorate × status × month, with small cells suppressed.

Three missing men from one village identify their families (DOMAIN §6), so this table is made
to leave the organisation (donors, partners, public reports) without singling anyone out:

- a count from 1 to 4 is shown as "<5"; 0 is shown as 0 (an empty cell says nothing about a
  family) and 5 or more exactly;
- a total is shown only when no cell it adds up is suppressed, else "—". A total over visible
  cells only repeats what the table already shows, so no suppressed cell can be recovered by
  subtracting. This hides more totals than strictly needed; it is the simplest rule that is
  plainly correct.

Months are calendar months of the case's creation in UTC (how times are stored); the current
month is included and still growing. Supervisors can see exact figures in the case list anyway;
the suppression protects the report once it has been shared, which is also why downloading it
needs no re-authentication, unlike the case export.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, literal_column, select

from .. import places
from ..auth.models import User
from ..casework.access import visible_cases
from ..casework.forms import LABELS, NOT_KNOWN
from ..casework.models import Case
from ..clock import utcnow
from ..extensions import db
from .exports import spreadsheet_safe

SMALL_CELL = 5  # counts from 1 to SMALL_CELL - 1 are suppressed
SUPPRESSED = "<5"
HIDDEN_TOTAL = "—"
DEFAULT_MONTHS = 12
MAX_MONTHS = 36


@dataclass(frozen=True)
class ReportRow:
    month: str  # "YYYY-MM"
    governorate_pcode: str | None
    governorate: str  # in the reader's language
    cells: tuple[str, ...]  # one per status, in AggregateReport.statuses order, suppressed
    total: str


@dataclass(frozen=True)
class AggregateReport:
    since: date
    months: int
    statuses: tuple[str, ...]
    rows: tuple[ReportRow, ...]
    column_totals: tuple[str, ...]
    grand_total: str


def clamp_months(value: int | None) -> int:
    """The report window asked for, kept within 1 to MAX_MONTHS months."""
    if value is None:
        return DEFAULT_MONTHS
    return min(max(value, 1), MAX_MONTHS)


def first_month(months: int, now: datetime | None = None) -> date:
    """The first day of the earliest month in a window of ``months`` ending with this one."""
    today = (now or utcnow()).date()
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def month_of(column: ColumnElement) -> ColumnElement:
    """``column``'s calendar month as 'YYYY-MM', in the current database's dialect.

    The format is a literal, not a bound parameter: PostgreSQL would otherwise see the
    SELECT's and the GROUP BY's expressions as different and refuse the query.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column)


def monthly_counts(
    user: User, months: int, now: datetime | None = None
) -> dict[tuple[str, str | None, str], int]:
    """{(month, governorate P-code, status): cases created} over the window, in one query."""
    month = month_of(Case.created_at)
    stmt = visible_cases(
        user,
        select(month, Case.governorate_pcode, Case.status, func.count())
        .where(Case.created_at >= first_month(months, now))
        .group_by(month, Case.governorate_pcode, Case.status),
    )
    return {(m, gov, status): n for m, gov, status, n in db.session.execute(stmt)}


def suppress(count: int) -> str:
    """A count as shown in the report: 0, "<5" or the exact number."""
    if 0 < count < SMALL_CELL:
        return SUPPRESSED
    return str(count)


def _total(counts: list[int]) -> str:
    if any(0 < n < SMALL_CELL for n in counts):
        return HIDDEN_TOTAL
    return str(sum(counts))


def aggregate_report(
    user: User, months: int, locale: str, now: datetime | None = None
) -> AggregateReport:
    """The suppressed table for the last ``months`` months, newest month first.

    Rows are the (month, governorate) pairs with at least one case; a pair that is missing
    had none.
    """
    statuses = tuple(LABELS["status"])
    counts = monthly_counts(user, months, now)
    pairs = sorted(
        {(m, gov) for m, gov, _status in counts},
        key=lambda pair: (_reverse(pair[0]), pair[1] is None, pair[1] or ""),
    )
    rows, raw_rows = [], []
    for month, gov in pairs:
        raw = [counts.get((month, gov, status), 0) for status in statuses]
        raw_rows.append(raw)
        rows.append(
            ReportRow(
                month=month,
                governorate_pcode=gov,
                governorate=places.place_name(gov, locale) or (gov or str(NOT_KNOWN)),
                cells=tuple(suppress(n) for n in raw),
                total=_total(raw),
            )
        )
    columns = [[raw[i] for raw in raw_rows] for i in range(len(statuses))]
    return AggregateReport(
        since=first_month(months, now),
        months=months,
        statuses=statuses,
        rows=tuple(rows),
        column_totals=tuple(_total(column) for column in columns),
        grand_total=_total([n for raw in raw_rows for n in raw]),
    )


def _reverse(month: str) -> tuple[int, int]:
    year, _sep, number = month.partition("-")
    return -int(year), -int(number)


def report_table(report: AggregateReport) -> list[list[str]]:
    """The report as rows of text (header, body, totals): what the page and the CSV show."""
    header = [_("Month"), _("Governorate"), _("P-code")]
    header += [str(LABELS["status"][s]) for s in report.statuses] + [_("Total")]
    body = [
        [row.month, row.governorate, row.governorate_pcode or "", *row.cells, row.total]
        for row in report.rows
    ]
    footer = [_("Total"), "", "", *report.column_totals, report.grand_total]
    return [header, *body, footer]


def write_report_csv(report: AggregateReport, out: IO[bytes]) -> None:
    """The suppressed table as CSV (UTF-8 with a byte-order mark, like the case export)."""
    out.write(codecs.BOM_UTF8)
    writer = csv.writer(codecs.getwriter("utf-8")(out), lineterminator="\r\n")
    for row in report_table(report):
        writer.writerow([spreadsheet_safe(text) for text in row])
