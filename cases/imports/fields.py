"""What a spreadsheet column can become, and a first guess from its header.

Targets are the fields of the case form (cases.casework.forms.CaseForm) plus two helpers for
lists kept in spreadsheets: a full Arabic name in one column (split into its parts and kept as
"the name as the family gave it") and a date of birth in one cell. Several columns may feed the
list fields (phones, Latin spellings, other names); every other field takes one column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..matching.normalize import normalize_arabic

IGNORE = ""


@dataclass(frozen=True)
class Target:
    key: str
    label: object  # lazy string
    many: bool = False  # several columns may map to it
    # Header words that suggest it: normalised Arabic (see normalize_arabic) and lower English.
    headers: tuple[str, ...] = ()


TARGETS: tuple[Target, ...] = (
    Target(
        "full_name",
        _l("Full Arabic name (split into parts)"),
        headers=(
            "الاسم الرباعي",
            "الاسم الثلاثي",
            "الاسم الكامل",
            "الاسم الرباعي واللقب",
            "الاسم",
            "اسم المفقود",
            "اسم الشخص المفقود",
            "الاسم الثلاثي واللقب",
            "full name",
            "name",
            "arabic name",
            "full arabic name",
            "missing person",
            "name of missing person",
        ),
    ),
    Target(
        "given_name",
        _l("Given name"),
        headers=(
            "الاسم الاول",
            "الاسم الأول",
            "اسم المفقود الاول",
            "given name",
            "first name",
            "firstname",
        ),
    ),
    Target(
        "father_name",
        _l("Father's name"),
        headers=(
            "اسم الاب",
            "اسم الأب",
            "الاب",
            "father",
            "father name",
            "father's name",
            "fathers name",
        ),
    ),
    Target(
        "grandfather_name",
        _l("Grandfather's name"),
        headers=(
            "اسم الجد",
            "الجد",
            "grandfather",
            "grandfather name",
            "grandfather's name",
            "grand father",
        ),
    ),
    Target(
        "great_grandfather_name",
        _l("Great-grandfather's name"),
        headers=(
            "اسم والد الجد",
            "اسم جد الاب",
            "والد الجد",
            "great grandfather",
            "great-grandfather",
            "great grandfather name",
            "great-grandfather's name",
        ),
    ),
    Target(
        "laqab",
        _l("Family or tribal name (laqab)"),
        headers=(
            "اللقب",
            "العشيره",
            "العشيرة",
            "اللقب العشائري",
            "laqab",
            "tribe",
            "family name",
            "surname",
            "last name",
            "tribal name",
        ),
    ),
    Target(
        "latin_name",
        _l("Latin spelling of the name"),
        many=True,
        headers=(
            "الاسم بالانكليزي",
            "الاسم بالانجليزي",
            "الاسم باللاتيني",
            "الاسم بالانكليزية",
            "latin name",
            "english name",
            "name in english",
            "name (english)",
            "name latin",
            "passport name",
        ),
    ),
    Target(
        "alias",
        _l("Other or former name"),
        many=True,
        headers=(
            "اسم اخر",
            "اسم آخر",
            "الاسم السابق",
            "الكنيه",
            "الكنية",
            "اسماء اخرى",
            "alias",
            "other name",
            "former name",
            "nickname",
            "aka",
        ),
    ),
    Target(
        "mother_name",
        _l("Mother's full name"),
        headers=(
            "اسم الام",
            "اسم الأم",
            "اسم الام الثلاثي",
            "اسم الأم الثلاثي",
            "الام",
            "mother",
            "mother name",
            "mother's name",
            "mothers name",
            "mother's full name",
        ),
    ),
    Target("sex", _l("Sex"), headers=("الجنس", "النوع", "sex", "gender")),
    Target(
        "birth_date",
        _l("Date of birth"),
        headers=(
            "تاريخ الولاده",
            "تاريخ الولادة",
            "تاريخ الميلاد",
            "المواليد",
            "date of birth",
            "birth date",
            "dob",
            "birthdate",
            "born",
        ),
    ),
    Target(
        "birth_year",
        _l("Year of birth"),
        headers=(
            "سنه الولاده",
            "سنة الولادة",
            "سنة الميلاد",
            "التولد",
            "مواليد",
            "year of birth",
            "birth year",
            "yob",
        ),
    ),
    Target("age", _l("Age"), headers=("العمر", "العمر بالسنوات", "age")),
    Target(
        "governorate",
        _l("Governorate"),
        headers=("المحافظه", "المحافظة", "governorate", "province", "governorate name"),
    ),
    Target(
        "district",
        _l("District"),
        headers=("القضاء", "القضاء/المدينه", "district", "district name", "qada"),
    ),
    Target(
        "locality",
        _l("Town, village or neighbourhood"),
        headers=(
            "الناحيه",
            "الناحية",
            "المنطقه",
            "المنطقة",
            "القريه",
            "القرية",
            "الحي",
            "محل السكن",
            "العنوان",
            "locality",
            "town",
            "village",
            "neighbourhood",
            "neighborhood",
            "address",
            "area",
        ),
    ),
    Target(
        "departure_date",
        _l("Date of departure"),
        headers=(
            "تاريخ السفر",
            "تاريخ المغادره",
            "تاريخ المغادرة",
            "departure date",
            "date of departure",
            "travel date",
            "departed",
        ),
    ),
    Target(
        "destination_country",
        _l("Destination country"),
        headers=(
            "بلد الوجهه",
            "بلد الوجهة",
            "الدوله",
            "الدولة",
            "البلد",
            "دوله السفر",
            "دولة السفر",
            "destination",
            "destination country",
            "country",
        ),
    ),
    Target("route", _l("Route"), headers=("الطريق", "مسار السفر", "خط السير", "route")),
    Target(
        "travel_company",
        _l("Travel company or agent"),
        headers=(
            "شركه السفر",
            "شركة السفر",
            "الشركه",
            "الشركة",
            "مكتب السفر",
            "الوكيل",
            "travel company",
            "company",
            "agent",
            "travel agent",
            "agency",
        ),
    ),
    Target(
        "last_contact_date",
        _l("Date of last contact"),
        headers=(
            "تاريخ اخر اتصال",
            "تاريخ آخر اتصال",
            "اخر اتصال",
            "آخر اتصال",
            "تاريخ اخر تواصل",
            "last contact",
            "last contact date",
            "date of last contact",
        ),
    ),
    Target(
        "last_contact_channel",
        _l("Channel of last contact"),
        headers=(
            "وسيله اخر اتصال",
            "وسيلة آخر اتصال",
            "وسيله الاتصال",
            "وسيلة الاتصال",
            "last contact channel",
            "channel",
            "contact channel",
        ),
    ),
    Target(
        "last_known_location",
        _l("Last known location"),
        headers=(
            "اخر مكان معروف",
            "آخر مكان معروف",
            "اخر موقع",
            "آخر موقع",
            "last known location",
            "last location",
            "last seen",
        ),
    ),
    Target(
        "circumstances",
        _l("Circumstances of disappearance"),
        headers=(
            "ظروف الاختفاء",
            "الظروف",
            "التفاصيل",
            "ملاحظات",
            "الملاحظات",
            "circumstances",
            "details",
            "notes",
            "remarks",
            "description",
        ),
    ),
    Target(
        "distinguishing_marks",
        _l("Distinguishing marks"),
        headers=(
            "العلامات الفارقه",
            "العلامات الفارقة",
            "علامات فارقه",
            "علامات فارقة",
            "distinguishing marks",
            "marks",
            "identifying marks",
        ),
    ),
    Target(
        "phone",
        _l("His phone number"),
        many=True,
        headers=(
            "رقم الهاتف",
            "الهاتف",
            "رقم هاتفه",
            "رقم المفقود",
            "رقم هاتف المفقود",
            "الموبايل",
            "رقم الموبايل",
            "phone",
            "phone number",
            "mobile",
            "telephone",
            "tel",
        ),
    ),
    Target(
        "document_type",
        _l("Document type"),
        headers=("نوع الوثيقه", "نوع الوثيقة", "نوع المستمسك", "document type", "id type"),
    ),
    Target(
        "document_number",
        _l("Document number"),
        headers=(
            "رقم الوثيقه",
            "رقم الوثيقة",
            "رقم المستمسك",
            "document number",
            "document no",
            "id number",
        ),
    ),
    Target(
        "passport_number",
        _l("Passport number"),
        headers=(
            "رقم الجواز",
            "رقم جواز السفر",
            "الجواز",
            "passport",
            "passport number",
            "passport no",
        ),
    ),
    Target(
        "national_id_number",
        _l("National ID card number"),
        headers=(
            "رقم البطاقه الوطنيه",
            "رقم البطاقة الوطنية",
            "البطاقه الوطنيه",
            "البطاقة الوطنية",
            "national id",
            "national id number",
            "national id no",
        ),
    ),
    Target(
        "civil_id_number",
        _l("Civil status ID number"),
        headers=(
            "رقم هويه الاحوال المدنيه",
            "رقم هوية الأحوال المدنية",
            "هويه الاحوال",
            "هوية الأحوال",
            "الهويه",
            "الهوية",
            "رقم الهويه",
            "civil id",
            "civil status id",
        ),
    ),
    Target(
        "contact_name",
        _l("Family contact: name"),
        headers=(
            "اسم المبلغ",
            "المبلغ",
            "اسم ذوي المفقود",
            "اسم المراجع",
            "صاحب البلاغ",
            "contact name",
            "family contact",
            "reported by",
            "reporter",
            "informant",
        ),
    ),
    Target(
        "contact_relationship",
        _l("Family contact: relationship"),
        headers=(
            "صله القرابه",
            "صلة القرابة",
            "القرابه",
            "القرابة",
            "relationship",
            "relation",
            "contact relationship",
        ),
    ),
    Target(
        "contact_phone",
        _l("Family contact: phone"),
        headers=(
            "هاتف المبلغ",
            "رقم المبلغ",
            "هاتف ذوي المفقود",
            "رقم ذوي المفقود",
            "رقم المراجع",
            "هاتف العائله",
            "هاتف العائلة",
            "contact phone",
            "family phone",
            "reporter phone",
            "informant phone",
        ),
    ),
)
BY_KEY = {t.key: t for t in TARGETS}

_SPACES = re.compile(r"[\s_\-:./()]+")


def header_key(text: str) -> str:
    """A header as compared with the known ones: normalised, lower-case, punctuation as
    spaces, so «اسم الأم:» and "Mother_Name" meet their entries."""
    folded = normalize_arabic(_SPACES.sub(" ", text or "")).strip()
    return " ".join(folded.split())


_KNOWN: dict[str, str] = {}
for _target in TARGETS:
    for _header in _target.headers:
        _KNOWN.setdefault(header_key(_header), _target.key)


def guess_mapping(header: list[str]) -> list[str]:
    """The likely target of each column (IGNORE when unsure), each single target used once.

    An exact header wins; then a header containing a known one ("اسم الأم الثلاثي" contains
    "اسم الام"), the longest known header first.
    """
    chosen: list[str] = [IGNORE] * len(header)
    used: set[str] = set()
    keys = [header_key(h) for h in header]
    for index, key in enumerate(keys):
        target = _KNOWN.get(key)
        if target and (target not in used or BY_KEY[target].many):
            chosen[index] = target
            used.add(target)
    by_length = sorted(_KNOWN, key=len, reverse=True)
    for index, key in enumerate(keys):
        if chosen[index] or not key:
            continue
        for known in by_length:
            if len(known) >= 3 and f" {known} " in f" {key} ":
                target = _KNOWN[known]
                if target not in used or BY_KEY[target].many:
                    chosen[index] = target
                    used.add(target)
                break
    # "الاسم" / "Name" beside a father's name column is the given name, not the full name.
    if "full_name" in chosen and "father_name" in chosen and "given_name" not in chosen:
        chosen[chosen.index("full_name")] = "given_name"
    return chosen
