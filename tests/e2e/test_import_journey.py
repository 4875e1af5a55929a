"""Issue 7 through the browser: a spreadsheet import, API clients, a partner registry's record.

1. A supervisor uploads a small CSV with Arabic headers. The columns are guessed from the
   headers; the check lists each problem by row and column in the page's language and marks
   the row that looks like a case already recorded; she imports the valid rows, and an imported
   case says which file and row it came from.
2. A supervisor creates an API client for her own account on her account page (her password
   again), sees its token once, uses it and revokes it; the token stops working. An
   administrator sees every client listed, never a token, and revokes another one of hers.
3. A case and an inquiry that a PFIF import created say where they came from.

Each journey runs once in Arabic (RTL) and once in English, one of them on a 360px phone and
the other on a desktop: no page scrolls sideways, axe-core finds nothing serious or critical,
and values in the other script (file names, examples from the file, record ids, tokens) keep
their own direction and order. Selectors are ids, names and classes; expected labels come from
the compiled catalog (see test_case_journey.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from babel import Locale
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from cases.auth.models import Role, User
from cases.casework.models import Case
from cases.exchange import services as exchange
from cases.exchange.models import PfifRecord
from cases.extensions import db

from ..factories import PASSWORD, make_case, make_user
from .conftest import PHONE, VIEWPORT, LiveServer
from .live import DIRECTION, page_width, run_axe, staff_code
from .test_case_journey import CATALOGS, Labels, expect_language, log_in

BLOCKING = ("critical", "serious")
DEVICES = {"desktop": {"viewport": VIEWPORT}, "phone": PHONE}
# Each journey in both languages, on a phone in one and on a desktop in the other.
RUNS = [("ar", "phone"), ("en", "desktop")]
OTHER_RUNS = [("ar", "desktop"), ("en", "phone")]

HEADER = ["الاسم الرباعي", "اسم الأم", "الجنس", "تاريخ الولادة", "المحافظة", "رقم الهاتف"]
GUESSED = ["full_name", "mother_name", "sex", "birth_date", "governorate", "phone"]
FILE_NAME = "قائمة مفقودي بابل 2024.csv"
# Names and phones no other browser test uses, one set per run: the live server's cases are
# shared, and one run's imported cases would otherwise look like duplicates to the next.
PEOPLE = {
    "ar": ("مرتضى", "سلمان", "ياسين", "0781 200 3001"),
    "en": ("مؤمل", "صادق", "هادي", "0781 200 3003"),
}
MOTHER = "فاطمة حسين علي"  # the factory's mother: with the name, what makes a likely duplicate

# The outermost elements that stick out of the window, to name them when a page is too wide.
STICKING_OUT = """() => {
    const width = document.documentElement.clientWidth;
    const out = (el) => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && (box.right > width + 1 || box.left < -1);
    };
    return [...document.body.querySelectorAll("*")]
        .filter((el) => out(el) && !out(el.parentElement) && !el.matches(".skip"))
        .map((el) => `${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 40)}"`);
}"""


def expect_fits(page: Page, step: str) -> None:
    """No sideways scrolling, and nothing serious or critical for axe-core."""
    page.wait_for_load_state()  # the stylesheet too: a link's click returns before it loads
    width = page_width(page)
    viewport = page.viewport_size["width"]
    assert width <= viewport + 1, (
        f"{step}: {width}px wide in a {viewport}px window: {page.evaluate(STICKING_OUT)}"
    )
    blocking = [v for v in run_axe(page) if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core on {step}: " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'])}" for v in blocking
    )


def expect_in_reading_order(items: Locator, lang: str) -> None:
    """Items on one line run from the page's reading start: left to right in English, right to
    left in Arabic, whatever script each item is in."""
    boxes = [items.nth(i).bounding_box() for i in range(items.count())]
    assert len(boxes) > 1 and all(boxes)
    for before, after in zip(boxes, boxes[1:], strict=False):
        if abs(before["y"] - after["y"]) > 2:
            continue  # wrapped to the next line
        if DIRECTION[lang] == "rtl":
            assert after["x"] + after["width"] <= before["x"] + 1, (before, after)
        else:
            assert after["x"] >= before["x"] + before["width"] - 1, (before, after)


def plural(lang: str, singular: str, plural: str, n: int) -> str:
    """A plural message as the page shows it in ``lang``, with the count in its numerals."""
    catalog = Translations.load(str(CATALOGS), [lang]) if lang != "en" else NullTranslations()
    return catalog.ngettext(singular, plural, n) % {"num": format_decimal(n, locale=lang)}


def spreadsheet(given: str, father: str, grandfather: str, phone: str) -> bytes:
    """Five rows: two good ones, two with problems, and one like the case ``existing_case``
    made (row 4: same name and mother)."""
    rows = [
        HEADER,
        [f"علي {father} كاظم جبار الزبيدي", "زينب عباس محمد", "ذكر", "12/03/1998", "بابل", ""],
        ["حسن كريم", "", "ذكر", "31/02/2020", "أتلانتس", ""],
        [f"{given} {father} {grandfather}", MOTHER, "ذكر", "", "بابل", phone],
        ["", "سعاد جاسم", "", "", "", "0770abc"],
        [f"كرار {father} حمزة", "", "male", "1/7/2001", "Babil", phone.replace("0781", "0782")],
    ]
    return "\r\n".join(",".join(row) for row in rows).encode("utf-8")


def existing_case(server: LiveServer, given: str, father: str, grandfather: str) -> str:
    """A case already recorded for the person of the file's fourth row; its reference."""
    with server.app.app_context():
        zainab = db.session.scalar(select(User).filter_by(username="zainab"))
        return make_case(
            zainab,
            given_name=given,
            father_name=father,
            grandfather_name=grandfather,
            great_grandfather_name=None,
            latin_names=[],
            contacts=[],
        ).reference


