"""Reading one cell as the value a case field takes: dates, sex, places, countries, channels.

Spreadsheets write the same thing many ways: «ذكر», "male" and "M"; 12/03/2023, 2023-03-12
and an Excel date; «المسيب», "Al-Musayyib" and IQG07Q04. Each reader takes what families and
NGOs commonly write and raises CellProblem for the rest, never guessing between two readings.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache, lru_cache

from babel import Locale

from .. import places
from ..casework.models import ContactChannel, DocumentType, Sex
from ..matching.normalize import normalize_arabic

_DIGITS = str.maketrans(
    {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}
)


class CellProblem(Exception):  # noqa: N818 - a finding to report, not an error
    """A cell that cannot be read as its field; ``code`` names the problem (report.MESSAGES)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def text_of(value: object) -> str:
    """A cell as the text a person typed: numbers without a trailing .0, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\x00", "").strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value).strip()


# --- dates ---------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DMY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
_YEAR = re.compile(r"\d{4}")


def read_date(value: object, year_alone: bool = False) -> date | int:
    """A date from an Excel date, ``YYYY-MM-DD`` or day/month/year (Iraq's order).

    With ``year_alone`` a bare four-digit year is returned as an int (a date of birth often
    is only a year). Two-digit years and month/day order are refused rather than guessed.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if year_alone and float(value).is_integer() and 1000 <= value <= 9999:
            return int(value)
        raise CellProblem("not_a_date")
    text = text_of(value).translate(_DIGITS)
    if year_alone and _YEAR.fullmatch(text):
        return int(text)
    if m := _ISO.fullmatch(text):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _DMY.fullmatch(text):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if year < 100:
            raise CellProblem("two_digit_year")
        if month > 12 and day <= 12:
            raise CellProblem("month_day_order")
    else:
        raise CellProblem("not_a_date")
    try:
        return date(year, month, day)
    except ValueError as error:
        raise CellProblem("no_such_date") from error


_NUMBER = re.compile(r"(\d{1,4})(?:\.0+)?\s*(?:سنه|سنوات|سنة|عام|عاما|years?|yrs?|y)?")


def read_whole_number(value: object) -> int:
    """A whole number, also written «٢٥» or "25 years"; CellProblem("not_a_number") else."""
    if isinstance(value, bool):
        raise CellProblem("not_a_number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellProblem("not_a_number")
    text = normalize_arabic(text_of(value))
    if m := _NUMBER.fullmatch(text):
        return int(m.group(1))
    raise CellProblem("not_a_number")


# --- choices ---------------------------------------------------------------------------------

_SEX = {
    Sex.MALE: ("ذكر", "ذ", "رجل", "male", "m", "man", "boy", "nêr", "نير"),
    Sex.FEMALE: (
        "انثى",
        "انثي",
        "أنثى",
        "ا",
        "امراه",
        "امرأة",
        "female",
        "f",
        "woman",
        "girl",
        "مێ",
    ),
    Sex.OTHER: ("اخر", "آخر", "other"),
    Sex.UNKNOWN: ("غير معروف", "غير معلوم", "مجهول", "unknown", "not known", "?"),
}
_CHANNELS = {
    ContactChannel.PHONE: (
        "هاتف",
        "الهاتف",
        "اتصال",
        "اتصال هاتفي",
        "مكالمه",
        "موبايل",
        "phone",
        "phone call",
        "call",
        "mobile",
        "telephone",
    ),
    ContactChannel.WHATSAPP: ("واتساب", "واتس اب", "واتس", "وتساب", "whatsapp", "whats app", "wa"),
    ContactChannel.TELEGRAM: ("تلغرام", "تليغرام", "تيليجرام", "تلكرام", "تيلكرام", "telegram"),
    ContactChannel.FACEBOOK: (
        "فيسبوك",
        "فيس بوك",
        "فيس",
        "ماسنجر",
        "مسنجر",
        "facebook",
        "messenger",
        "fb",
    ),
    ContactChannel.OTHER: ("اخرى", "أخرى", "اخر", "other"),
}
_DOCUMENTS = {
    DocumentType.NATIONAL_ID: (
        "البطاقه الوطنيه",
        "بطاقه وطنيه",
        "الوطنيه",
        "national id",
        "national id card",
        "national_id",
    ),
    DocumentType.CIVIL_ID: (
        "هويه الاحوال المدنيه",
        "هويه الاحوال",
        "الهويه",
        "هويه",
        "civil id",
        "civil status id",
        "civil_id",
    ),
    DocumentType.PASSPORT: ("جواز", "جواز السفر", "الجواز", "passport"),
    DocumentType.RESIDENCE_CARD: (
        "بطاقه السكن",
        "بطاقه سكن",
        "السكن",
        "residence card",
        "residence",
        "residence_card",
    ),
    DocumentType.MILITARY_CONTRACT: (
        "عقد عسكري",
        "عقد",
        "military contract",
        "contract",
        "military_contract",
    ),
    DocumentType.OTHER: ("اخرى", "اخر", "other"),
}


def choice_key(text: str) -> str:
    return " ".join(normalize_arabic(text.replace("_", " ").replace("-", " ")).split())


def _lookup(table: dict) -> dict[str, str]:
    return {choice_key(word): str(value) for value, words in table.items() for word in words} | {
        str(value): str(value) for value in table
    }


SEX = _lookup(_SEX)
CHANNELS = _lookup(_CHANNELS)
DOCUMENTS = _lookup(_DOCUMENTS)


_choice_key = lru_cache(maxsize=4096)(choice_key)


def read_choice(value: object, table: dict[str, str], code: str) -> str:
    found = table.get(_choice_key(text_of(value)))
    if found is None:
        raise CellProblem(code, value=text_of(value)[:80])
    return found


# --- places ----------------------------------------------------------------------------------

_PLACE_PREFIXES = ("محافظه ", "قضاء ", "مدينه ", "ناحيه ")
_PLACE_SUFFIXES = (" governorate", " province", " district", " city", " qada", " muhafaza")
# Names people use for governorates other than the OCHA ones.
_GOVERNORATE_ALIASES = {
    "IQG01": ("Anbar", "الرمادي"),
    "IQG02": ("Basra", "Basrah", "البصره"),
    "IQG03": ("Muthanna", "Samawa", "السماوه"),
    "IQG04": ("Najaf",),
    "IQG05": ("Qadisiyah", "Qadisiya", "Diwaniyah", "Diwaniya", "الديوانيه"),
    "IQG06": ("Sulaymaniyah", "Sulaimani", "Slemani", "السليمانيه"),
    "IQG07": ("Babylon", "Babel", "Hilla", "Hillah", "الحله"),
    "IQG09": ("Dohuk", "Dahuk"),
    "IQG11": ("Arbil", "Hawler", "أربيل"),
    "IQG12": ("Karbala", "Kerbela"),
    "IQG14": ("Missan", "Amara", "العماره"),
    "IQG15": ("Nineveh", "Nineveh", "Mosul", "الموصل"),
    "IQG16": ("Salahuddin", "Salah ad-Din", "Salah al-Din", "Tikrit"),
    "IQG17": ("Dhi Qar", "Thi-Qar", "Nasiriyah", "الناصريه"),
    "IQG18": ("Wasit", "Kut", "الكوت"),
}


def place_key(text: str) -> str:
    """A place name as compared: normalised, without «محافظة»/"governorate" and articles."""
    key = " " + normalize_arabic(text.replace("-", " ").replace("'", "")) + " "
    for prefix in _PLACE_PREFIXES:
        key = key.replace(" " + prefix, " ")
    for suffix in _PLACE_SUFFIXES:
        key = key.replace(suffix + " ", " ")
    words = []
    for word in key.split():
        if word in ("al", "el"):
            continue
        if word.startswith("ال") and len(word) > 3:
            word = word[2:]
        words.append(word)
    return "".join(words)


@cache
def _place_tables() -> tuple[dict[str, str], dict[str, set[str]]]:
    governorates: dict[str, str] = {}
    for gov in places.governorates():
        for name in (gov.pcode, gov.name_en, gov.name_ar, *_GOVERNORATE_ALIASES.get(gov.pcode, ())):
            governorates.setdefault(place_key(name), gov.pcode)
        governorates[gov.pcode.lower()] = gov.pcode
    districts: dict[str, set[str]] = {}
    for district in places.districts():
        names = (district.name_en, district.name_ar, *places.ALIASES.get(district.pcode, ()))
        for name in names:
            districts.setdefault(place_key(name), set()).add(district.pcode)
        districts.setdefault(district.pcode.lower(), set()).add(district.pcode)
    return governorates, districts


def read_governorate(value: object) -> str:
    return _governorate(text_of(value))


@lru_cache(maxsize=4096)
def _governorate(text: str) -> str:
    found = _place_tables()[0].get(place_key(text)) or _place_tables()[0].get(text.lower())
    if found is None:
        raise CellProblem("unknown_governorate", value=text[:80])
    return found


def read_district(value: object, governorate: str | None) -> str:
    return _district(text_of(value), governorate)


@lru_cache(maxsize=4096)
def _district(text: str, governorate: str | None) -> str:
    tables = _place_tables()[1]
    found = tables.get(place_key(text)) or tables.get(text.lower()) or set()
    if governorate and len(found) > 1:
        found = {d for d in found if places.district(d).parent == governorate} or found
    if not found:
        raise CellProblem("unknown_district", value=text[:80])
    if len(found) > 1:
        raise CellProblem("ambiguous_district", value=text[:80])
    return next(iter(found))


@cache
def _countries() -> dict[str, str]:
    found: dict[str, str] = {}
    for locale in ("en", "ar"):
        for code, name in Locale.parse(locale).territories.items():
            if len(code) == 2 and code.isalpha():
                found.setdefault(choice_key(name), code)
                found.setdefault(place_key(name), code)
    for code in Locale.parse("en").territories:
        if len(code) == 2 and code.isalpha():
            found[code.lower()] = code
    # How families and lists write the usual destinations.
    extra = {
        "RU": ("روسيا", "روسيا الاتحاديه", "russia", "russian federation", "rf"),
        "BY": ("بيلاروسيا", "روسيا البيضاء", "belarus"),
        "UA": ("اوكرانيا", "ukraine"),
        "TR": ("تركيا", "turkey", "turkiye"),
        "AE": ("الامارات", "دبي", "uae", "emirates", "dubai"),
        "IR": ("ايران", "iran"),
        "SY": ("سوريا", "syria"),
        "DE": ("المانيا", "germany"),
    }
    for code, names in extra.items():
        for name in names:
            found[choice_key(name)] = code
    return found


def read_country(value: object) -> str:
    return _country(text_of(value))


@lru_cache(maxsize=4096)
def _country(text: str) -> str:
    table = _countries()
    found = table.get(choice_key(text)) or table.get(place_key(text))
    if found is None:
        raise CellProblem("unknown_country", value=text[:80])
    return found
