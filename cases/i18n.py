"""Language choice and locale-aware formatting for templates."""

from __future__ import annotations

from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_number, get_locale
from flask_login import current_user

from . import places
from .extensions import babel
from .phones import display as phone_display

RTL_LANGUAGES = {"ar", "ckb", "fa", "he", "ur"}
PUBLIC_BLUEPRINTS = {"family"}


def page_languages() -> tuple[str, ...]:
    """Families' pages speak Kurdish Sorani too; staff pages Arabic and English."""
    if has_request_context() and request.blueprint in PUBLIC_BLUEPRINTS:
        return current_app.config["PUBLIC_LANGUAGES"]
    return current_app.config["LANGUAGES"]


def select_locale() -> str:
    """The language asked for on this device, then the account's, then the browser's."""
    languages = page_languages()
    if not has_request_context():
        return "en"  # the CLI and background jobs speak to operators, in English like the CLI
    if request.path.startswith("/api/"):
        # API clients have no session: the request's Accept-Language says which language.
        asked = request.accept_languages.best_match(languages)
        if asked:
            return asked
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def language_context() -> dict:
        locale = str(get_locale())
        return {
            "locale": locale,
            "text_dir": "rtl" if locale in RTL_LANGUAGES else "ltr",
            "languages": page_languages(),
        }

    app.jinja_env.filters["date"] = lambda d, fmt="medium": format_date(d, fmt) if d else ""
    app.jinja_env.filters["datetime"] = lambda d, fmt="medium": format_datetime(d, fmt) if d else ""
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["place"] = lambda code: places.place_name(code, str(get_locale()))
    app.jinja_env.filters["phone"] = phone_display
    app.jinja_env.globals["country_name"] = country_name


def country_name(code: str | None) -> str:
    """A country's name in the reader's language, from its ISO code."""
    if not code:
        return ""
    return Locale.parse(str(get_locale())).territories.get(code, code)
