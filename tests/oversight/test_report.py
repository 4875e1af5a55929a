"""The aggregate report: exact counts by governorate × status × month, small cells suppressed."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import update

from cases.casework.models import Case
from cases.extensions import db
from cases.oversight import aggregates

from ..factories import make_case

REPORT_URL = "/oversight/reports/aggregate"
CSV_URL = "/oversight/reports/aggregate.csv"
STATUSES = ["new", "open", "located_alive", "located_detained", "located_deceased", "closed"]


def month_start(months_back: int, now: datetime | None = None) -> date:
    return aggregates.first_month(months_back + 1, now)


def seed(owner, governorate: str | None, status: str, created_at: datetime, n: int) -> None:  # noqa: ANN001
    """``n`` cases of one governorate and status, created at ``created_at``."""
    ids = [
        make_case(owner, governorate_pcode=governorate, district_pcode=None, contacts=[]).id
        for _ in range(n)
    ]
    db.session.execute(
        update(Case).where(Case.id.in_(ids)).values(status=status, created_at=created_at)
    )
    db.session.commit()


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


@pytest.fixture
def dataset(caseworker) -> dict[str, str]:  # noqa: ANN001
    """Babil this month: 7 new, 3 open; Babil last month: 5 new, 5 located alive;
    Basra this month: 1 open; plus an old case outside twelve months."""
    this, last = month_start(0), month_start(1)
    seed(caseworker, "IQG07", "new", at(this), 7)
    seed(caseworker, "IQG07", "open", at(this), 3)
    seed(caseworker, "IQG07", "new", at(last), 5)
    seed(caseworker, "IQG07", "located_alive", at(last), 5)
    seed(caseworker, "IQG02", "open", at(this), 1)
    seed(caseworker, "IQG02", "closed", at(month_start(14)), 2)
    return {"this": this.strftime("%Y-%m"), "last": last.strftime("%Y-%m")}


class TableReader(HTMLParser):
    """The text of each row of the page's report table (thead, tbody and tfoot)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_table = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:  # noqa: ANN001
        if tag == "table" and ("class", "report") in attrs:
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag) -> None:  # noqa: ANN001
        if tag == "table":
            self._in_table = False
        elif self._cell is not None and tag in ("td", "th"):
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data) -> None:  # noqa: ANN001
        if self._cell is not None:
            self._cell.append(data)


def page_table(client, query: str = "") -> list[list[str]]:  # noqa: ANN001
    response = client.get(REPORT_URL + query)
    assert response.status_code == 200
    reader = TableReader()
    reader.feed(response.get_data(as_text=True))
    return reader.rows


def csv_table(client, query: str = "") -> list[list[str]]:  # noqa: ANN001
    response = client.get(CSV_URL + query)
    assert response.status_code == 200
    assert response.data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


# --- the rules, without HTTP ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "shown"), [(0, "0"), (1, "<5"), (2, "<5"), (4, "<5"), (5, "5"), (123, "123")]
)
def test_small_counts_are_suppressed(count: int, shown: str) -> None:
    assert aggregates.suppress(count) == shown


@pytest.mark.parametrize(
    ("asked", "used"), [(None, 12), (0, 1), (-3, 1), (1, 1), (36, 36), (99, 36)]
)
def test_the_window_stays_within_bounds(asked, used) -> None:  # noqa: ANN001
    assert aggregates.clamp_months(asked) == used


def test_window_starts_on_the_first_of_a_month() -> None:
    now = datetime(2025, 3, 15, 10)
    assert aggregates.first_month(1, now) == date(2025, 3, 1)
    assert aggregates.first_month(3, now) == date(2025, 1, 1)
    assert aggregates.first_month(4, now) == date(2024, 12, 1)
    assert aggregates.first_month(36, now) == date(2022, 4, 1)


def test_months_are_bucketed_by_creation_on_this_database(supervisor, caseworker) -> None:
    seed(caseworker, "IQG07", "new", datetime(2025, 3, 31, 23, 59, 59), 1)
    seed(caseworker, "IQG07", "new", datetime(2025, 4, 1, 0, 0, 0), 2)
    seed(caseworker, "IQG07", "new", datetime(2024, 12, 31, 23, 0), 1)
    seed(caseworker, "IQG07", "new", datetime(2024, 11, 30, 23, 0), 1)  # before the window
    counts = aggregates.monthly_counts(supervisor, 6, now=datetime(2025, 5, 10))
    assert counts == {
        ("2025-03", "IQG07", "new"): 1,
        ("2025-04", "IQG07", "new"): 2,
        ("2024-12", "IQG07", "new"): 1,
    }


