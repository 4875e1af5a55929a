"""A case from first call to closure, in Arabic (RTL) and in English, through the browser.

Selectors are ids, names, values and classes, never English text, so the same steps run in
both languages. Expected labels come from the compiled catalog (cases/translations), not from
strings copied here: in Arabic every label checked must be translated, and the test lists the
ones that are not (compile first: ``.venv/bin/pybabel compile -d cases/translations``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.support import NullTranslations, Translations
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from cases.casework.models import Case
from cases.extensions import db

from ..factories import PASSWORD
from .conftest import ROOT, LiveServer
from .live import staff_code

CATALOGS = ROOT / "cases" / "translations"
DIRECTION = {"ar": "rtl", "en": "ltr"}
OTHER = {"ar": "en", "en": "ar"}

GIVEN, FATHER, GRANDFATHER, LAQAB = "حيدر", "كاظم", "جاسم", "الخفاجي"
FULL_NAME = f"{GIVEN} {FATHER} {GRANDFATHER} {LAQAB}"
LATIN = "Haidar Kadhim Jassim al-Khafaji"
MOTHER = "فاطمة عبد الله حسن"


class Labels:
    """What the pages should say in one language; English is the catalog's source text."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.untranslated: list[str] = []
        self._catalog: NullTranslations | None = None
        if lang != "en":
            self._catalog = Translations.load(str(CATALOGS), [lang])
            if not isinstance(self._catalog, Translations):
                pytest.fail(
                    f"No compiled {lang} catalog in {CATALOGS}: run "
                    "`.venv/bin/pybabel compile -d cases/translations` first.",
                    pytrace=False,
                )

    def __call__(self, msgid: str, **values: str) -> str:
        text = msgid if self._catalog is None else self._catalog.gettext(msgid)
        if self._catalog is not None and text == msgid and msgid not in self.untranslated:
            self.untranslated.append(msgid)
        return text % values if values else text

    def assert_all_translated(self) -> None:
        assert not self.untranslated, (
            f"{len(self.untranslated)} UI strings shown in the journey are not translated in "
            f"the {self.lang} catalog ({CATALOGS / self.lang / 'LC_MESSAGES'}): "
            + "; ".join(repr(s) for s in self.untranslated)
        )


def expect_language(page: Page, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("html")).to_have_attribute("dir", DIRECTION[lang])


def expect_brand_side(page: Page, lang: str) -> None:
    """The header starts on the right in Arabic and on the left in English."""
    box = page.locator("header.top .brand").bounding_box()
    assert box is not None
    middle = page.viewport_size["width"] / 2
    if DIRECTION[lang] == "rtl":
        assert box["x"] > middle, f"brand at x={box['x']}: not on the right in RTL"
    else:
        assert box["x"] + box["width"] < middle, f"brand at x={box['x']}: not on the left"


def expect_at_reading_start(page: Page, value: str, lang: str) -> None:
    """A Latin value in an Arabic page still lines up with its label, not the far edge."""
    cell = page.locator("section.details dd", has=page.locator("span[dir=ltr]", has_text=value))
    text, cell = cell.locator("span[dir=ltr]").bounding_box(), cell.bounding_box()
    assert text is not None and cell is not None
    if DIRECTION[lang] == "rtl":
        assert abs((text["x"] + text["width"]) - (cell["x"] + cell["width"])) < 2, (text, cell)
    else:
        assert abs(text["x"] - cell["x"]) < 2, (text, cell)


def log_in(page: Page, t: Labels, username: str, server: LiveServer | None = None) -> None:
    """Log in; for an account with two-factor authentication (pass ``server``), type its code."""
    form = page.locator('main form[action$="/login"]')
    expect(form.locator("button.primary")).to_have_text(t("Log in"))
    form.locator("#username").fill(username)
    form.locator("#password").fill(PASSWORD)
    form.locator("button.primary").click()
    expect(page).to_have_url(re.compile(r"/(cases/|login/code)$"))
    if page.url.endswith("/login/code"):
        assert server is not None, f"{username} uses two-factor authentication: pass the server"
        code_form = page.locator('main form[action$="/login/code"]')
        code_form.locator("#code").fill(staff_code(server, username))
        code_form.locator("button.primary").click()
    expect(page).to_have_url(re.compile(r"/cases/$"))


