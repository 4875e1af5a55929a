"""A supervisor's round, in Arabic (RTL) on a desktop: dashboard, chart, approval, export.

The cases are made straight in the live server's database (like the other journeys' checks);
everything after that goes through the browser. The live server is shared with the other
browser tests, so the cases expected in Babil's list are read from the database at the time,
not counted here. Expected labels come from the compiled catalog (cases/translations):
compile first with ``.venv/bin/pybabel compile -d cases/translations``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
from babel.numbers import format_decimal
from babel.support import Translations
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from cases.auth.models import User
from cases.casework import services
from cases.casework.models import ApprovalRequest, ApprovalState, Case
from cases.extensions import db
from cases.oversight.models import ExportRecord

from ..factories import PASSWORD, make_case
from .conftest import LiveServer
from .test_case_journey import CATALOGS, Labels, expect_brand_side, expect_language, log_in

BABIL, BAGHDAD = "IQG07", "IQG08"  # P-codes (cases/data/iraq_admin2.csv)
ARABIC = re.compile(r"[\u0600-\u06ff]")
COMMENT = "راجعتُ الطلب مع العائلة، يُغلق الملف"


def make_cases(server: LiveServer) -> tuple[list[str], str, int]:
    """Three cases in Babil, two in Baghdad; the second Babil case waits to be closed.

    Returns the Babil references, the Baghdad ones' first and the waiting case's id.
    """
    with server.app.app_context():
        zainab = db.session.scalar(select(User).filter_by(username="zainab"))
        babil = [
            make_case(zainab, given_name=name, governorate_pcode=BABIL, district_pcode=district)
            for name, district in (
                ("عباس", "IQG07Q02"),
                ("مصطفى", "IQG07Q04"),
                ("علي", "IQG07Q01"),
            )
        ]
        baghdad = [
            make_case(zainab, given_name=name, governorate_pcode=BAGHDAD, district_pcode=district)
            for name, district in (("سجاد", "IQG08Q03"), ("كرار", "IQG08Q01"))
        ]
        waiting = babil[1]
        services.change_status(zainab, waiting, "open", "بدأ البحث في سجلات المستشفيات")
        request = services.change_status(
            zainab, waiting, "closed", "طلبت العائلة إيقاف البحث", "family_withdrew"
        )
        assert isinstance(request, ApprovalRequest)
        assert request.state == ApprovalState.PENDING
        return [c.reference for c in babil], baghdad[0].reference, waiting.id


def references_in(server: LiveServer, governorate: str) -> list[str]:
    """Every case the server holds in ``governorate`` (other tests add some too)."""
    with server.app.app_context():
        return sorted(
            db.session.scalars(
                select(Case.reference).where(Case.governorate_pcode == governorate)
            ).all()
        )


def expect_mirrored(svg: Locator) -> None:
    """Bars grow leftwards from a shared right edge, with their labels to their right."""
    frame = svg.bounding_box()
    assert frame is not None
    bars = svg.locator("a")
    assert bars.count() > 0
    rights = []
    for i in range(bars.count()):
        rect = bars.nth(i).locator("rect").bounding_box()
        label = bars.nth(i).locator("text.chart-label").bounding_box()
        assert rect is not None and label is not None
        rights.append(rect["x"] + rect["width"])
        assert label["x"] >= rights[-1] - 1, f"bar {i}: label {label} overlaps the bar {rect}"
    assert rights[0] > frame["x"] + frame["width"] * 0.6, (rights[0], frame)
    assert max(rights) - min(rights) < 1.5, f"bars do not share a right edge: {rights}"


def expect_listed(page: Page, references: list[str], count_line: str) -> None:
    expect(page.locator("p.count")).to_have_text(count_line)
    expect(page.locator("table.cases tbody tr")).to_have_count(len(references))
    shown = page.locator("table.cases tbody a.ref").all_inner_texts()
    assert sorted(shown) == references


def test_supervisor_journey(
    live_server: LiveServer,
    new_page: Callable[[str], Page],
    screenshot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    babil_refs, baghdad_ref, waiting_id = make_cases(live_server)
    t = Labels("ar")
    catalog = Translations.load(str(CATALOGS), ["ar"])

    def cases_found(n: int) -> str:
        text = catalog.ngettext("%(num)s case found", "%(num)s cases found", n)
        return text % {"num": format_decimal(n, locale="ar")}

    page = new_page("ar")

    # The supervisor logs in and opens the dashboard from the menu.
    page.goto(f"{live_server.url}/login")
    expect_language(page, "ar")
    log_in(page, t, "maryam", live_server)
    overview = page.locator('header.top nav a[href$="/oversight/"]')
    expect(overview).to_have_text(t("Overview"))
    overview.click()
    expect(page).to_have_url(re.compile(r"/oversight/$"))
    expect_language(page, "ar")
    expect(page.locator("main h1")).to_have_text(t("Where every case stands"))
    expect(page.locator("svg.chart.bars")).to_have_count(3)
    expect(page.locator("svg.chart.lines")).to_have_count(1)
    governorates = page.locator('figure[aria-labelledby="by-gov-h"]')
    expect(governorates.locator("#by-gov-h")).to_have_text(t("Cases by governorate"))
    babil_bar = governorates.locator(f'svg.chart.bars a[href$="governorate={BABIL}"]')
    expect(babil_bar).to_have_count(1)
    expect(babil_bar.locator("text.chart-label")).to_have_text("بابل")
    # The table under the chart carries the same link, for keyboards and screen readers.
    expect(governorates.locator(f'details.numbers a[href$="governorate={BABIL}"]')).to_have_text(
        "بابل"
    )
    expect_mirrored(page.locator('figure[aria-labelledby="by-status-h"] svg.chart.bars'))
    expect_mirrored(governorates.locator("svg.chart.bars"))
    expect_brand_side(page, "ar")
    screenshot(page, "dashboard")

    # Babil's bar leads to the case list filtered on Babil.
    babil_bar.locator("rect").click()
    expect(page).to_have_url(re.compile(rf"/cases/\?governorate={BABIL}$"))
    list_url = page.url
    expect_language(page, "ar")
    expect(page.locator("#governorate")).to_have_value(BABIL)
    expected = references_in(live_server, BABIL)
    assert set(babil_refs) <= set(expected) and baghdad_ref not in expected
    expect_listed(page, expected, cases_found(len(expected)))
    screenshot(page, "babil-cases")

    # Approvals: the closure request waits; she approves it with a comment.
    approvals = page.locator('header.top nav a[href$="/oversight/approvals"]')
    expect(approvals).to_have_text(t("Approvals"))
    approvals.click()
    expect(page.locator("main h1")).to_have_text(t("Waiting for your decision"))
    row = page.locator("main table tbody tr", has=page.locator(f'a[href$="/cases/{waiting_id}"]'))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(t("Family withdrew"))
    row.locator(f'a[href$="/cases/{waiting_id}"]').click()
    expect(page).to_have_url(re.compile(rf"/cases/{waiting_id}$"))
    pending = page.locator('section[aria-labelledby="pending-h"]')
    pending.locator('textarea[name="comment"]').fill(COMMENT)
    approve = pending.locator('button[formaction$="/approve"]')
    expect(approve).to_have_text(t("Approve"))
    approve.click()
    expect(page).to_have_url(re.compile(rf"/cases/{waiting_id}$"))
    head = page.locator(".case-head")
    expect(head.locator(".badge.status-closed")).to_have_text(t("Closed"))
    expect(head).to_contain_text(t("Family withdrew"))
    decided = page.locator("#timeline li.entry-approval_decided")
    expect(decided).to_have_count(1)
    expect(decided).to_contain_text(COMMENT)
    expect(decided.locator(".meta")).to_contain_text(t("Approved"))
    screenshot(page, "closure-approved")

    # Back on Babil's list, the closed case is still there; export it as XLSX.
    page.goto(list_url)
    expect_listed(page, expected, cases_found(len(expected)))
    waiting_ref = babil_refs[1]
    closed_row = page.locator("table.cases tbody tr", has_text=waiting_ref)
    expect(closed_row.locator(".badge.status-closed")).to_have_text(t("Closed"))
    export_link = page.locator('main a[href*="/oversight/reports/export"]')
    expect(export_link).to_have_text(t("Export these cases"))
    export_link.click()
    expect(page).to_have_url(re.compile(rf"/oversight/reports/export\?governorate={BABIL}$"))
    expect(page.locator("main h1")).to_have_text(t("Export cases"))
    expect(page.locator("main p.count")).to_have_text(cases_found(len(expected)))
    expect(page.locator("main dl.meta dd")).to_have_text(["بابل"])

    downloads = []
    page.on("download", lambda download: downloads.append(download))
    form = page.locator("main form[method=post]")
    download_button = form.locator("button[type=submit].primary")
    expect(download_button).to_have_text(t("Download"))
    expect(form.locator("#format-0")).to_have_value("xlsx")
    expect(form.locator("#format-1")).to_have_value("csv")
    form.locator("#format-0").check()
    form.locator("#password").fill("not my password at all")
    download_button.click()
    expect(page.locator(".error-summary h2")).to_have_text(t("Nothing was exported."))
    expect(page.locator("#password-error-1")).to_have_text(t("This is not your password."))
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("#format-0")).to_be_checked()
    assert downloads == []
    with live_server.app.app_context():
        before = db.session.scalar(select(func.count()).select_from(ExportRecord))

    form.locator("#password").fill(PASSWORD)
    screenshot(page, "export-form")
    with page.expect_download() as info:
        download_button.click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    book = openpyxl.load_workbook(saved)
    sheet = book.active
    assert sheet.sheet_view.rightToLeft is True
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:2] == [t("Reference"), t("Status")], header
    assert t("Governorate") in header and t("Caseworker") in header, header
    assert all(ARABIC.search(h) for h in header), f"header not in Arabic: {header}"
    reference_col, status_col = header.index(t("Reference")), header.index(t("Status"))
    assert sorted(row[reference_col] for row in rows[1:]) == expected
    statuses = {row[reference_col]: row[status_col] for row in rows[1:]}
    assert statuses[waiting_ref] == t("Closed")
    with live_server.app.app_context():
        records = db.session.scalars(select(ExportRecord).order_by(ExportRecord.id)).all()
        assert len(records) == before + 1
        assert (records[-1].format, records[-1].row_count) == ("xlsx", len(expected))

    assert page.e2e_errors == []
    t.assert_all_translated()
