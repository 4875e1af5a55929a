"""A family's inquiry, on a phone in Arabic, from the start page to news from the caseworker.

The family uses a small Android phone (360x740, touch); the caseworker a desktop browser, in
its own context (own cookies). Between them: the inquiry, the receipt's reference and secret
code, the intake queue, a case, a shareable and an internal note, the family's status check and
the information they add, and the caseworker's alert. Every public page of the journey must fit
the phone's width. Selectors are ids, names, values and classes; expected labels come from the
compiled catalog (see test_case_journey.py), and untranslated ones are listed at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from babel.numbers import format_decimal
from playwright.sync_api import Page, expect

from .conftest import PHONE, LiveServer
from .live import REFERENCE, SECRET, page_width
from .test_case_journey import Labels, expect_language, log_in

GIVEN, FATHER, GRANDFATHER, GREAT_GRANDFATHER, LAQAB = "مصطفى", "عادل", "ناصر", "حمزة", "الجبوري"
FULL_NAME = f"{GIVEN} {FATHER} {GRANDFATHER} {GREAT_GRANDFATHER} {LAQAB}"
MOTHER = "زينب حسين علي"
INQUIRER = "سعاد حسين علي"
TRAVEL_COMPANY = "شركة النورس للسفر والسياحة"
DETAILS = "سافر إلى تركيا في آذار ثم انقطع الاتصال بعد أسبوعين. آخر رسالة كانت من إسطنبول."
SHAREABLE_NOTE = "تواصلنا مع الهلال الأحمر التركي وننتظر ردهم على طلب البحث."
INTERNAL_NOTE = "ملاحظة داخلية: مصدر غير مؤكد يذكر مركز احتجاز قرب أدرنة."
FAMILY_ADDS = "تذكرت أن لديه رقماً تركياً آخر: ٠٥٣٢ ١٢٣ ٤٥٦٧، وكان يعمل في مطعم."


def expect_fits_phone(page: Page) -> None:
    """No sideways scrolling: the page is no wider than the phone's 360px screen."""
    width = page_width(page)
    assert width <= PHONE["viewport"]["width"] + 1, (
        f"{page.url} is {width}px wide on a {PHONE['viewport']['width']}px phone"
    )