@pytest.mark.parametrize(("lang", "device"), RUNS)
def test_supervisor_imports_a_spreadsheet(
    lang: str,
    device: str,
    live_server: LiveServer,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], Path],
) -> None:
    t = Labels(lang)
    person = PEOPLE[lang]
    reference = existing_case(live_server, *person[:3])

    page = new_page(lang, bypass_csp=True, **DEVICES[device])
    page.goto(f"{live_server.url}/login")
    expect_language(page, lang)
    log_in(page, t, "maryam", live_server)

    # The menu's "Import" opens the upload page.
    menu = page.locator('header.top nav a[href$="/oversight/imports/"]')
    expect(menu).to_have_text(t("Import"))
    menu.click()
    expect(page.locator("main h1")).to_have_text(t("Import a spreadsheet"))
    expect_fits(page, "upload")
    screenshot(page, "upload")
    form = page.locator('main form[action$="/oversight/imports/upload"]')
    expect(form.locator('label[for="file"]')).to_have_text(t("Spreadsheet (XLSX or CSV)"))
    form.locator("#file").set_input_files(
        {"name": FILE_NAME, "mimeType": "text/csv", "buffer": spreadsheet(*person)}
    )
    form.locator("button.primary").click()

    # The columns, guessed from the Arabic headers, with examples from the file in its order.
    expect(page).to_have_url(re.compile(r"/oversight/imports/\d+/mapping$"))
    batch_url = page.url.removesuffix("/mapping")
    batch_id = int(batch_url.rsplit("/", 1)[1])
    expect(page.locator("main h1")).to_have_text(t("Choose the columns"))
    expect(page.locator("main p.file-name bdi")).to_have_text(FILE_NAME)
    for i, (header, target) in enumerate(zip(HEADER, GUESSED, strict=True)):
        expect(page.locator(f'label[for="column-{i}"]')).to_have_text(header)
        expect(page.locator(f"#column-{i}")).to_have_value(target)
    mothers = page.locator("table.mapping tbody tr").nth(1).locator("ul.samples li")
    expect(mothers).to_have_text(["زينب عباس محمد", MOTHER, "سعاد جاسم"])
    expect_in_reading_order(mothers, lang)
    expect_fits(page, "mapping")
    screenshot(page, "mapping")
    check = page.locator('main form[action$="/mapping"] button.primary')
    expect(check).to_have_text(t("Check every row"))
    check.click()

    # The dry run: counts, each problem by row and column, the row like an existing case.
    expect(page).to_have_url(batch_url)
    expect(page.locator("main h1 bdi.file-name")).to_have_text(FILE_NAME)
    expect(page.locator("main ul.counts li strong")).to_have_text(["5", "3", "2", "1"])
    problems = page.locator('section[aria-labelledby="problems-h"]')
    expect(problems.locator("#problems-h")).to_have_text(t("Problems"))
    expect(problems.locator("tbody tr")).to_have_count(4)
    for row, column, message in (
        ("3", "تاريخ الولادة", t("This date does not exist.")),
        ("5", "الاسم الرباعي", t("The given name is missing.")),
    ):
        expect(problems.locator("tbody tr", has_text=message).locator("td")).to_have_text(
            [row, column, message]
        )
    expect(problems.locator("tbody tr", has_text="أتلانتس").locator("td").first).to_have_text("3")
    duplicates = page.locator('section[aria-labelledby="dups-h"]')
    flagged = duplicates.locator("tbody tr")
    expect(flagged).to_have_count(1)
    expect(flagged.locator("td").first).to_have_text("4")
    expect(flagged.locator("a.ref[dir=ltr]")).to_have_text(reference)
    importing = page.locator('main form[action$="/import"] button.primary')
    expect(importing).to_have_text(
        plural(lang, "Import the %(num)s valid row", "Import the %(num)s valid rows", 3)
    )
    expect(page.locator('main form[action$="/discard"] button')).to_have_text(t("Import nothing"))
    expect_fits(page, "report")
    screenshot(page, "report")
    importing.click()

    # Imported: the batch page says so, and an imported case says where it came from.
    expect(page).to_have_url(batch_url)
    expect(page.locator(".flash-success")).to_have_text(
        plural(lang, "%(num)s case was imported.", "%(num)s cases were imported.", 3)
    )
    expect(page.locator('main form[action$="/import"]')).to_have_count(0)
    expect_fits(page, "imported")
    screenshot(page, "imported")

    # The upload page lists it among the past imports, in a table that scrolls on its own.
    page.locator('header.top nav a[href$="/oversight/imports/"]').click()
    past = page.locator(
        'section[aria-labelledby="past-h"] tbody tr',
        has=page.locator(f'a[href$="/oversight/imports/{batch_id}"]'),
    )
    expect(past.locator("a[dir=auto]")).to_have_text(FILE_NAME)
    expect(past).to_contain_text(t("Imported"))
    expect_fits(page, "past imports")
    screenshot(page, "past-imports")
    with live_server.app.app_context():
        rows = dict(
            db.session.execute(
                select(Case.import_row, Case.id).where(Case.import_batch_id == batch_id)
            ).all()
        )
    assert sorted(rows) == [2, 4, 6]
    page.goto(f"{live_server.url}/cases/{rows[2]}")
    origin = page.locator(f'.case-head a[href$="/oversight/imports/{batch_id}"]')
    expect(origin).to_have_text(t("Imported from %(file)s, row %(row)s", file=FILE_NAME, row="2"))
    expect_fits(page, "imported case")
    screenshot(page, "imported-case")

    assert page.e2e_errors == []
    t.assert_all_translated()


