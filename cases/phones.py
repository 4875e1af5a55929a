"""Phone numbers to E.164: Iraqi mobiles as families write them, and foreign numbers."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "IQ"


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
