"""Case exports: re-authentication, allow-listed columns, formula-injection escaping, records."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from cases.auth.models import Role
from cases.casework.listing import CaseFilter
from cases.casework.models import Case, CaseStatus
from cases.casework.services import DocumentDetails
from cases.extensions import db
from cases.oversight import exports
from cases.oversight.models import ExportRecord

from ..factories import PASSWORD, make_case, make_user

EXPORT_URL = "/oversight/reports/export"
REPORT_URLS = (
    "/oversight/reports/export",
    "/oversight/reports/exports",
    "/oversight/reports/aggregate",
    "/oversight/reports/aggregate.csv",
)
ENGLISH_HEADER = [
    "Reference",
    "Status",
    "Reason for closing",
    "Full name (Arabic)",
    "Latin spellings",
    "Mother's full name",
    "Sex",
    "Age (as recorded)",
    "Year of birth",
    "Governorate",
    "Governorate P-code",
    "District",
    "District P-code",
    "Date of last contact",
    "Caseworker",
    "Created",
    "Latest activity",
]
DANGEROUS_PREFIXES = ["=", "+", "-", "@", "\t", "\r"]


def export(client, fmt: str = "csv", password: str = PASSWORD, query: str = ""):  # noqa: ANN001, ANN201
    # Buffered, so the test client closes the temporary file the way a WSGI server does.
    return client.post(
        EXPORT_URL + query, data={"format": fmt, "password": password}, buffered=True
    )


def csv_rows(response) -> list[list[str]]:  # noqa: ANN001
    assert response.data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def xlsx_sheet(response):  # noqa: ANN001, ANN201
    return load_workbook(io.BytesIO(response.data)).active


def records() -> list[ExportRecord]:
    db.session.expire_all()
    return list(db.session.scalars(select(ExportRecord).order_by(ExportRecord.id)))


def set_status(case: Case, status: str) -> None:
    case.status = status
    db.session.commit()


def evil_owner(prefix: str):  # noqa: ANN201
    """A caseworker whose display name starts like a formula (set directly: the account
    form strips leading whitespace, the export must not rely on that)."""
    owner = make_user("evil", Role.CASEWORKER)
    owner.display_name = prefix + "SUM(A1)"
    db.session.commit()
    return owner


@pytest.fixture
def logged_in(auth, supervisor):  # noqa: ANN001, ANN201
    auth.login(supervisor)
    return supervisor


# --- escaping, as a rule -------------------------------------------------------------------


@pytest.mark.parametrize("prefix", DANGEROUS_PREFIXES + ["＝", " =", "\n+"])
def test_cells_starting_like_a_formula_get_a_quote(prefix: str) -> None:
    assert exports.spreadsheet_safe(prefix + "1+1") == "'" + prefix + "1+1"


@pytest.mark.parametrize("text", ["", "محمد", "Mohammed", "07701234567", "a=b", "1-2", "'quoted"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert exports.spreadsheet_safe(text) == text


# --- the files -----------------------------------------------------------------------------


def test_csv_has_a_bom_and_arabic_names_intact(client, logged_in, caseworker) -> None:
    case = make_case(caseworker)
    response = export(client, "csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = csv_rows(response)
    assert rows[0] == ENGLISH_HEADER
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Reference"] == case.reference
    assert row["Full name (Arabic)"] == "محمد عماد جبار كاظم الجنابي"
    assert row["Mother's full name"] == "فاطمة حسين علي"
    assert row["Latin spellings"] == "Mohammed Imad Jabbar"
    assert row["Status"] == "New"
    assert row["Governorate"] == "Babil"
    assert row["Governorate P-code"] == "IQG07"
    assert row["District P-code"] == "IQG07Q04"
    assert row["Caseworker"] == "Zainab"
    assert row["Age (as recorded)"] == "24"


def test_headers_follow_the_language(client, auth, supervisor, caseworker) -> None:
    make_case(caseworker)
    auth.login(supervisor, lang="ar")
    rows = csv_rows(export(client, "csv"))
    assert rows[0][:4] == ["الرقم المرجعي", "وضع الحالة", "سبب الإغلاق", "الاسم الكامل (بالعربية)"]
    assert rows[1][1] == "جديدة"
    assert "بابل" in rows[1]


def _case_with_everything_private(caseworker) -> Case:  # noqa: ANN001
    return make_case(
        caseworker,
        phones=["+9647709876543"],
        documents=[DocumentDetails("national_id", "199012345678")],
        circumstances="Left from Erbil with the agent Abu Ahmad, 07801112233",
        route="Minsk",
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_columns_are_exactly_the_allow_list_and_no_phone_leaves(
    client, logged_in, caseworker, fmt: str
) -> None:
    _case_with_everything_private(caseworker)
    response = export(client, fmt)
    if fmt == "csv":
        rows = csv_rows(response)
        text = response.data.decode("utf-8-sig")
    else:
        rows = [[c if c is not None else "" for c in r] for r in xlsx_sheet(response).values]
        text = "\n".join(str(c) for r in rows for c in r)
    assert rows[0] == ENGLISH_HEADER
    assert all(len(r) == len(ENGLISH_HEADER) for r in rows)
    # Family contact, his own phone, document number, free text: none of it.
    for secret in ("7701234567", "7709876543", "199012345678", "أم محمد", "Abu Ahmad", "Minsk"):
        assert secret not in text


@pytest.mark.parametrize("prefix", DANGEROUS_PREFIXES)
def test_csv_escapes_every_dangerous_prefix(client, logged_in, caseworker, prefix: str) -> None:
    owner = evil_owner(prefix)
    make_case(
        owner,
        mother_name=prefix + 'HYPERLINK("http://x")',
        latin_names=[prefix + "964 770 123 4567"],
    )
    row = dict(zip(ENGLISH_HEADER, csv_rows(export(client, "csv"))[1], strict=True))
    assert row["Mother's full name"] == "'" + prefix + 'HYPERLINK("http://x")'
    assert row["Latin spellings"] == "'" + prefix + "964 770 123 4567"
    assert row["Caseworker"] == "'" + prefix + "SUM(A1)"


@pytest.mark.parametrize("prefix", DANGEROUS_PREFIXES)
def test_xlsx_escapes_every_dangerous_prefix_and_stores_no_formula(
    client, logged_in, caseworker, prefix: str
) -> None:
    owner = evil_owner(prefix)
    make_case(owner, mother_name=prefix + "1+1", latin_names=[prefix + "9647701234567"])
    sheet = xlsx_sheet(export(client, "xlsx"))
    header = [c.value for c in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))
    # XML reads a stored carriage return back as a line feed; the quote is what matters.
    stored = prefix.replace("\r", "\n")
    assert cells["Mother's full name"].value == "'" + stored + "1+1"
    assert cells["Latin spellings"].value == "'" + stored + "9647701234567"
    assert cells["Caseworker"].value == "'" + stored + "SUM(A1)"
    for cell in (cells["Mother's full name"], cells["Latin spellings"], cells["Caseworker"]):
        assert cell.data_type == "s"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_xlsx_reads_right_to_left_in_arabic_only(client, auth, supervisor, caseworker) -> None:
    make_case(caseworker)
    auth.login(supervisor, lang="ar")
    sheet = xlsx_sheet(export(client, "xlsx"))
    assert sheet.sheet_view.rightToLeft is True
    assert sheet.freeze_panes == "A2"
    assert sheet.cell(2, 4).value == "محمد عماد جبار كاظم الجنابي"
    auth.logout()
    auth.login(supervisor, lang="en")
    assert xlsx_sheet(export(client, "xlsx")).sheet_view.rightToLeft is not True


def test_xlsx_keeps_numbers_and_dates_typed(client, logged_in, caseworker) -> None:
    from datetime import date

    make_case(caseworker, last_contact_date=date(2024, 3, 5), birth_year=1999)
    sheet = xlsx_sheet(export(client, "xlsx"))
    cells = dict(zip([c.value for c in sheet[1]], sheet[2], strict=True))
    assert cells["Year of birth"].value == 1999
    assert cells["Year of birth"].data_type == "n"
    assert cells["Date of last contact"].value.date() == date(2024, 3, 5)
    assert cells["Created"].is_date


# --- re-authentication and the record ------------------------------------------------------


def test_export_page_shows_the_filters_and_asks_for_the_password(
    client, logged_in, caseworker
) -> None:
    set_status(make_case(caseworker), CaseStatus.OPEN)
    make_case(caseworker)
    page = client.get(EXPORT_URL + "?status=open&governorate=IQG07&sort=name")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Open (tracing)" in body
    assert "Babil" in body
    assert "1 case found" in body
    assert 'type="password"' in body
    assert 'action="/oversight/reports/export?' in body
    assert "status=open" in body


def test_wrong_password_shows_the_form_again_and_exports_nothing(
    client, logged_in, caseworker
) -> None:
    make_case(caseworker)
    response = export(client, "csv", password="not my password at all")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert "This is not your password." in body
    assert "Nothing was exported." in body
    assert "محمد" not in body
    assert records() == []


def test_missing_password_exports_nothing(client, logged_in, caseworker) -> None:
    make_case(caseworker)
    response = client.post(EXPORT_URL, data={"format": "csv"})
    assert response.status_code == 200
    assert "Nothing was exported." in response.get_data(as_text=True)
    assert records() == []


def test_unknown_format_exports_nothing(client, logged_in, caseworker) -> None:
    make_case(caseworker)
    response = export(client, "pdf")
    assert response.mimetype == "text/html"
    assert records() == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_right_password_downloads_the_file_and_records_it(
    client, logged_in, caseworker, fmt: str
) -> None:
    for _ in range(3):
        make_case(caseworker)
    response = export(client, fmt)
    assert response.status_code == 200
    assert response.mimetype == exports.MIMETYPES[fmt].split(";")[0]
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(rf"attachment; filename=athar-cases-\d{{8}}-\d{{4}}\.{fmt}", disposition)
    [record] = records()
    assert record.user_id == logged_in.id
    assert record.format == fmt
    assert record.row_count == 3
    assert json.loads(record.filters) == {}


def test_filters_choose_the_exported_cases_and_are_recorded(
    client, logged_in, caseworker, other_caseworker
) -> None:
    opened = [make_case(caseworker) for _ in range(2)]
    for case in opened:
        set_status(case, CaseStatus.OPEN)
    set_status(make_case(other_caseworker), CaseStatus.OPEN)
    make_case(caseworker)  # new: filtered out
    query = f"?status=open&owner={caseworker.id}&q=&age_min=abc&sort=bogus&page=3"
    rows = csv_rows(export(client, "csv", query=query))
    assert sorted(r[0] for r in rows[1:]) == sorted(c.reference for c in opened)
    assert {r[1] for r in rows[1:]} == {"Open (tracing)"}
    [record] = records()
    assert record.row_count == 2
    # Only allow-listed filters that are set; nothing invalid, no paging or sorting.
    assert json.loads(record.filters) == {"owner_id": caseworker.id, "status": ["open"]}


def test_every_list_filter_is_recorded_and_described() -> None:
    names = {f.name for f in dataclasses.fields(CaseFilter)} - {"sort"}
    assert set(exports.RECORDED_FILTERS) == names
    assert set(exports.FILTER_LABELS) == names


def test_dashboard_filters_are_recorded_and_shown(client, logged_in, caseworker) -> None:
    make_case(caseworker)
    query = "?created_from=2020-01-01&created_to=2100-12-31&inactive_days=30"
    assert "No note or status change for (days)" in client.get(EXPORT_URL + query).get_data(
        as_text=True
    )
    export(client, "csv", query=query)
    assert json.loads(records()[0].filters) == {
        "created_from": "2020-01-01",
        "created_to": "2100-12-31",
        "inactive_days": 30,
    }
    body = client.get("/oversight/reports/exports").get_data(as_text=True)
    assert "Opened from" in body
    assert "No note or status change for (days)" in body


def test_export_reads_rows_in_batches(client, logged_in, caseworker, monkeypatch) -> None:
    monkeypatch.setattr(exports, "BATCH_SIZE", 2)
    made = {make_case(caseworker, latin_names=[f"Name {i}"]).reference for i in range(5)}
    rows = csv_rows(export(client, "csv"))
    assert {r[0] for r in rows[1:]} == made
    assert sorted(r[4] for r in rows[1:]) == [f"Name {i}" for i in range(5)]
    assert records()[0].row_count == 5


def test_row_count_matches_a_filter_with_no_case(client, logged_in, caseworker) -> None:
    make_case(caseworker)
    rows = csv_rows(export(client, "csv", query="?status=closed"))
    assert rows == [ENGLISH_HEADER]
    assert records()[0].row_count == 0


def test_export_service_records_in_one_go(app, supervisor, caseworker) -> None:
    make_case(caseworker)
    with app.test_request_context():
        out, record = exports.export_cases(supervisor, CaseFilter(status=["new"]), "csv")
        with out:
            assert out.read().startswith(codecs.BOM_UTF8)
    assert record.row_count == 1
    assert db.session.scalar(select(func.count()).select_from(ExportRecord)) == 1
    with pytest.raises(ValueError), app.test_request_context():
        exports.export_cases(supervisor, CaseFilter(), "pdf")


def test_export_posts_are_rate_limited(app, client, logged_in) -> None:
    app.config["EXPORT_LIMIT"] = "2 per 15 minutes"
    for _ in range(2):
        assert export(client, password="wrong guess").status_code == 200
    assert export(client).status_code == 429
    assert client.get(EXPORT_URL).status_code == 200
    assert records() == []


def test_export_log_lists_who_when_format_filter_rows(client, logged_in, caseworker) -> None:
    for _ in range(2):
        set_status(make_case(caseworker), CaseStatus.OPEN)
    export(client, "xlsx", query=f"?status=open&owner={caseworker.id}")
    page = client.get("/oversight/reports/exports")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Maryam" in body
    assert "XLSX" in body
    assert "Open (tracing)" in body
    assert "Zainab" in body
    assert ">2<" in body


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["caseworker", "admin"])
def test_only_supervisors_reach_reports(request, client, auth, caseworker, role: str) -> None:
    make_case(caseworker)
    auth.login(request.getfixturevalue(role))
    for url in REPORT_URLS:
        assert client.get(url).status_code == 403, url
    assert export(client).status_code == 403
    assert records() == []


def test_supervisors_reach_every_report_page(client, logged_in) -> None:
    for url in REPORT_URLS:
        assert client.get(url).status_code == 200, url


def test_case_list_offers_supervisors_an_export_of_the_filtered_list(
    client, auth, supervisor, caseworker
) -> None:
    auth.login(supervisor)
    body = client.get("/cases/?status=open&governorate=IQG07&page=2").get_data(as_text=True)
    link = re.search(r'href="(/oversight/reports/export\?[^"]*)"', body)
    assert link is not None
    assert "status=open" in link.group(1)
    assert "governorate=IQG07" in link.group(1)
    assert "page=" not in link.group(1)
    auth.logout()
    auth.login(caseworker)
    assert "/oversight/reports/export" not in client.get("/cases/").get_data(as_text=True)
