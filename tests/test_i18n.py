"""Languages: the switch is remembered, dates follow the locale, Arabic is complete."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def test_browser_language_decides_before_a_choice(client) -> None:
    response = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en" dir="ltr">' in response.get_data(as_text=True)
    response = client.get("/login", headers={"Accept-Language": "fr"})
    assert '<html lang="ar" dir="rtl">' in response.get_data(as_text=True)


def test_language_switch_is_remembered(client, caseworker) -> None:
    client.post("/language", data={"lang": "en", "next": "/login"})
    page = client.get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page
    client.post("/language", data={"lang": "ar", "next": "/login"})
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


def test_language_switch_is_saved_on_the_account(app, client, auth, caseworker) -> None:
    auth.login(caseworker, lang="en")
    client.post("/language", data={"lang": "ar", "next": "/cases/"})
    assert caseworker.locale == "ar"


def test_language_switch_ignores_unknown_languages_and_foreign_next(client) -> None:
    response = client.post("/language", data={"lang": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_arabic_page_is_translated(client) -> None:
    page = client.get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "تسجيل" in page or "الدخول" in page
    assert "Username" not in page


def test_arabic_catalog_is_complete_and_current(tmp_path) -> None:
    """Every string in the code has a non-empty, non-fuzzy Arabic translation."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg"]
        + ["-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with (ROOT / "cases/translations/ar/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    missing, bad = [], []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        key = message.id if isinstance(message.id, str) else message.id[0]
        if message.fuzzy or not all(strings):
            missing.append(key)
        allowed = set(PLACEHOLDER.findall(key if isinstance(message.id, str) else message.id[1]))
        if any(not set(PLACEHOLDER.findall(s)) <= allowed for s in strings):
            bad.append(key)
    have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert sorted(wanted - have) == [], "run `make i18n-update` and translate"
    assert missing == []
    assert bad == []