def _new_client(form: Locator, name: str, password: str) -> None:
    """Fill the account page's "New API client" form (read scope) and send it."""
    form.locator("#api-name").fill(name)
    form.locator('input[name="api-scopes"][value="read"]').check()
    form.locator("#api-password").fill(password)
    form.locator("button.primary").click()


@pytest.mark.parametrize(("lang", "device"), OTHER_RUNS)
def test_a_supervisor_makes_uses_and_revokes_her_own_api_client(
    lang: str,
    device: str,
    live_server: LiveServer,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], Path],
) -> None:
    t = Labels(lang)
    supervisor = f"sup_huda_{lang}"
    admin = f"admin_salma_{lang}"
    first, second = f"سجل الهلال الأحمر {lang}", f"خط الهاتف {lang}"
    with live_server.app.app_context():
        make_user(supervisor, Role.SUPERVISOR, "هدى")
        make_user(admin, Role.ADMIN, "سلمى")
    api = f"{live_server.url}/api/v1/cases"

    # The supervisor's own account page (the name in the header) holds her API clients.
    page = new_page(lang, bypass_csp=True, **DEVICES[device])
    page.goto(f"{live_server.url}/login")
    log_in(page, t, supervisor, live_server)
    page.locator("header.top a.who").click()
    expect(page.locator("main h1")).to_have_text(t("My account"))
    expect(page.locator("#api-clients-h")).to_have_text(t("API clients"))
    expect(page.locator("#api-new-h")).to_have_text(t("New API client"))
    expect_fits(page, "account")
    screenshot(page, "account")

    # A wrong password creates nothing and loses nothing typed.
    form = page.locator('main form[action$="/account/api-clients"]')
    _new_client(form, first, "not my password")
    expect(page.locator("#api-password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#api-token")).to_have_count(0)
    expect(form.locator("#api-name")).to_have_value(first)
    expect(form.locator('input[name="api-scopes"][value="read"]')).to_be_checked()
    expect_fits(page, "API client refused")
    screenshot(page, "wrong-password")
    assert [e for e in page.e2e_errors if "HTTP 400: POST" not in e] == []
    page.e2e_errors.clear()

    # With her password: the token, once, left to right in either language; it works.
    form.locator("#api-password").fill(PASSWORD)
    form.locator("button.primary").click()
    expect(page.locator(".flash-success")).to_be_visible()
    shown = page.locator("#api-token")
    expect(shown).to_have_attribute("dir", "ltr")
    expect(page.locator('label[for="api-token"]')).to_have_text(t("Token"))
    token = shown.input_value()
    assert re.fullmatch(r"athar_[\w-]{30,}", token), token
    expect(page.locator(".invitation-link h2 bdi")).to_have_text(first)
    expect_fits(page, "token")
    screenshot(page, "token")
    bearer = {"Authorization": f"Bearer {token}"}
    assert page.request.get(api, headers=bearer).status == 200

    # Back on her page: the client listed by its prefix, never the token; she revokes it.
    page.goto(f"{live_server.url}/account")
    expect(page.locator("#api-token")).to_have_count(0)
    assert token not in page.content()
    row = page.locator("main table tbody tr", has_text=first)
    prefix = row.locator("code.token-prefix").inner_text().rstrip("…")
    assert token.startswith(prefix) and len(prefix) < len(token)
    revoke = row.locator("button[type=submit]")
    expect(revoke).to_have_text(t("Revoke"))
    revoke.click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(row.locator("button[type=submit]")).to_have_count(0)
    expect_fits(page, "revoked by her")
    screenshot(page, "revoked-by-her")
    assert page.request.get(api, headers=bearer).status == 401

    # A second client, for the administrator to revoke.
    _new_client(page.locator('main form[action$="/account/api-clients"]'), second, PASSWORD)
    other_token = page.locator("#api-token").input_value()
    other = {"Authorization": f"Bearer {other_token}"}
    assert page.request.get(api, headers=other).status == 200
    assert page.e2e_errors == []

    # The administrator lists every client, sees no token and no form to make one.
    page = new_page(lang, bypass_csp=True, **DEVICES[device])
    page.goto(f"{live_server.url}/login")
    login = page.locator('main form[action$="/login"]')
    login.locator("#username").fill(admin)
    login.locator("#password").fill(PASSWORD)
    login.locator("button.primary").click()
    code = page.locator('main form[action$="/login/code"]')
    code.locator("#code").fill(staff_code(live_server, admin))
    code.locator("button.primary").click()
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    page.locator('main a[href$="/admin/api-clients"]').click()
    expect(page.locator("main h1")).to_have_text(t("API clients"))
    assert token not in page.content() and other_token not in page.content()
    expect(page.locator("main input[type=password]")).to_have_count(0)
    revoked = page.locator("main table tbody tr", has_text=first)
    expect(revoked.locator("button[type=submit]")).to_have_count(0)
    row = page.locator("main table tbody tr", has_text=second)
    expect(row.locator("bdi").nth(1)).to_have_text("هدى")
    expect_fits(page, "all clients")
    screenshot(page, "all-clients")
    revoke = row.locator("button[type=submit]")
    expect(revoke).to_have_text(t("Revoke"))
    revoke.click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(row.locator("button[type=submit]")).to_have_count(0)
    expect_fits(page, "revoked by the admin")
    screenshot(page, "revoked-by-admin")
    assert page.request.get(api, headers=other).status == 401

    assert page.e2e_errors == []
    t.assert_all_translated()


