"""Base forms: CSRF from Flask-WTF, and WTForms' own messages in every language we speak.

WTForms ships Arabic but no Kurdish, so its built-in messages ("This field is required.") are
looked up in our catalogs first and in WTForms' own second.
"""

from __future__ import annotations

from flask import has_request_context
from flask_babel import get_translations, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import FieldList, Form, FormField
from wtforms.meta import DefaultMeta

# The WTForms messages our forms can show, so Babel extracts them into our catalogs.
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid integer value."),
    _l("Not a valid date value."),
    _l("Not a valid choice."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Invalid Choice: could not coerce."),
)


def _plural_messages_for_extraction() -> None:  # pragma: no cover - never called
    """Babel reads plural WTForms messages from here; WTForms itself formats them."""
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    )


class Translations:
    """Our catalog for the reader's language first, then WTForms' own."""

    def gettext(self, string: str) -> str:
        if not has_request_context():
            return string
        ours = get_translations().ugettext(string)
        return ours if ours != string else wtforms_translations.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if not has_request_context():
            return singular if n == 1 else plural
        ours = get_translations().ungettext(singular, plural, n)
        if ours not in (singular, plural):
            return ours
        return wtforms_translations.ngettext(singular, plural, n)


TRANSLATIONS = Translations()


def strip_nul(value: object) -> object:
    """NUL bytes are never meant, and PostgreSQL refuses them in text columns."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class OurMeta:
    """Messages in the reader's language; every field drops NUL bytes from what was sent."""

    def get_translations(self, form: Form) -> Translations:
        return TRANSLATIONS

    def bind_field(self, form: Form, unbound_field, options: dict):  # noqa: ANN001, ANN201
        if not issubclass(unbound_field.field_class, FieldList | FormField):
            filters = unbound_field.kwargs.get("filters", ())
            options = {**options, "filters": [*filters, strip_nul]}
        return super().bind_field(form, unbound_field, options)


class BaseForm(FlaskForm):
    """Every form that posts: CSRF-protected, messages in the reader's language."""

    class Meta(OurMeta):
        pass


class SubForm(Form):
    """Rows inside a form (FieldList/FormField) and query-string forms: no CSRF of their own."""

    class Meta(OurMeta, DefaultMeta):
        pass
