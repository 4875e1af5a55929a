"""Languages: the switch is remembered, dates follow the locale, Arabic is complete."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
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


@pytest.mark.parametrize(
    ("language", "mapping"),
    [
        ("ar", "babel.cfg"),  # Arabic: every string of the application
        ("ckb", "babel-public.cfg"),  # Kurdish Sorani: the pages families use
    ],
)
def test_catalog_is_complete_and_current(tmp_path, language: str, mapping: str) -> None:
    """Every string the code shows in this language has a non-empty, non-fuzzy translation."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", mapping]
        + ["-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {_key(m) for m in read_po(f) if m.id}
    with (ROOT / f"cases/translations/{language}/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    have = {_key(m): m for m in catalog if m.id}
    assert sorted(wanted - set(have)) == [], "run `make i18n-update` and translate"
    missing, bad = [], []
    for key in sorted(wanted):
        message = have[key]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(key)
        source = message.id if isinstance(message.id, str) else message.id[1]
        allowed = set(PLACEHOLDER.findall(source))
        if any(not set(PLACEHOLDER.findall(s)) <= allowed for s in strings):
            bad.append(key)
    assert missing == []
    assert bad == []


def _key(message) -> str:  # noqa: ANN001
    return message.id if isinstance(message.id, str) else message.id[0]