PFIF = """<?xml version="1.0" encoding="UTF-8"?>
<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4">
  <pfif:person>
    <pfif:person_record_id>registry.example.org/person.{n}</pfif:person_record_id>
    <pfif:source_name>registry.example.org</pfif:source_name>
    <pfif:source_date>2024-05-01T10:00:00Z</pfif:source_date>
    <pfif:full_name>علي هادي حسن
Ali Hadi Hassan</pfif:full_name>
    <pfif:given_name>علي</pfif:given_name>
    <pfif:home_city>الحلة</pfif:home_city>
    <pfif:home_country>IQ</pfif:home_country>
    <pfif:note>
      <pfif:note_record_id>registry.example.org/note.{n}</pfif:note_record_id>
      <pfif:author_name>Registry</pfif:author_name>
      <pfif:source_date>2024-05-02T10:00:00Z</pfif:source_date>
      <pfif:status>believed_missing</pfif:status>
      <pfif:linked_person_record_id>other.example.net/p.{n}</pfif:linked_person_record_id>
      <pfif:text>آخر اتصال من موسكو في نيسان 2024.</pfif:text>
    </pfif:note>
  </pfif:person>
</pfif:pfif>
"""


def import_partner_record(server: LiveServer, n: str, into: str) -> int:
    """A partner's person record with a note, imported into a case or an inquiry; its id."""
    with server.app.app_context():
        maryam = db.session.scalar(select(User).filter_by(username="maryam"))
        exchange.import_pfif(maryam, PFIF.format(n=n).encode(), into)
        stored = db.session.scalar(
            select(PfifRecord).filter_by(record_id=f"registry.example.org/person.{n}")
        )
        return stored.case_id if into == "cases" else stored.inquiry_id


