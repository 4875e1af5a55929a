"""Between a PFIF person and Athar's fields: Iraqi name parts, places, birth and age.

No database here: ``person_fields`` reads a PFIF person into the values a case or an inquiry
holds, and the helpers below are used the other way by the export.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from .. import places
from ..matching.normalize import normalize_arabic

# Column widths of the case and inquiry tables: longer values are cut there (the stored PFIF
# record keeps them whole).
NAME_PART_MAX = 80
NAME_AS_ENTERED_MAX = 300
OTHER_NAME_MAX = 200
LOCALITY_MAX = 200
MAX_OTHER_NAMES = 20

# Words that belong to the next or the previous word of a name: «عبد الله» is one given name.
_JOINS_NEXT = frozenset({"عبد", "ابو", "أبو", "ابي", "أبي"})
_JOINS_PREVIOUS = frozenset({"الله", "الدين"})

# Spellings partners use for governorates whose OCHA name differs.
GOVERNORATE_ALIASES = {
    "IQG05": ("Qadisiyah", "Qadisiya", "Diwaniyah", "Diwaniya", "الديوانية"),
    "IQG07": ("Babylon", "Babel", "Hilla"),
    "IQG09": ("Dohuk", "Dahuk"),
    "IQG11": ("Arbil", "Hawler", "Irbil"),
    "IQG12": ("Karbala", "Karbalaa"),
    "IQG15": ("Nineveh", "Ninawa", "Mosul"),
    "IQG16": ("Salahuddin", "Salah ad-Din", "Saladin"),
    "IQG17": ("Dhi Qar", "Thi-Qar", "Nasiriyah"),
    "IQG18": ("Wasit", "Kut"),
    "IQG14": ("Missan", "Amarah"),
    "IQG06": ("Sulaymaniyah", "Sulaimaniya", "Slemani"),
    "IQG02": ("Basra", "Basrah"),
    "IQG04": ("Najaf",),
    "IQG01": ("Anbar",),
    "IQG03": ("Muthanna", "Samawah"),
}
_PLACE_WORDS = re.compile(r"\b(governorate|province|district|qadha|qada|city)\b|محافظة|قضاء|مدينة")


def is_arabic(text: str | None) -> bool:
    """Whether ``text`` is written mostly in Arabic script (so it is the official name form)."""
    letters = [c for c in text or "" if c.isalpha()]
    arabic = sum(1 for c in letters if "ARABIC" in unicodedata.name(c, ""))
    return bool(letters) and arabic * 2 >= len(letters)


def name_words(line: str) -> list[str]:
    """The parts of an Arabic name: words, with «عبد»/«ابو» joined to the next word and
    «الله»/«الدين» to the previous one."""
    words = line.split()
    parts: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _JOINS_NEXT and i + 1 < len(words):
            word = f"{word} {words[i + 1]}"
            i += 1
        if words[i + 1 : i + 2] and words[i + 1] in _JOINS_PREVIOUS:
            word = f"{word} {words[i + 1]}"
            i += 1
        parts.append(word)
        i += 1
    return parts


@dataclass
class NameParts:
    given: str
    father: str | None = None
    grandfather: str | None = None
    great_grandfather: str | None = None
    laqab: str | None = None


def split_name(line: str, given_hint: str | None, family_hint: str | None) -> NameParts:
    """Official name parts from one written name: given, father, grandfather,
    great-grandfather, then the family name (laqab) when the record names it as the last part
    (or the name has more than four parts).

    PFIF's given_name wins over the first word when the name starts with it, so a compound
    given name a partner marked as such stays whole.
    """
    line = " ".join(line.split())
    laqab = None
    if family_hint and line.endswith(family_hint) and line != family_hint:
        laqab = family_hint
        line = line[: -len(family_hint)].strip()
    given = None
    if given_hint and (line == given_hint or line.startswith(given_hint + " ")):
        given = given_hint
        line = line[len(given_hint) :].strip()
    words = name_words(line)
    if given is None:
        given = words.pop(0) if words else (given_hint or family_hint or "")
    if laqab is None and len(words) > 3:
        laqab = words.pop()
    if len(words) > 3:  # five or more parts before the laqab: keep the rest with the last one
        words = [*words[:2], " ".join(words[2:])]
    lineage = [*words, None, None, None][:3]
    return NameParts(
        given=given[:NAME_PART_MAX],
        father=_cut(lineage[0], NAME_PART_MAX),
        grandfather=_cut(lineage[1], NAME_PART_MAX),
        great_grandfather=_cut(lineage[2], NAME_PART_MAX),
        laqab=_cut(laqab, NAME_PART_MAX),
    )


def _cut(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def lines(value: str | None) -> list[str]:
    """The non-empty lines of a multi-line PFIF field (full_name, alternate_names)."""
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


# --- places -------------------------------------------------------------------------------


def _place_key(text: str) -> str:
    text = _PLACE_WORDS.sub(" ", text.lower())
    key = normalize_arabic(text)
    key = re.sub(r"\b(al|el)[- ]", "", key)
    key = re.sub(r"(^| )ال", r"\1", key)
    return re.sub(r"[\s\-'’.]+", "", key)


@cache
def _place_index() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    govs: dict[str, set[str]] = {}
    for gov in places.governorates():
        names = (gov.name_en, gov.name_ar, *GOVERNORATE_ALIASES.get(gov.pcode, ()))
        for name in names:
            govs.setdefault(_place_key(name), set()).add(gov.pcode)
    districts: dict[str, set[str]] = {}
    for district in places.districts():
        names = (district.name_en, district.name_ar, *places.ALIASES.get(district.pcode, ()))
        for name in names:
            districts.setdefault(_place_key(name), set()).add(district.pcode)
    return govs, districts


@dataclass
class PlaceMatch:
    governorate_pcode: str | None = None
    district_pcode: str | None = None
    # What could not be placed on the list, kept as words.
    leftovers: list[str] = field(default_factory=list)


def resolve_place(state: str | None, city: str | None) -> PlaceMatch:
    """Governorate and district P-codes from PFIF's home_state and home_city, in English or
    Arabic (OCHA names and common spellings); what matches nothing is returned as text."""
    govs, districts = _place_index()
    match = PlaceMatch()
    if state:
        found = govs.get(_place_key(state), set())
        if len(found) == 1:
            match.governorate_pcode = next(iter(found))
        else:
            match.leftovers.append(state)
    if city:
        found = districts.get(_place_key(city), set())
        if match.governorate_pcode:
            found = {d for d in found if d.startswith(match.governorate_pcode)}
        if len(found) == 1:
            match.district_pcode = next(iter(found))
            match.governorate_pcode = match.governorate_pcode or match.district_pcode[:5]
        else:
            match.leftovers.insert(0, city)
    return match


# --- dates and ages -----------------------------------------------------------------------


def birth_parts(date_of_birth: str | None) -> tuple[int | None, int | None, int | None]:
    """Year, month and day from PFIF's YYYY, YYYY-MM or YYYY-MM-DD (already checked)."""
    if not date_of_birth:
        return None, None, None
    pieces = [int(p) for p in date_of_birth.split("-")]
    pieces += [None] * (3 - len(pieces))  # type: ignore[list-item]
    return pieces[0], pieces[1], pieces[2]


def date_of_birth(year: int | None, month: int | None, day: int | None) -> str | None:
    """PFIF's date of birth at the precision known."""
    if not year:
        return None
    if not month:
        return f"{year:04d}"
    if not day:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def age_of(age: str | None) -> tuple[int | None, bool]:
    """An age and whether it is an estimate: "N" is exact, "N-M" becomes its middle."""
    if not age:
        return None, False
    low, _, high = age.partition("-")
    if not high:
        return int(low), False
    return (int(low) + int(high)) // 2, True
