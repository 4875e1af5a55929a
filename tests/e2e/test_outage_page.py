"""While the database is away, a family and a caseworker see a clear page in their language,
at phone and desktop width, and carry on once it is back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from cases.extensions import db

from ..outages import database_gone
from .conftest import PHONE, VIEWPORT, LiveServer
from .live import (
    DIRECTION,
    PUBLIC_LANGUAGES,
    choose_language,
    english_text,
    fill_check,
    page_width,
    run_axe,
    send_check,
    submit_inquiry,
)

TITLES = {
    "ar": "الخدمة غير متاحة مؤقتاً",
    "ckb": "بۆ ماوەیەکی کەم بەردەست نییە",
    "en": "Briefly unavailable",
}


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_family_sees_the_outage_page_then_checks_again(
    lang: str,
    size: str,
    live_server: LiveServer,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], Path],
) -> None:
    options = PHONE if size == "phone" else {"viewport": VIEWPORT}
    page = new_page("en" if lang != "en" else "ar", bypass_csp=True, **options)
    reference, secret = submit_inquiry(page, live_server, "رعد")
    choose_language(page, live_server, lang)
    page.goto(f"{live_server.url}/check")
    fill_check(page, reference, secret)
    with live_server.app.app_context():
        engine = db.engine
    with database_gone(engine):
        page.locator('main form[action$="/check"] button[type=submit]').click()
        expect(page.locator("h1")).to_have_text(TITLES[lang])
    screenshot(page, f"{lang}-{size}-outage")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("html")).to_have_attribute("dir", DIRECTION[lang])
    assert page_width(page) <= options["viewport"]["width"] + 1
    if lang != "en":
        assert english_text(page, lang) == []
    assert [v["id"] for v in run_axe(page) if v["impact"] in ("critical", "serious")] == []
    assert page.e2e_errors == [f"HTTP 503: POST {live_server.url}/check"]
    page.e2e_errors.clear()
    # The database is back: the same family checks again and sees their inquiry.
    page.goto(f"{live_server.url}/check")
    fill_check(page, reference, secret)
    send_check(page)
    assert page.e2e_errors == []