def test_family_journey(
    live_server: LiveServer,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], Path],
) -> None:
    t = Labels("ar")
    family = new_page("ar", **PHONE)

    # The start page sends the family to the inquiry form.
    family.goto(f"{live_server.url}/")
    expect_language(family, "ar")
    expect(family.locator("main h1")).to_have_text(
        t("Has your relative gone abroad and stopped answering?")
    )
    start = family.locator('main a.button.primary[href$="/inquiry"]')
    expect(start).to_have_text(t("Tell us about your relative"))
    expect_fits_phone(family)
    screenshot(family, "family-start")
    start.tap()

    # The inquiry form: about the mother who asks, about her son, his journey, her consent.
    expect(family).to_have_url(re.compile(r"/inquiry$"))
    expect(family.locator("main h1")).to_have_text(t("Tell us about your relative"))
    expect_fits_phone(family)
    form = family.locator("form.public-form")
    expect(form.locator('label[for="inquirer_name"]')).to_have_text(t("Your full name"))
    expect(form.locator("#inquirer_phone")).to_have_attribute("inputmode", "tel")
    form.locator("#inquirer_name").fill(INQUIRER)
    form.locator("#inquirer_relationship").select_option(value="mother")
    form.locator("#inquirer_phone").fill("0770 123 4567")
    form.locator("#inquirer_channel").select_option(value="whatsapp")
    form.locator("#given_name").fill(GIVEN)
    form.locator("#father_name").fill(FATHER)
    form.locator("#grandfather_name").fill(GRANDFATHER)
    form.locator("#great_grandfather_name").fill(GREAT_GRANDFATHER)
    form.locator("#laqab").fill(LAQAB)
    form.locator("#mother_name").fill(MOTHER)
    form.locator("#age").fill("24")
    form.locator("#governorate_pcode").select_option(value="IQG07")
    form.locator("#district_pcode").select_option(value="IQG07Q04")
    form.locator("#last_contact_channel").select_option(value="whatsapp")
    form.locator("#destination_country").select_option(value="TR")
    form.locator("#travel_company").fill(TRAVEL_COMPANY)
    form.locator("#details").fill(DETAILS)
    expect(form.locator('label[for="consent_search"]')).to_have_text(
        t("I agree that the organisation uses this information to search for him.")
    )
    form.locator("#consent_search").tap()
    expect(form.locator("#consent_search")).to_be_checked()
    screenshot(family, "family-inquiry-filled")
    send = form.locator("button[type=submit].primary")
    expect(send).to_have_text(t("Send"))
    send.tap()

    # The receipt: the two numbers the family must keep.
    expect(family.locator("main h1")).to_have_text(t("Your inquiry was received"))
    expect(family.locator("#reference")).to_have_text(REFERENCE)
    expect(family.locator("#secret")).to_have_text(SECRET)
    reference = family.locator("#reference").inner_text()
    secret = family.locator("#secret").inner_text()
    expect_fits_phone(family)
    screenshot(family, "family-receipt")

    # The caseworker, at her desk, finds the inquiry in Intake and makes a case of it.
    staff = new_page("ar")
    staff.goto(f"{live_server.url}/login")
    expect_language(staff, "ar")
    log_in(staff, t, "zainab")
    nav = staff.locator("header.top nav")
    intake = nav.locator('a[href$="/intake/"]')
    expect(intake).to_have_text(t("Intake"))
    intake.click()
    expect(staff.locator("main h1")).to_have_text(t("New inquiries from families"))
    row = staff.locator("main table tbody tr", has_text=FULL_NAME)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(INQUIRER)
    screenshot(staff, "caseworker-intake")
    row.locator('a[href*="/intake/"]').click()

    expect(staff.locator("main h1 .code")).to_have_text(reference)
    person = staff.locator('section[aria-labelledby="person-h"]')
    expect(person).to_contain_text(FULL_NAME)
    expect(person).to_contain_text(MOTHER)
    expect(person).to_contain_text(TRAVEL_COMPANY)
    expect(person).to_contain_text(DETAILS)
    expect(person.locator('span[dir="ltr"]')).to_have_text("+964 770 123 4567")
    create = staff.locator('form[action$="/create-case"] button.primary')
    expect(create).to_have_text(t("Create a new case from this inquiry"))
    screenshot(staff, "caseworker-inquiry")
    create.click()

    expect(staff).to_have_url(re.compile(r"/cases/\d+$"))
    case_url = staff.url
    expect(staff.locator(".flash-success")).to_be_visible()
    expect(staff.locator(".case-head h1")).to_have_text(FULL_NAME)
    details = staff.locator("section.details dl")
    expect(details).to_contain_text(MOTHER)
    expect(details).to_contain_text(TRAVEL_COMPANY)
    expect(staff.locator("ul.contacts")).to_contain_text(INQUIRER)
    expect(staff.locator("#timeline li.entry-inquiry_linked")).to_have_count(1)
    screenshot(staff, "caseworker-case")

    # A note the family may read, then one that stays inside the organisation.
    note = staff.locator('section[aria-labelledby="note-h"]')
    for text, visibility in ((SHAREABLE_NOTE, "shareable"), (INTERNAL_NOTE, "internal")):
        note.locator("#body").fill(text)
        note.locator("#visibility").select_option(value=visibility)
        note.locator("button.primary").click()
        entry = staff.locator("#timeline li.entry-note", has_text=text)
        expect(entry).to_have_count(1)
        expect(entry.locator(f".badge.vis-{visibility}")).to_be_visible()
    screenshot(staff, "caseworker-notes")

    # The family checks with the two numbers: a coarse status and the shareable note only.
    family.goto(f"{live_server.url}/check")
    expect(family.locator("main h1")).to_have_text(t("Check an inquiry"))
    expect_fits_phone(family)
    check = family.locator('main form[action$="/check"]')
    expect(check.locator("#reference")).to_have_attribute("inputmode", "numeric")
    check.locator("#reference").fill(reference)
    check.locator("#secret").fill(secret)
    screenshot(family, "family-check")
    button = check.locator("button[type=submit]")
    expect(button).to_have_text(t("Check"))
    button.tap()

    expect(family).to_have_url(re.compile(r"/check/result$"))
    expect_language(family, "ar")
    expect(family.locator("main h1 .code")).to_have_text(reference)
    expect(family.locator("#family-status")).to_have_text(t("Under review"))
    news = family.locator('section[aria-labelledby="news-h"]')
    expect(news.locator("#news-h")).to_have_text(t("News from your caseworker"))
    expect(news.locator("article.family-note")).to_have_count(1)
    expect(news.locator("article.family-note")).to_contain_text(SHAREABLE_NOTE)
    assert INTERNAL_NOTE not in family.content()
    expect_fits_phone(family)
    screenshot(family, "family-status")

    # The family adds what they remembered.
    add = family.locator('main form[action$="/check/add"]')
    expect(add.locator('label[for="body"]')).to_have_text(t("What would you like to add?"))
    add.locator("#body").fill(FAMILY_ADDS)
    add.locator("button[type=submit].primary").tap()
    expect(family).to_have_url(re.compile(r"/check/result$"))
    expect(family.locator(".flash-success")).to_have_text(
        t("Thank you. Your caseworker will see what you added.")
    )
    expect(family.locator("#family-status")).to_have_text(t("Under review"))
    expect_fits_phone(family)
    screenshot(family, "family-added")

    # The caseworker sees it on the timeline, and an alert in the navigation.
    staff.goto(case_url)
    update = staff.locator("#timeline li.entry-family_update")
    expect(update).to_have_count(1)
    expect(update).to_contain_text(FAMILY_ADDS)
    expect(update.locator(".meta")).to_contain_text(t("Information from the family"))
    expect(update.locator(".meta")).to_contain_text(INQUIRER)
    alerts = staff.locator('header.top nav a[href$="/intake/alerts"]')
    expect(alerts).to_contain_text(t("News from families"))
    expect(alerts.locator(".badge")).to_have_text(format_decimal(1, locale="ar"))
    screenshot(staff, "caseworker-family-update")

    # Opening the alert leads to the case and clears the count.
    alerts.click()
    expect(staff.locator("main h1")).to_have_text(t("News from families"))
    item = staff.locator("ul.alerts li", has_text=FULL_NAME)
    expect(item).to_contain_text(t("The family added information"))
    item.locator("button[type=submit]").click()
    expect(staff).to_have_url(re.compile(re.escape(case_url) + "#timeline$"))
    expect(alerts.locator(".badge")).to_have_count(0)

    assert family.e2e_errors == []
    assert staff.e2e_errors == []
    t.assert_all_translated()
