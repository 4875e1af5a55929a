"""A live Athar server in a thread and Debian's Chromium, for the browser tests and the bench.

tests/e2e/conftest.py builds its fixtures on these; bench/public_pages.py uses them directly.
The server is a fresh app on its own SQLite file with real CSRF. Its rate limits are raised
(memory-based, per server): the browser tests submit more inquiries from 127.0.0.1 than the
defaults in cases/config.py allow a family, and the limits themselves are tested in
tests/inquiries/.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import make_server

from cases import create_app
from cases.auth.models import Role, User
from cases.extensions import db

from ..factories import make_user, totp_code

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Request

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_CONFIG = {
    "WTF_CSRF_ENABLED": True,
    "DEMO": False,
    "INQUIRY_SUBMIT_LIMIT": "1000 per hour",
    "STATUS_CHECK_LIMIT": "1000 per 15 minutes",
    "STATUS_CHECK_PER_REFERENCE_LIMIT": "1000 per 15 minutes",
}
STAFF = (("zainab", Role.CASEWORKER, "Zainab"), ("maryam", Role.SUPERVISOR, "Maryam"))
# A small Android phone, as most families use: new_page(locale, **PHONE) in the tests.
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask


@contextmanager
def live_server(database: Path, **config: object) -> Iterator[LiveServer]:
    """Serve a fresh app on ``database`` (an SQLite file) at a free 127.0.0.1 port.

    The staff accounts in STAFF exist (password tests.factories.PASSWORD); ``config``
    overrides SERVER_CONFIG.
    """
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", **SERVER_CONFIG, **config}
    )
    with app.app_context():
        db.create_all()
        for username, role, name in STAFF:
            make_user(username, role, name)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="athar-e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


def staff_code(server: LiveServer, username: str) -> str:
    """The code ``username``'s authenticator app shows now, for the login's second step.

    The supervisor in STAFF uses two-factor authentication, as the app requires.
    """
    with server.app.app_context():
        return totp_code(db.session.scalar(db.select(User).filter_by(username=username)))


def chromium_path() -> Path:
    """Debian's Chromium, or the binary named by the CHROMIUM environment variable."""
    return Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(chromium_path()), args=CHROMIUM_ARGS)


# --- the pages families use, for tests/e2e/test_public_pages.py and bench/public_pages.py ---

PUBLIC_LANGUAGES = ("ar", "ckb", "en")
DIRECTION = {"ar": "rtl", "ckb": "rtl", "en": "ltr"}
# Every page a family sees: four addresses, and three pages that only a form's answer shows.
PUBLIC_PAGES = ("start", "privacy", "inquiry", "check", "receipt", "inquiry-errors", "result")
ADDRESSES = {"start": "/", "privacy": "/privacy", "inquiry": "/inquiry", "check": "/check"}
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS = ("critical", "serious", "moderate", "minor")
REFERENCE = re.compile(r"^\d{4}-\d{4}$")
SECRET = re.compile(r"^\d{3}-\d{3}-\d{3}-\d{3}$")


def choose_language(page: Page, server: LiveServer, lang: str) -> None:
    """Open the start page and switch to ``lang`` with the header's language buttons."""
    page.goto(f"{server.url}/")
    if page.locator("html").get_attribute("lang") != lang:
        page.locator(f'header.top button[name=lang][value="{lang}"]').click()
        expect(page.locator("html")).to_have_attribute("lang", lang)


def fill_inquiry(page: Page, given_name: str) -> None:
    """The fewest fields a valid inquiry needs, on the inquiry form already open."""
    form = page.locator("form.public-form")
    form.locator("#inquirer_name").fill("زهراء كريم عباس")
    form.locator("#inquirer_relationship").select_option(value="sister")
    form.locator("#inquirer_phone").fill("0780 765 4321")
    form.locator("#given_name").fill(given_name)
    form.locator("#father_name").fill("كريم")
    form.locator("#consent_search").check()


def send_inquiry(page: Page) -> tuple[str, str]:
    """Send the inquiry form; the receipt's reference and secret code."""
    page.locator("form.public-form button[type=submit]").click()
    expect(page.locator("#reference")).to_have_text(REFERENCE)
    expect(page.locator("#secret")).to_have_text(SECRET)
    return page.locator("#reference").inner_text(), page.locator("#secret").inner_text()


def submit_inquiry(page: Page, server: LiveServer, given_name: str) -> tuple[str, str]:
    page.goto(f"{server.url}/inquiry")
    fill_inquiry(page, given_name)
    return send_inquiry(page)


def fill_check(page: Page, reference: str, secret: str) -> None:
    form = page.locator('main form[action$="/check"]')
    form.locator("#reference").fill(reference)
    form.locator("#secret").fill(secret)


def send_check(page: Page) -> None:
    page.locator('main form[action$="/check"] button[type=submit]').click()
    expect(page).to_have_url(re.compile(r"/check/result$"))
    expect(page.locator("#family-status")).to_be_visible()


