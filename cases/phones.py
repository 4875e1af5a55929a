"""Phone numbers to E.164: Iraqi mobiles as families write them, and foreign numbers."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from .crypto import BlindIndex

DEFAULT_REGION = "IQ"
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class PhoneError(ValueError):
    pass


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """``+9647701234567`` from ``0770 123 4567``, ``٠٧٧٠١٢٣٤٥٦٧``, ``+7 912 ...`` and the like.

    Raises PhoneError for text that is not a possible phone number.
    """
    text = (raw or "").strip()
    # phonenumbers reads letters as keypad digits ("0770abc4567" -> 0770 222 4567): for a
    # missing person's number a typo must be refused, not turned into someone else's number.
    if any(ch.isalpha() for ch in text):
        raise PhoneError(raw)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise PhoneError(raw) from error
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str | None) -> str:
    """International format for reading out: ``+964 770 123 4567``."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def lookup_form(number: str) -> str:
    """The form a phone number is hashed in for lookups: E.164 however it was written.

    Stored numbers are E.164 already (the forms convert them), which takes the fast path; a
    number that does not parse falls back to its digits, so it still finds itself.
    """
    text = number.strip()
    if _E164.fullmatch(text):
        return text
    try:
        return to_e164(text)
    except PhoneError:
        return "".join(str(unicodedata.digit(ch, "")) for ch in text if ch.isdigit())


# Keyed hashes of phone numbers: the missing man's, his family's and inquirers' numbers all
# share this purpose, so a family's number finds the case their relative already reported.
PHONE_INDEX = BlindIndex("phone", lookup_form)
