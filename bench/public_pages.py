"""Public pages: what each costs a family's phone, and what axe-core finds on it.

Starts a live server (tests/e2e/live.py: fresh SQLite app, real CSRF) and Debian's Chromium at
phone size (360x740), then, per language and page, prints the kilobytes transferred to show the
page (every response: document, stylesheet, anything else, headers included, browser cache
off) and axe-core's violations of its default rules by impact. The browser tests hold the same
pages to 100 KB and to no "serious" or "critical" violation (tests/e2e/test_public_pages.py).
Needs axe-core in node_modules (``make setup`` runs ``npm ci``).

    .venv/bin/python bench/public_pages.py [--languages ar,ckb,en] [--pages start,receipt]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.live import (  # noqa: E402
    AXE,
    IMPACTS,
    PHONE,
    PUBLIC_LANGUAGES,
    PUBLIC_PAGES,
    Transfer,
    by_impact,
    chromium_path,
    launch_chromium,
    live_server,
    open_public_page,
    run_axe,
)

BUDGET_KB = 100


def measure(browser, server, lang: str, name: str) -> tuple[float, dict[str, int]]:  # noqa: ANN001
    """Kilobytes transferred for the page, and axe-core's violation counts by impact."""
    other = "en" if lang != "en" else "ar"  # the header's buttons switch to ``lang``
    context = browser.new_context(locale=other, bypass_csp=True, **PHONE)
    try:
        page = context.new_page()
        transfer = Transfer(page)
        open_public_page(page, server, name, lang, before_last_request=transfer.start)
        kilobytes = transfer.total() / 1000
        return kilobytes, by_impact(run_axe(page))
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", default=",".join(PUBLIC_LANGUAGES))
    parser.add_argument("--pages", default=",".join(PUBLIC_PAGES))
    args = parser.parse_args()
    if not AXE.is_file():
        sys.exit(f"{AXE} is missing: run `make setup` (it runs `npm ci`).")
    if not chromium_path().is_file():
        sys.exit(f"No Chromium at {chromium_path()}: run `make system-deps` or set CHROMIUM.")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log in the table

    header = f"{'lang':<5} {'page':<15} {'KB':>6}  " + "  ".join(f"{i:>8}" for i in IMPACTS)
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        live_server(Path(tmp) / "bench-public.sqlite") as server,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        print(f"Public pages on a 360x740 phone; KB = 1000 bytes; budget {BUDGET_KB} KB")
        print(header)
        print("-" * len(header))
        for lang in args.languages.split(","):
            for name in args.pages.split(","):
                kilobytes, counts = measure(browser, server, lang, name)
                rows.append((kilobytes, counts))
                flag = "  over budget" if kilobytes > BUDGET_KB else ""
                print(
                    f"{lang:<5} {name:<15} {kilobytes:>6.1f}  "
                    + "  ".join(f"{counts[i]:>8}" for i in IMPACTS)
                    + flag
                )
        browser.close()
    print("-" * len(header))
    largest = max(kb for kb, _ in rows)
    totals = {i: sum(c[i] for _, c in rows) for i in IMPACTS}
    print(
        f"{'all':<5} {f'{len(rows)} pages':<15} {largest:>6.1f}  "
        + "  ".join(f"{totals[i]:>8}" for i in IMPACTS)
        + "   (KB: the largest page; violations: summed)"
    )


if __name__ == "__main__":
    main()
