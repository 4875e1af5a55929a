"""Fixtures for the browser tests: a live Athar server and Debian's Chromium.

Every test in this folder is marked ``e2e`` (``make test-e2e`` selects them, ``-m "not e2e"``
leaves them out). The server (tests/e2e/live.py) is a fresh app on its own SQLite file with
real CSRF and raised rate limits, not the ``app``/``client`` fixtures of tests/conftest.py; with
pytest-xdist each worker starts its own.
Playwright never downloads a browser here: it launches the Debian ``chromium`` package
(``.ci/install-system-deps``), or the binary named by the CHROMIUM environment variable.
Full-page screenshots land in test-artifacts/screenshots/<test>/ (git-ignored).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from . import live
from .live import PHONE, ROOT, LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response

__all__ = ["PHONE", "ROOT", "SCREENSHOTS", "TIMEOUT_MS", "VIEWPORT", "LiveServer"]

HERE = Path(__file__).resolve().parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    # Kept on the item so the page fixture can photograph the screen a test failed on.
    report = yield
    setattr(item, f"e2e_report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live.live_server(tmp_path_factory.mktemp("e2e") / "athar-e2e.sqlite") as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = live.chromium_path()
    if not executable.is_file():
        message = (
            f"Chromium is not installed at {executable}: run .ci/install-system-deps "
            "(or `make system-deps`) to install the Debian package, or set CHROMIUM."
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = live.launch_chromium(playwright)
    except BaseException:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """``screenshot(page, "step")`` saves a full-page PNG named by test, order and step."""
    folder = SCREENSHOTS / _slug(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    counter = itertools.count(1)

    def take(page: Page, step: str) -> Path:
        path = folder / f"{next(counter):02d}-{_slug(step)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest,
    browser: Browser,
    screenshot: Callable[[Page, str], Path],
) -> Iterator[Callable[..., Page]]:
    """``new_page(locale)``: a page in a fresh browser context (own cookies) for that locale.

    Keyword arguments go to ``browser.new_context``: ``new_page("ar", **PHONE)`` for a phone,
    ``java_script_enabled=False``, ``bypass_csp=True`` (to inject a test script)...
    Errors the page reports (a script error, something the CSP blocked, an HTTP error) are
    kept in ``page.e2e_errors`` for the test to check.
    """
    contexts = []

    def make(locale: str, **options: object) -> Page:
        context = browser.new_context(**{"locale": locale, "viewport": VIEWPORT, **options})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []

        def on_console(msg: ConsoleMessage) -> None:
            # Failed loads are reported with their URL by on_response.
            if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
                errors.append(f"console error: {msg.text}")

        def on_response(response: Response) -> None:
            # The browser asks for /favicon.ico on its own; the app has none.
            if response.status >= 400 and not response.url.endswith("/favicon.ico"):
                errors.append(f"HTTP {response.status}: {response.request.method} {response.url}")

        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        page.on("console", on_console)
        page.on("response", on_response)
        page.e2e_errors = errors
        return page

    yield make
    report = getattr(request.node, "e2e_report_call", None)
    for context in contexts:
        if report is not None and report.failed:
            for page in context.pages:
                screenshot(page, "failure")
        context.close()


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text).strip("-")