def log_out(page: Page, t: Labels) -> None:
    button = page.locator('header.top form[action$="/logout"] button[type=submit]')
    expect(button).to_have_text(t("Log out"))
    button.click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator(".flash")).to_have_text(t("You have logged out."))


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_case_journey(
    lang: str,
    live_server: LiveServer,
    new_page: Callable[[str], Page],
    screenshot: Callable[[Page, str], Path],
) -> None:
    t = Labels(lang)
    page = new_page(lang)

    # The browser's language picks the page language; the switch flips it and back.
    page.goto(f"{live_server.url}/login")
    expect_language(page, lang)
    expect(page.locator("main h1")).to_have_text(t("Log in"))
    expect_brand_side(page, lang)
    screenshot(page, "login")
    page.locator(f'header.top button[name=lang][value="{OTHER[lang]}"]').click()
    expect_language(page, OTHER[lang])
    page.locator(f'header.top button[name=lang][value="{lang}"]').click()
    expect_language(page, lang)
    expect(page).to_have_url(re.compile(r"/login\??$"))

    # The caseworker logs in and opens a new case through the form.
    log_in(page, t, "zainab")
    expect_language(page, lang)
    nav = page.locator("header.top nav")
    expect(nav.locator('a[href$="/cases/"]')).to_have_text(t("Cases"))
    expect(nav.locator('a[href$="/cases/new"]')).to_have_text(t("New case"))
    nav.locator('a[href$="/cases/new"]').click()
    expect(page.locator("main h1")).to_have_text(t("New case"))
    expect(page.locator('label[for="given_name"]')).to_have_text(t("Given name"))

    form = page.locator("form.case-form")
    form.locator("#given_name").fill(GIVEN)
    form.locator("#father_name").fill(FATHER)
    form.locator("#grandfather_name").fill(GRANDFATHER)
    form.locator("#laqab").fill(LAQAB)
    form.locator("#latin_names").fill(LATIN)
    form.locator("#mother_name").fill(MOTHER)
    form.locator("#age").fill("23")
    form.locator("#governorate_pcode").select_option(value="IQG07")
    form.locator("#district_pcode").select_option(value="IQG07Q04")
    form.locator("#phones").fill("0770 123 4567")
    form.locator("#last_contact_channel").select_option(value="whatsapp")
    screenshot(page, "new-case-filled")
    submit = form.locator("button[type=submit].primary")
    expect(submit).to_have_text(t("Save case"))
    submit.click()
    page.wait_for_url(re.compile(r"/cases/(\d+|new)$"))
    if page.url.endswith("/cases/new"):
        # The other language's run already recorded this man: the form warns before saving,
        # with what was typed kept, and saves when told it is a different person.
        expect(page.locator("#save-anyway")).to_be_visible()
        expect(form.locator("#given_name")).to_have_value(GIVEN)
        screenshot(page, "possible-duplicate")
        page.locator("#save-anyway").click()

    # The case page: name, details, status New.
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    case_id = int(re.search(r"/cases/(\d+)$", page.url).group(1))
    expect_language(page, lang)
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".case-head h1")).to_have_text(FULL_NAME)
    head = page.locator(".case-head")
    expect(head.locator(".badge.status-new")).to_have_text(t("New"))
    details = page.locator("section.details dl")
    expect(details).to_contain_text(LATIN)
    expect(details).to_contain_text(MOTHER)
    expect(details).to_contain_text("+964 770 123 4567")
    expect(details).to_contain_text(t("WhatsApp"))
    expect_at_reading_start(page, LATIN, lang)
    expect(page.locator("#details-h")).to_have_text(t("The missing person"))
    expect_brand_side(page, lang)
    screenshot(page, "case-created")

    # A note the family may be told about.
    note = page.locator('section[aria-labelledby="note-h"]')
    expect(note.locator("#note-h")).to_have_text(t("Add a note"))
    note_text = f"اتصلت الأم: آخر رسالة منه عبر واتساب ({lang})"
    note.locator("#body").fill(note_text)
    note.locator("#kind").select_option(value="call")
    note.locator("#visibility").select_option(value="shareable")
    expect(note.locator("button.primary")).to_have_text(t("Add note"))
    note.locator("button.primary").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}#timeline$"))
    timeline = page.locator("#timeline")
    expect(timeline.locator("#timeline-h")).to_have_text(t("Timeline"))
    entry = timeline.locator("li.entry-note", has_text=note_text)
    expect(entry).to_have_count(1)
    expect(entry.locator(".badge.vis-shareable")).to_have_text(t("Shareable with the family"))
    screenshot(page, "note-added")

    # New -> Open (tracing), straight away.
    status = page.locator('section[aria-labelledby="status-h"]')
    expect(status.locator("#status-h")).to_have_text(t("Change status"))
    status.locator('select[name="to_status"]').select_option(value="open")
    status.locator('textarea[name="reason"]').fill("بدأ البحث في سجلات المستشفيات")
    status.locator("button[type=submit]").click()
    expect(head.locator(".badge.status-open")).to_have_text(t("Open (tracing)"))
    expect(timeline.locator("li.entry-status", has_text="بدأ البحث")).to_have_count(1)
    screenshot(page, "status-open")

    # Closing needs a supervisor: the request waits.
    status.locator('select[name="to_status"]').select_option(value="closed")
    status.locator('select[name="closure_reason"]').select_option(value="family_withdrew")
    status.locator('textarea[name="reason"]').fill("طلبت العائلة إيقاف البحث")
    status.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"))
    expect(head.locator(".badge.pending")).to_have_text(t("Waiting for a supervisor"))
    expect(page.locator("h2#pending-h")).to_have_text(t("Waiting for a supervisor"))
    expect(head.locator(".badge.status-open")).to_be_visible()
    expect(status).to_have_count(0)
    expect(timeline.locator("li.entry-approval_requested")).to_have_count(1)
    screenshot(page, "closure-requested")

    log_out(page, t)
    expect_language(page, lang)

    # The supervisor finds the request in Approvals and approves it with a comment.
    log_in(page, t, "maryam", live_server)
    approvals_link = page.locator('header.top nav a[href$="/oversight/approvals"]')
    expect(approvals_link).to_have_text(t("Approvals"))
    approvals_link.click()
    expect_language(page, lang)
    expect(page.locator("main h1")).to_have_text(t("Waiting for your decision"))
    row = page.locator("main table tbody tr", has=page.locator(f'a[href$="/cases/{case_id}"]'))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(FULL_NAME)
    expect(row).to_contain_text(t("Family withdrew"))
    screenshot(page, "approvals")
    row.locator(f'a[href$="/cases/{case_id}"]').click()

    expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"))
    pending = page.locator('section[aria-labelledby="pending-h"]')
    comment = "تمت مراجعة الطلب مع العائلة هاتفياً"
    pending.locator('textarea[name="comment"]').fill(comment)
    approve = pending.locator('button[formaction$="/approve"]')
    expect(approve).to_have_text(t("Approve"))
    screenshot(page, "decision")
    approve.click()

    expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"))
    expect_language(page, lang)
    head = page.locator(".case-head")
    expect(head.locator(".badge.status-closed")).to_have_text(t("Closed"))
    expect(head).to_contain_text(t("Family withdrew"))
    expect(page.locator(".badge.pending")).to_have_count(0)
    expect(page.locator('section[aria-labelledby="pending-h"]')).to_have_count(0)
    decided = page.locator("#timeline li.entry-approval_decided")
    expect(decided).to_have_count(1)
    expect(decided).to_contain_text(comment)
    expect(decided.locator(".meta")).to_contain_text(t("Approved"))
    closed = page.locator("#timeline li.entry-status").first  # newest first
    expect(closed.locator("strong")).to_have_text(t("Closed"))
    expect(closed).to_contain_text(t("approved by a supervisor"))
    expect_brand_side(page, lang)
    screenshot(page, "case-closed")

    assert page.e2e_errors == []
    t.assert_all_translated()


