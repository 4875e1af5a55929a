"""Identity document numbers (passport, national ID, contracts) in the form they are hashed in."""

from __future__ import annotations

from .crypto import BlindIndex
from .matching.normalize import normalize_arabic


def lookup_form(number: str) -> str:
    """``A12345678`` from ``a 1234-5678``, ``A١٢٣٤٥٦٧٨`` and the like.

    Case, spaces, dashes, slashes and other punctuation vary between the paper, the family's
    photo of it and what a caseworker types; Arabic-Indic digits are folded to 0-9 and Arabic
    letter variants as for names. Only letters and digits remain.
    """
    return "".join(ch for ch in normalize_arabic(number).upper() if ch.isalnum())


# One purpose for every document type: a family rarely knows which paper a number came from.
DOCUMENT_INDEX = BlindIndex("document", lookup_form)
