"""Every page a family sees, in Arabic, Kurdish (Sorani) and English, on a phone.

The pages: /, /privacy, /inquiry, /check, the receipt after a valid inquiry, the inquiry form
after a failed one (errors shown), and /check/result after a successful check. For each page
and language (chosen with the header's language buttons, as a family would):

* axe-core (node_modules/, from package-lock.json; ``make setup`` runs ``npm ci``) finds no
  "serious" or "critical" violation of its default rules; lesser ones are printed;
* ``<html lang dir>`` match the language, and the page is no wider than the phone;
* in Arabic and Kurdish no text is left in English (untranslated catalog strings);
* everything the network carries for the page (document, stylesheet, anything else, headers
  included, browser cache off) is at most 100 KB: families pay for mobile data.

And the forms work without JavaScript: send an inquiry, check it, add information.
bench/public_pages.py prints the same figures as a table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import PHONE, LiveServer
from .live import (
    AXE,
    DIRECTION,
    PUBLIC_LANGUAGES,
    PUBLIC_PAGES,
    Transfer,
    by_impact,
    choose_language,
    english_text,
    fill_check,
    fill_inquiry,
    open_public_page,
    page_width,
    run_axe,
    send_check,
    send_inquiry,
)

BUDGET_BYTES = 100_000
BLOCKING = ("critical", "serious")
EVERY_PAGE = [
    pytest.param(lang, name, id=f"{lang}-{name}")
    for lang in PUBLIC_LANGUAGES
    for name in PUBLIC_PAGES
]


def switch_from(lang: str) -> str:
    """The browser's language: another one, so the header's buttons always switch."""
    return "en" if lang != "en" else "ar"


@pytest.fixture(scope="session")
def axe_installed() -> None:
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: run `make setup` (it runs `npm ci` for package-lock.json; "
            "Debian: apt-get install npm).",
            pytrace=False,
        )


@pytest.mark.usefixtures("axe_installed")
@pytest.mark.parametrize(("lang", "name"), EVERY_PAGE)
def test_accessible_in_its_language(
    lang: str,
    name: str,
    live_server: LiveServer,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], Path],
) -> None:
    # bypass_csp: the app's CSP rightly refuses injected scripts, axe-core is one.
    page = new_page(switch_from(lang), bypass_csp=True, **PHONE)
    open_public_page(page, live_server, name, lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("html")).to_have_attribute("dir", DIRECTION[lang])
    screenshot(page, f"{lang}-{name}")
    width = page_width(page)
    assert width <= PHONE["viewport"]["width"] + 1, f"{name} is {width}px wide on a 360px phone"

    violations = run_axe(page)
    for v in violations:
        print(f"axe {lang} {name}: {v['impact']} {v['id']} ({v['help']}): {', '.join(v['nodes'])}")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core on {name} in {lang}: " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'])}" for v in blocking
    )
    print(f"axe {lang} {name}: {by_impact(violations)}")
    assert page.e2e_errors == []


@pytest.mark.parametrize(("lang", "name"), [p for p in EVERY_PAGE if p.values[0] != "en"])
def test_nothing_left_in_english(
    lang: str, name: str, live_server: LiveServer, new_page: Callable[..., Page]
) -> None:
    page = new_page(switch_from(lang), **PHONE)
    open_public_page(page, live_server, name, lang)
    english = english_text(page, lang)
    assert not english, (
        f"{len(english)} texts on {name} are still in English in {lang} (catalog "
        f"cases/translations/{lang}/LC_MESSAGES/messages.po): " + "; ".join(map(repr, english))
    )


@pytest.mark.parametrize(("lang", "name"), EVERY_PAGE)
def test_transfer_size(
    lang: str, name: str, live_server: LiveServer, new_page: Callable[..., Page]
) -> None:
    page = new_page(switch_from(lang), **PHONE)
    transfer = Transfer(page)
    open_public_page(page, live_server, name, lang, before_last_request=transfer.start)
    sizes = transfer.by_url()
    for url, size in sizes.items():
        print(f"{lang} {name}: {size:>7,} B  {url}")
    assert any(url.endswith("/static/athar.css") for url in sizes), sizes  # cache really off
    total = sum(sizes.values())
    assert total <= BUDGET_BYTES, f"{name} in {lang} costs {total:,} bytes: more than 100 KB"


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
def test_works_without_javascript(
    lang: str,
    live_server: LiveServer,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], Path],
) -> None:
    page = new_page(switch_from(lang), java_script_enabled=False, **PHONE)
    choose_language(page, live_server, lang)

    # A failed inquiry comes back with its errors, from the server.
    page.goto(f"{live_server.url}/inquiry")
    page.locator("#given_name").fill("نوري")
    page.locator("form.public-form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator(".field.has-error:has(#consent_search) .error")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", lang)

    # Corrected, it is received.
    fill_inquiry(page, "نوري")
    reference, secret = send_inquiry(page)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    screenshot(page, "receipt")

    # The status check, and information added.
    page.goto(f"{live_server.url}/check")
    fill_check(page, reference, secret)
    send_check(page)
    expect(page.locator("main h1 .code")).to_have_text(reference)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    added = f"معلومة أضيفت من دون جافاسكربت ({lang})"
    form = page.locator('main form[action$="/check/add"]')
    form.locator("#body").fill(added)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/check/result$"))
    expect(page.locator(".flash-success")).to_be_visible()
    screenshot(page, "information-added")
    assert page.e2e_errors == []