def test_invalid_phone_keeps_the_form(
    live_server: LiveServer,
    new_page: Callable[[str], Page],
    screenshot: Callable[[Page, str], Path],
) -> None:
    t = Labels("ar")
    page = new_page("ar")
    page.goto(f"{live_server.url}/login")
    expect_language(page, "ar")
    log_in(page, t, "zainab")

    marker = "سرمد"
    page.goto(f"{live_server.url}/cases/new")
    form = page.locator("form.case-form")
    form.locator("#given_name").fill(marker)
    form.locator("#father_name").fill(FATHER)
    form.locator("#phones").fill("12ab")
    form.locator("button[type=submit].primary").click()

    expect(page).to_have_url(re.compile(r"/cases/new$"))
    expect_language(page, "ar")
    phones = page.locator("#phones")
    field = page.locator(".field.has-error", has=phones)
    expect(field).to_have_count(1)
    error = field.locator("#phones-error-1.error")
    expect(error).to_have_text(
        t("“%(value)s” is not a phone number we can call. Example: 0770 123 4567", value="12ab")
    )
    expect(phones).to_have_attribute("aria-invalid", "true")
    expect(phones).to_have_attribute("aria-describedby", re.compile(r"\bphones-error-1\b"))
    summary = page.locator(".error-summary")
    expect(summary.locator("h2")).to_have_text(t("Please check these fields"))
    expect(summary.locator("a[href='#phones']")).to_have_count(1)
    expect(page.locator(".flash-error")).to_have_text(
        t("Some fields need attention. Nothing was saved yet.")
    )
    assert page.locator("#given_name").input_value() == marker
    assert page.locator("#father_name").input_value() == FATHER
    assert phones.input_value() == "12ab"
    screenshot(page, "invalid-phone")

    with live_server.app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Case).where(Case.given_name == marker)
        )
    assert count == 0
    page.goto(f"{live_server.url}/cases/?q={marker}")
    expect(page.locator("table.cases")).to_have_count(0)
    assert page.e2e_errors == []
    t.assert_all_translated()
