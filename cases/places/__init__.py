"""Iraq's governorates and districts from the shipped OCHA COD-AB list.

P-codes are what we store; names are shown in the reader's language. The list is static reference
data, so it is read once from ``cases/data`` rather than kept in the database.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Known quirk of the 2019 layer: IQG10Q03 carries the Arabic name of one of its sub-districts.
_ARABIC_OVERRIDES = {"IQG10Q03": "بلدروز"}
# Common spellings people type for districts whose COD name differs (used by search).
ALIASES = {
    "IQG07Q04": ("Al-Musayyib", "Musayyib", "Musaib", "Mussayib", "Musayib"),
    "IQG12Q03": ("Karbala", "Kerbala"),
    "IQG16Q03": ("Baiji", "Bayji"),
    "IQG06Q05": ("Halabja",),
}


@dataclass(frozen=True)
class Place:
    pcode: str
    name_en: str
    name_ar: str
    parent: str | None = None

    def name(self, locale: str) -> str:
        return self.name_ar if locale in ("ar", "ckb") else self.name_en


@cache
def _load() -> tuple[dict[str, Place], dict[str, Place]]:
    governorates: dict[str, Place] = {}
    districts: dict[str, Place] = {}
    text = resources.files("cases.data").joinpath("iraq_admin2.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        gov = row["adm1_pcode"]
        governorates.setdefault(gov, Place(gov, row["adm1_en"], row["adm1_ar"]))
        code = row["adm2_pcode"]
        name_ar = _ARABIC_OVERRIDES.get(code, row["adm2_ar"])
        districts[code] = Place(code, row["adm2_en"], name_ar, parent=gov)
    return governorates, districts


def governorates() -> list[Place]:
    return sorted(_load()[0].values(), key=lambda p: p.pcode)


def districts(governorate: str | None = None) -> list[Place]:
    found = _load()[1].values()
    return sorted(
        (d for d in found if governorate is None or d.parent == governorate),
        key=lambda p: p.pcode,
    )


def governorate(pcode: str | None) -> Place | None:
    return _load()[0].get(pcode or "")


def district(pcode: str | None) -> Place | None:
    return _load()[1].get(pcode or "")


def place_name(pcode: str | None, locale: str) -> str:
    """The name of a governorate or district in the reader's language, or '' if unknown."""
    place = governorate(pcode) or district(pcode)
    return place.name(locale) if place else ""