def test_report_counts_suppression_and_totals(app, supervisor, dataset) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = aggregates.aggregate_report(supervisor, 12, "en")
    assert report.statuses == tuple(STATUSES)
    this, last = dataset["this"], dataset["last"]
    by_row = {(r.month, r.governorate_pcode): r for r in report.rows}
    assert list(by_row) == [(this, "IQG02"), (this, "IQG07"), (last, "IQG07")]
    # Babil this month: 7 new (exact), 3 open (suppressed), so its total is hidden.
    assert by_row[this, "IQG07"].cells == ("7", "<5", "0", "0", "0", "0")
    assert by_row[this, "IQG07"].total == "—"
    assert by_row[this, "IQG07"].governorate == "Babil"
    # Basra this month: a single open case.
    assert by_row[this, "IQG02"].cells == ("0", "<5", "0", "0", "0", "0")
    assert by_row[this, "IQG02"].total == "—"
    # Babil last month: nothing small, so the total shows.
    assert by_row[last, "IQG07"].cells == ("5", "0", "5", "0", "0", "0")
    assert by_row[last, "IQG07"].total == "10"
    # Columns: "new" has no hidden cell (12); "open" has two; the rest are exact.
    assert report.column_totals == ("12", "—", "5", "0", "0", "0")
    assert report.grand_total == "—"


def test_a_longer_window_reaches_older_cases(app, supervisor, dataset) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = aggregates.aggregate_report(supervisor, 24, "en")
    old = [r for r in report.rows if r.month not in dataset.values()]
    assert len(old) == 1
    assert old[0].cells[STATUSES.index("closed")] == "<5"


def test_totals_show_when_nothing_is_suppressed(app, supervisor, caseworker) -> None:
    this = month_start(0)
    seed(caseworker, "IQG07", "new", at(this), 5)
    seed(caseworker, "IQG07", "open", at(this), 6)
    seed(caseworker, None, "open", at(this), 5)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = aggregates.aggregate_report(supervisor, 1, "en")
    assert [r.total for r in report.rows] == ["11", "5"]
    assert report.rows[-1].governorate == "— not known —"
    assert report.column_totals == ("5", "11", "0", "0", "0", "0")
    assert report.grand_total == "16"


# --- the page and its CSV ------------------------------------------------------------------


def test_page_shows_the_suppressed_table(client, auth, supervisor, dataset) -> None:
    auth.login(supervisor)
    this, last = dataset["this"], dataset["last"]
    assert page_table(client) == [
        ["Month", "Governorate", "P-code", "New", "Open (tracing)", "Located alive",
         "Located in detention", "Located deceased", "Closed", "Total"],
        [this, "Al-Basrah", "IQG02", "0", "<5", "0", "0", "0", "0", "—"],
        [this, "Babil", "IQG07", "7", "<5", "0", "0", "0", "0", "—"],
        [last, "Babil", "IQG07", "5", "0", "5", "0", "0", "0", "10"],
        ["Total", "", "", "12", "—", "5", "0", "0", "0", "—"],
    ]  # fmt: skip


def test_csv_matches_the_page(client, auth, supervisor, dataset) -> None:
    auth.login(supervisor)
    for query in ("", "?months=24", "?months=1"):
        assert csv_table(client, query) == page_table(client, query), query


def test_csv_is_a_no_store_attachment(client, auth, supervisor, dataset) -> None:
    auth.login(supervisor)
    response = client.get(CSV_URL + "?months=6")
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith(
        "attachment; filename=athar-report-6m-"
    )


def test_arabic_report_names_governorates_in_arabic(client, auth, supervisor, dataset) -> None:
    auth.login(supervisor, lang="ar")
    rows = page_table(client)
    assert rows[1][1] == "البصرة"
    assert csv_table(client) == rows


@pytest.mark.parametrize(
    ("query", "months"), [("?months=0", 1), ("?months=500", 36), ("?months=x", 12)]
)
def test_bad_windows_fall_back_within_bounds(client, auth, supervisor, query, months) -> None:  # noqa: ANN001
    auth.login(supervisor)
    body = client.get(REPORT_URL + query).get_data(as_text=True)
    assert f'value="{months}"' in body


def test_empty_report_says_so(client, auth, supervisor) -> None:
    auth.login(supervisor)
    body = client.get(REPORT_URL).get_data(as_text=True)
    assert "No case was created in these months." in body
    assert csv_table(client)[-1] == ["Total", "", "", "0", "0", "0", "0", "0", "0", "0"]


def test_cases_just_before_the_window_stay_out(app, supervisor, caseworker) -> None:
    # A case created a moment before the window opens stays out.
    edge = at(month_start(11), 0) - timedelta(seconds=1)
    seed(caseworker, "IQG07", "new", edge, 1)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert aggregates.aggregate_report(supervisor, 12, "en").rows == ()