def open_public_page(
    page: Page,
    server: LiveServer,
    name: str,
    lang: str,
    before_last_request: Callable[[], None] | None = None,
) -> None:
    """Bring ``page`` to the public page ``name`` (one of PUBLIC_PAGES) in ``lang``.

    ``before_last_request()`` runs just before the request that loads the page itself, once
    the steps that lead to it are over (network quiet), so a caller can count what that page
    alone costs.
    """

    def last_request() -> None:
        if before_last_request is not None:
            page.wait_for_load_state("networkidle")
            before_last_request()

    choose_language(page, server, lang)
    if name in ADDRESSES:
        last_request()
        page.goto(server.url + ADDRESSES[name])
    elif name == "receipt":
        page.goto(f"{server.url}/inquiry")
        fill_inquiry(page, "سلام")
        last_request()
        send_inquiry(page)
    elif name == "inquiry-errors":
        page.goto(f"{server.url}/inquiry")
        page.locator("#given_name").fill("سلام")
        page.locator("#inquirer_phone").fill("12ab")
        last_request()
        page.locator("form.public-form button[type=submit]").click()
        expect(page.locator(".error-summary")).to_be_visible()
        expect(page.locator(".field.has-error").first).to_be_visible()
    elif name == "result":
        reference, secret = submit_inquiry(page, server, "ياسر")
        page.goto(f"{server.url}/check")
        fill_check(page, reference, secret)
        last_request()
        send_check(page)
    else:
        raise ValueError(f"no public page {name!r}: one of {PUBLIC_PAGES}")
    expect(page.locator("html")).to_have_attribute("lang", lang)


class Transfer:
    """What the network carried for a page: each response's body as sent plus its headers.

    The browser cache is switched off (DevTools protocol), so a page that follows a form
    counts its stylesheet again, as a family's first visit would.
    """

    def __init__(self, page: Page) -> None:
        self.requests: list[Request] = []
        self._page = page
        self._counting = False
        self._cdp = page.context.new_cdp_session(page)
        self._cdp.send("Network.enable")
        self._cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.on("requestfinished", self._finished)

    def start(self) -> None:
        self.requests.clear()
        self._counting = True

    def _finished(self, request: Request) -> None:
        if self._counting:
            self.requests.append(request)

    def by_url(self) -> dict[str, int]:
        """Bytes per address since start(), once the network has been quiet for 500 ms."""
        self._page.wait_for_load_state("networkidle")
        sizes: dict[str, int] = {}
        for request in self.requests:
            size = request.sizes()
            sizes[request.url] = (
                sizes.get(request.url, 0)
                + max(size["responseBodySize"], 0)
                + max(size["responseHeadersSize"], 0)
            )
        return sizes

    def total(self) -> int:
        return sum(self.by_url().values())


def run_axe(page: Page) -> list[dict]:
    """axe-core's default rules on the page as it is; its violations, each with its nodes.

    The page's context needs ``bypass_csp=True``: the app's CSP forbids injected scripts.
    """
    if not AXE.is_file():
        raise FileNotFoundError(
            f"{AXE} is missing: run `make setup` (it runs `npm ci` for package-lock.json)."
        )
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => (await axe.run()).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(" ")),
        }))"""
    )


def by_impact(violations: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(IMPACTS, 0)
    for violation in violations:
        counts[violation["impact"] or "minor"] += 1
    return counts


def english_text(page: Page, lang: str) -> list[str]:
    """Texts a person would see or hear written only in Latin letters on an Arabic or Kurdish
    page: untranslated strings. A translated text may keep a Latin term ("SMS"), so a text
    with Arabic-script letters passes. Parts marked with another ``lang`` (the "English"
    button) and content hidden from everyone (aria-hidden) are left out."""
    return page.evaluate(
        """(lang) => {
            const arabicScript = /[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]/;
            const english = { test: (t) => /[A-Za-z]{2,}/.test(t) && !arabicScript.test(t) };
            const skip = (el) => {
                if (el.closest("script, style, [aria-hidden=true]")) return true;
                const marked = el.closest("[lang]");
                return marked !== null && marked.getAttribute("lang") !== lang;
            };
            const found = new Set();
            if (english.test(document.title)) found.add(document.title.trim());
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const text = node.textContent.trim();
                if (english.test(text) && !skip(node.parentElement)) found.add(text);
            }
            for (const el of document.body.querySelectorAll(
                    "[aria-label], [title], [placeholder], [alt]")) {
                for (const name of ["aria-label", "title", "placeholder", "alt"]) {
                    const text = (el.getAttribute(name) || "").trim();
                    if (english.test(text) && !skip(el)) found.add(`${name}="${text}"`);
                }
            }
            return [...found];
        }""",
        lang,
    )


def page_width(page: Page) -> int:
    """How wide the document is; wider than the viewport means sideways scrolling."""
    return page.evaluate("document.documentElement.scrollWidth")