@pytest.mark.parametrize(("lang", "device"), RUNS)
def test_partner_record_shows_where_it_came_from(
    lang: str,
    device: str,
    live_server: LiveServer,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], Path],
) -> None:
    t = Labels(lang)
    case_id = import_partner_record(live_server, f"case-{lang}", "cases")
    inquiry_id = import_partner_record(live_server, f"inquiry-{lang}", "inquiries")
    iraq = Locale.parse(lang).territories["IQ"]

    page = new_page(lang, bypass_csp=True, **DEVICES[device])
    page.goto(f"{live_server.url}/login")
    log_in(page, t, "maryam", live_server)
    for where, address, n in (
        ("case", f"/cases/{case_id}", f"case-{lang}"),
        ("inquiry", f"/intake/{inquiry_id}", f"inquiry-{lang}"),
    ):
        page.goto(live_server.url + address)
        origin = page.locator("section.pfif-origin")
        expect(origin.locator("h2")).to_have_text(t("From a partner registry"))
        expect(origin.locator("p.record-id")).to_contain_text(f"registry.example.org/person.{n}")
        # One isolated line per name, each in its own direction; the country by its name.
        expect(origin.locator("dd").nth(0).locator("bdi")).to_have_text(
            ["علي هادي حسن", "Ali Hadi Hassan"]
        )
        expect(origin.locator("dd").nth(1).locator("bdi")).to_have_text(["الحلة", iraq])
        expect(origin.locator("dd").nth(2).locator("bdi[dir=ltr]")).to_have_text(
            "2024-05-01 10:00 UTC"
        )
        note = origin.locator("li")
        expect(note.locator("bdi.record-id[dir=ltr]")).to_have_text(f"other.example.net/p.{n}")
        expect(note).not_to_contain_text("believed_missing")
        expect_fits(page, f"partner record on the {where} page")
        screenshot(page, f"partner-record-{where}")

    assert page.e2e_errors == []
    t.assert_all_translated()
