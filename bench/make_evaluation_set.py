"""Build the matching evaluation set: labelled pairs of person records, written to
cases/matching/data/evaluation.csv. Deterministic: running it again re-creates the file byte for
byte (tests/matching/test_evaluation.py checks).

    .venv/bin/python bench/make_evaluation_set.py [--check]

Every pair describes either one man as two sources record him ("same") or two different men
("different"), with a category saying what makes it hard. The records are what Athar really
receives: a case typed by staff in Arabic (sometimes with the passport's Latin spelling), an
inquiry from a relative who spells names his way and guesses the age, a passport in Latin
letters, a Russian document in Cyrillic (sometimes family name first), and a family's phone.

The rules below come from DOMAIN.md section 2 and from how Iraqi families name their sons, not
from the scorer: brothers share everything but the given name (and often the family phone), twins
share the birth year too, cousins are often named after the same grandfather, a son carries his
father's name one position further, and the commonest names repeat across unrelated families.
Some "same" pairs carry honest mistakes (a mother's name written wrong, a misremembered age, a
family that moved district) and some "different" pairs cannot be told apart from the names alone.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cases.demo import names  # noqa: E402

OUTPUT = Path(__file__).resolve().parent.parent / "cases/matching/data/evaluation.csv"
SEED = 6
SIDES = ("a", "b")
RECORD_FIELDS = (
    "given",
    "father",
    "grandfather",
    "great_grandfather",
    "laqab",
    "mother",
    "other_names",
    "sex",
    "birth_year",
    "governorate",
    "district",
    "phones",
    "documents",
)
COLUMNS = ("pair", "category", "label", *(f"{s}_{f}" for s in SIDES for f in RECORD_FIELDS))

# --- Names ---------------------------------------------------------------------------------

# The demo lists hold the commonest names; real case bases have a long tail of rarer ones. Each
# entry: Arabic, the common romanisation, the usual Russian rendering.
TAIL_YOUNG_MEN = (
    ("محمود", "Mahmoud", "Махмуд"),
    ("زياد", "Ziyad", "Зияд"),
    ("سيف", "Saif", "Саиф"),
    ("وسام", "Wisam", "Висам"),
    ("أنور", "Anwar", "Анвар"),
    ("فراس", "Firas", "Фирас"),
    ("رعد", "Raad", "Раад"),
    ("ليث", "Laith", "Лейс"),
    ("أسامة", "Usama", "Усама"),
    ("بلال", "Bilal", "Билал"),
    ("هشام", "Hisham", "Хишам"),
    ("نبيل", "Nabeel", "Набиль"),
    ("وليد", "Waleed", "Валид"),
    ("سلام", "Salam", "Салам"),
    ("حارث", "Harith", "Харис"),
    ("مهند", "Muhannad", "Муханнад"),
    ("أيمن", "Ayman", "Айман"),
    ("قيصر", "Qaisar", "Кайсар"),
    ("غيث", "Ghaith", "Гейс"),
    ("نصير", "Naseer", "Насир"),
    ("رسول", "Rasool", "Расул"),
    ("تحسين", "Tahseen", "Тахсин"),
    ("حامد", "Hamid", "Хамид"),
    ("سعيد", "Saeed", "Саид"),
    ("أثير", "Atheer", "Асир"),
    ("ميثم", "Maitham", "Мейсам"),
    ("صفاء", "Safaa", "Сафа"),
    ("عدي", "Uday", "Удай"),
    ("همام", "Hammam", "Хаммам"),
    ("يحيى", "Yahya", "Яхья"),
    ("إسماعيل", "Ismail", "Исмаил"),
    ("موسى", "Musa", "Муса"),
    ("طه", "Taha", "Таха"),
    ("حازم", "Hazim", "Хазим"),
    ("ثائر", "Thaer", "Саир"),
    ("مازن", "Mazin", "Мазен"),
    ("ضرغام", "Dhirgham", "Диргам"),
    ("ناظم", "Nadhim", "Назим"),
    ("زياد", "Ziad", "Зияд"),
)
TAIL_ELDER_MEN = (
    ("عماد", "Imad", "Имад"),
    ("ثامر", "Thamir", "Тамир"),
    ("سلمان", "Salman", "Салман"),
    ("ناظم", "Nadhim", "Назим"),
    ("سعيد", "Saeed", "Саид"),
    ("عبد الواحد", "Abdul Wahid", "Абдул Вахид"),
    ("عبد السادة", "Abdul Sada", "Абдул Сада"),
    ("مطشر", "Mutashar", "Муташар"),
    ("شلال", "Shallal", "Шаллал"),
    ("لفتة", "Lafta", "Лафта"),
    ("غانم", "Ghanim", "Ганим"),
    ("حمود", "Hamood", "Хамуд"),
    ("كامل", "Kamil", "Камиль"),
    ("جليل", "Jaleel", "Джалиль"),
    ("عزيز", "Azeez", "Азиз"),
    ("نوري", "Noori", "Нури"),
    ("صبري", "Sabri", "Сабри"),
    ("فرحان", "Farhan", "Фархан"),
    ("مزهر", "Mizher", "Мизхер"),
    ("عبد علي", "Abd Ali", "Абд Али"),
    ("حسون", "Hassoon", "Хассун"),
    ("يونس", "Younis", "Юнус"),
    ("سلطان", "Sultan", "Султан"),
    ("خالد", "Khalid", "Халид"),
    ("عبد الجبار", "Abdul Jabbar", "Абдул Джаббар"),
    ("منصور", "Mansour", "Мансур"),
    ("ماجد", "Majid", "Маджид"),
    ("زامل", "Zamil", "Замиль"),
    ("داود", "Dawood", "Дауд"),
    ("عطية", "Atiya", "Атия"),
    ("محمود", "Mahmoud", "Махмуд"),
    ("حامد", "Hamid", "Хамид"),
)
TAIL_LAQABS = (
    ("اللامي", "Lami", "Лями"),
    ("البديري", "Bdairi", "Бдейри"),
    ("الحچامي", "Hachami", "Хачами"),
    ("العتابي", "Attabi", "Аттаби"),
    ("البهادلي", "Bahadli", "Бахадли"),
    ("الركابي", "Rikabi", "Рикаби"),
    ("الشويلي", "Shwaili", "Швейли"),
    ("الحمداني", "Hamdani", "Хамдани"),
    ("العزاوي", "Azzawi", "Аззави"),
    ("النداوي", "Nadawi", "Надави"),
    ("الخالدي", "Khalidi", "Халиди"),
    ("المحمداوي", "Mohammadawi", "Мохаммадави"),
    ("الحسناوي", "Hasnawi", "Хаснави"),
    ("الزيدي", "Zaidi", "Заиди"),
    ("الدراجي", "Darraji", "Дарраджи"),
)
TAIL_MOTHERS = (
    "جميلة",
    "رجاء",
    "سميرة",
    "ليلى",
    "نجاة",
    "هناء",
    "ابتسام",
    "انتصار",
    "كريمة",
    "شذى",
    "غنية",
    "حسنة",
    "جنان",
    "سهام",
    "منى",
)

# Russian renderings of the commonest names, as Russian migration and hospital records write
# them; the first is the usual one. Others come from the Latin spelling by TO_CYRILLIC.
RUSSIAN = {
    "محمد": ("Мохаммед", "Мухаммед", "Мохамед", "Мухаммад"),
    "علي": ("Али",),
    "حسين": ("Хусейн", "Хуссейн", "Хусеин"),
    "حيدر": ("Хайдер", "Хейдер"),
    "أحمد": ("Ахмед", "Ахмад"),
    "مصطفى": ("Мустафа",),
    "عباس": ("Аббас", "Абас"),
    "حسن": ("Хасан", "Хассан"),
    "كرار": ("Каррар", "Карар"),
    "سجاد": ("Саджад", "Саджжад"),
    "كاظم": ("Казим", "Кадим", "Кязим"),
    "قاسم": ("Касим", "Гасим"),
    "جاسم": ("Джасим", "Джассим"),
    "كريم": ("Карим",),
    "هادي": ("Хади",),
    "جبار": ("Джаббар", "Джабар"),
    "مرتضى": ("Муртаза", "Муртада"),
    "منتظر": ("Мунтазар", "Мунтадар"),
    "يوسف": ("Юсуф", "Юсеф"),
    "عبد الله": ("Абдулла", "Абдуллах"),
    "جعفر": ("Джафар", "Джаафар"),
    "مهدي": ("Махди", "Мехди"),
    "رضا": ("Рида", "Реза"),
    "زيد": ("Зейд", "Заид"),
    "أمير": ("Амир",),
    "عمار": ("Аммар", "Амар"),
    "صادق": ("Садик",),
    "باقر": ("Бакир",),
    "ياسر": ("Ясир", "Яссер"),
    "حمزة": ("Хамза",),
    "علاء": ("Алаа", "Ала"),
    "ضياء": ("Дия", "Зия"),
    "حسنين": ("Хасанейн", "Хасанайн"),
    "عقيل": ("Акиль", "Акил"),
    "مؤمل": ("Муаммаль",),
    "عبد الأمير": ("Абдул Амир", "Абдульамир"),
    "عبد الحسين": ("Абдул Хусейн", "Абдульхусейн"),
    "عبد الزهرة": ("Абдул Захра",),
    "عبد الكريم": ("Абдул Карим", "Абдулькарим"),
    "عبد الرضا": ("Абдул Рида",),
    "عبد الرزاق": ("Абдул Раззак",),
    "سعد": ("Саад", "Сад"),
    "صالح": ("Салих", "Салех"),
    "ناصر": ("Насир", "Насер"),
    "إبراهيم": ("Ибрагим", "Ибрахим"),
    "خليل": ("Халиль", "Халил"),
}

# Latin to Cyrillic for names without a Russian rendering above, applied left to right.
TO_CYRILLIC = (
    ("kh", "х"),
    ("sh", "ш"),
    ("ch", "ч"),
    ("gh", "г"),
    ("dh", "з"),
    ("th", "с"),
    ("ee", "и"),
    ("oo", "у"),
    ("ou", "у"),
    ("aa", "а"),
    ("ai", "ай"),
    ("ei", "ей"),
    ("ay", "ай"),
    ("ya", "я"),
    ("yu", "ю"),
    ("j", "дж"),
    ("y", "й"),
    ("a", "а"),
    ("b", "б"),
    ("d", "д"),
    ("e", "е"),
    ("f", "ф"),
    ("g", "г"),
    ("h", "х"),
    ("i", "и"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("q", "к"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("w", "в"),
    ("z", "з"),
    ("'", ""),
)

# Pairs of real, different names one letter or one long vowel apart: brothers are often given
# such pairs (Hasan and Husain above all), and a careless comparison takes them for variants.
NEAR_NAMES = (
    ("حسن", "حسين"),
    ("حسين", "حسنين"),
    ("محمد", "محمود"),
    ("محمد", "أحمد"),
    ("جاسم", "قاسم"),
    ("زيد", "زياد"),
    ("كاظم", "ناظم"),
    ("حامد", "أحمد"),
    ("سعد", "سعيد"),
    ("علي", "علاء"),
)

TAIL_WEIGHT = 1  # each tail name is about as frequent as the rarest listed one


def _pool(common: tuple[tuple[str, int], ...], tail: tuple) -> tuple[list[str], list[int]]:
    people = dict(common)
    for entry in tail:
        arabic = entry[0] if isinstance(entry, tuple) else entry
        people.setdefault(arabic, TAIL_WEIGHT)
    return list(people), list(people.values())


YOUNG_MEN = _pool(names.YOUNG_MEN, TAIL_YOUNG_MEN)
ELDER_MEN = _pool(names.ELDER_MEN, TAIL_ELDER_MEN)
LAQABS = _pool(names.LAQABS, TAIL_LAQABS)
MOTHERS = _pool(names.MOTHERS, TAIL_MOTHERS)
YOUNG_WOMEN = _pool(names.YOUNG_WOMEN, ())
TAIL_LATIN = {a: latin for a, latin, _ in (*TAIL_YOUNG_MEN, *TAIL_ELDER_MEN, *TAIL_LAQABS)}
TAIL_RUSSIAN = {a: ru for a, _, ru in (*TAIL_YOUNG_MEN, *TAIL_ELDER_MEN, *TAIL_LAQABS)}
COMMONEST_GIVEN = [n for n, w in names.YOUNG_MEN if w >= 5]
COMMONEST_ELDER = [n for n, w in names.ELDER_MEN if w >= 5]

# Districts where the families come from (weights as in the demo seeder), and a few others.
DISTRICTS = (
    ("IQG07Q04", 14),
    ("IQG07Q02", 10),
    ("IQG07Q01", 3),
    ("IQG07Q03", 3),
    ("IQG08Q07", 5),
    ("IQG08Q06", 3),
    ("IQG08Q03", 3),
    ("IQG08Q02", 2),
    ("IQG08Q05", 2),
    ("IQG12Q03", 6),
    ("IQG12Q02", 2),
    ("IQG04Q03", 5),
    ("IQG04Q01", 2),
    ("IQG02Q02", 5),
    ("IQG02Q06", 2),
    ("IQG05Q02", 5),
    ("IQG05Q04", 2),
    ("IQG17Q04", 5),
    ("IQG17Q05", 2),
    ("IQG18Q02", 2),
    ("IQG14Q01", 2),
    ("IQG03Q04", 1),
)
DISTRICT_CODES = [d for d, _ in DISTRICTS]
DISTRICT_WEIGHTS = [w for _, w in DISTRICTS]


def governorate(district: str) -> str:
    return district[:5]


# --- People --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One man (or woman) as he really is; records are renderings of him."""

    given: str
    father: str
    grandfather: str
    great_grandfather: str
    laqab: str
    mother: str  # «اسم الأم الثلاثي»: her given name, her father's, her grandfather's
    sex: str
    birth_year: int
    district: str
    phone: str  # his own mobile
    family_phone: str  # the number the family gives, shared by brothers
    document: str  # passport number


class World:
    """Deterministic source of people, phones and documents."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0

    def pick(self, pool: tuple[list[str], list[int]]) -> str:
        return self.rng.choices(pool[0], weights=pool[1])[0]

    def pick_other(self, pool: tuple[list[str], list[int]], *avoid: str) -> str:
        while True:
            name = self.pick(pool)
            if name not in avoid:
                return name

    def token(self, kind: str) -> str:
        self.serial += 1
        return f"{kind}-{self.serial:05d}"

    def district(self) -> str:
        return self.rng.choices(DISTRICT_CODES, weights=DISTRICT_WEIGHTS)[0]

    def mother(self) -> str:
        return " ".join((self.pick(MOTHERS), self.pick(ELDER_MEN), self.pick(ELDER_MEN)))

    def person(self, **fixed: str | int) -> Person:
        father = fixed.pop("father", None) or self.pick(ELDER_MEN)
        grandfather = fixed.pop("grandfather", None) or self.pick_other(ELDER_MEN, father)
        sex = fixed.pop("sex", "male")
        fields = {
            "given": self.pick(YOUNG_MEN if sex == "male" else YOUNG_WOMEN),
            "father": father,
            "grandfather": grandfather,
            "great_grandfather": self.pick(ELDER_MEN),
            "laqab": self.pick(LAQABS),
            "mother": self.mother(),
            "sex": sex,
            "birth_year": self.rng.randint(1985, 2007),
            "district": self.district(),
            "phone": self.token("phone"),
            "family_phone": self.token("phone"),
            "document": self.token("doc"),
        }
        fields.update(fixed)
        return Person(**fields)

    def brother(self, man: Person, given: str | None = None, year: int | None = None) -> Person:
        """Same parents, same family phone; his own given name, mobile and passport."""
        if given is None:
            pool = YOUNG_MEN if man.sex == "male" else YOUNG_WOMEN
            given = self.pick_other(pool, man.given)
        if year is None:
            year = man.birth_year + self.rng.choice((-1, 1)) * self.rng.randint(1, 12)
        return replace(
            man,
            given=given,
            birth_year=year,
            phone=self.token("phone"),
            document=self.token("doc"),
        )


# --- Spelling ------------------------------------------------------------------------------


def latin_options(arabic: str) -> tuple[str, ...]:
    """Latin spellings of one Arabic name, commonest first (laqabs without the article)."""
    if arabic in TAIL_LATIN:
        base = TAIL_LATIN[arabic].lower()
        variants = [base]
        for pattern, alternatives in names.SPELLING_RULES:
            variants = [
                v.replace(pattern, alt) if pattern in v else v
                for v in variants
                for alt in alternatives
            ]
            variants = list(dict.fromkeys(variants))
        return tuple(" ".join(w.capitalize() for w in v.split()) for v in variants[:4])
    return names.latin_spellings(arabic)


def mothers_given(mother: str) -> str:
    """Her own name out of «اسم الأم الثلاثي» (أم البنين is one name of two words)."""
    return next(n for n in MOTHERS[0] if mother.startswith(n + " "))


def strip_article(laqab: str) -> str:
    return laqab[2:] if laqab.startswith("ال") else laqab


def to_cyrillic(latin: str) -> str:
    words = []
    for word in latin.lower().split():
        out, i = "", 0
        while i < len(word):
            for pattern, replacement in TO_CYRILLIC:
                if word.startswith(pattern, i):
                    out += replacement
                    i += len(pattern)
                    break
            else:
                out += word[i]
                i += 1
        words.append(out.capitalize())
    return " ".join(words)


# Harmless differences in Arabic writing (DOMAIN.md section 2): each rule turns the standard
# spelling into one people also write.
DIACRITICS = "\u064e\u064f\u0650\u0651\u0652"
DOTS = (
    "بتثني",
    "جحخ",
    "دذ",
    "رز",
    "سش",
    "صض",
    "طظ",
    "عغ",
    "فق",
)


class Speller:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def arabic(self, name: str, laqab: bool = False) -> str:
        """The name as another hand writes it in Arabic script: same name, other spelling."""
        rng = self.rng
        if laqab and rng.random() < 0.35:
            name = strip_article(name)
        if rng.random() < 0.5:
            name = name.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
        elif not laqab and name.startswith("ا") and rng.random() < 0.3:
            name = "أ" + name[1:]
        if rng.random() < 0.5:
            name = name.replace("ة", "ه")
        if name.endswith("ى") and rng.random() < 0.6:
            name = name[:-1] + "ي"
        if name.endswith("اء") and rng.random() < 0.4:
            name = name[:-1]  # زهراء / زهرا: the final hamza is often left out
        if "عبد " in name and rng.random() < 0.5:
            name = name.replace("عبد ", "عبد")
        if "گ" in name and rng.random() < 0.6:
            name = name.replace("گ", rng.choice("قك"))
        if "چ" in name and rng.random() < 0.6:
            name = name.replace("چ", rng.choice("جك"))
        if rng.random() < 0.15:
            name = name.replace("ي", "ی").replace("ك", "ک")  # a Persian/Kurdish keyboard
        if rng.random() < 0.15:
            name = self._diacritics(name)
        if rng.random() < 0.05 and len(name) > 3:
            name = name[:2] + "\u0640" + name[2:]  # tatweel
        return name

    def _diacritics(self, name: str) -> str:
        out = []
        for ch in name:
            out.append(ch)
            if ch != " " and self.rng.random() < 0.4:
                out.append(self.rng.choice(DIACRITICS))
        return "".join(out)

    def arabic_typo(self, name: str) -> str:
        """One slip of the hand: a letter with the wrong dots, dropped or doubled."""
        rng = self.rng
        positions = [i for i, ch in enumerate(name) if ch != " " and i > 0]
        if not positions:
            return name
        i = rng.choice(positions)
        kind = rng.random()
        group = next((g for g in DOTS if name[i] in g), None)
        if kind < 0.55 and group:
            return name[:i] + rng.choice([c for c in group if c != name[i]]) + name[i + 1 :]
        if kind < 0.8 and len(name.replace(" ", "")) > 3:
            return name[:i] + name[i + 1 :]
        return name[:i] + name[i] + name[i:]

    def latin_typo(self, name: str) -> str:
        rng = self.rng
        i = rng.randrange(1, len(name) - 1) if len(name) > 2 else 0
        kind = rng.random()
        if kind < 0.4:
            return name[:i] + name[i + 1 :]
        if kind < 0.7:
            return name[:i] + name[i] + name[i:]
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]

    def latin(self, arabic: str, laqab: bool = False) -> str:
        options = latin_options(arabic)
        # Passports mostly carry the commonest spelling; the rest are rarer.
        weights = [6, 3, 2, 1, 1][: len(options)]
        word = self.rng.choices(options, weights=weights)[0]
        if laqab and self.rng.random() < 0.6:
            word = self.rng.choice(("Al-", "Al-", "Al ", "El-", "Al")) + word
        return word

    def cyrillic(self, arabic: str, laqab: bool = False) -> str:
        if arabic in RUSSIAN:
            options = RUSSIAN[arabic]
            word = self.rng.choices(options, weights=[5, 2, 1, 1][: len(options)])[0]
        elif arabic in TAIL_RUSSIAN:
            word = TAIL_RUSSIAN[arabic]
        else:
            word = to_cyrillic(latin_options(arabic)[0])
        if laqab:
            word = self.rng.choice(("Аль-", "Аль-", "Ал-", "Эль-")) + word
        return word


# --- Records -------------------------------------------------------------------------------

NAME_FIELDS = ("given", "father", "grandfather", "great_grandfather", "laqab")


def empty_record() -> dict[str, str]:
    return dict.fromkeys(RECORD_FIELDS, "")


class Renderer:
    """How each source records a person."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = world.rng
        self.spell = Speller(world.rng)

    def _place(self, record: dict, man: Person, known: float, moved: float = 0.0) -> None:
        rng = self.rng
        if rng.random() >= known:
            return
        district = man.district
        if rng.random() < moved:
            # The family has moved or reports from where it lives now: mostly within the same
            # governorate, sometimes to Baghdad.
            others = [d for d in DISTRICT_CODES if d != district]
            same_gov = [d for d in others if governorate(d) == governorate(district)]
            if same_gov and rng.random() < 0.7:
                district = rng.choice(same_gov)
            else:
                district = rng.choice(others)
        record["district"] = district
        record["governorate"] = governorate(district)

    def case(self, man: Person, *, latin_alias: float = 0.35) -> dict[str, str]:
        """A case file typed by staff from the first family visit, standard spelling."""
        rng = self.rng
        record = empty_record()
        record["given"] = man.given
        record["father"] = man.father
        if rng.random() < 0.93:
            record["grandfather"] = man.grandfather
            if rng.random() < 0.35:
                record["great_grandfather"] = man.great_grandfather
        if rng.random() < 0.6:
            record["laqab"] = man.laqab
        if rng.random() < 0.7:
            record["mother"] = man.mother if rng.random() < 0.7 else mothers_given(man.mother)
        record["sex"] = man.sex
        if rng.random() < 0.75:
            record["birth_year"] = str(man.birth_year)
        self._place(record, man, known=0.9)
        phones = []
        if rng.random() < 0.4:
            phones.append(man.phone)
        if rng.random() < 0.5:
            phones.append(man.family_phone)
        record["phones"] = " ".join(phones)
        if rng.random() < 0.2:
            record["documents"] = man.document
        if rng.random() < latin_alias:
            parts = [self.spell.latin(man.given), self.spell.latin(man.father)]
            if rng.random() < 0.7:
                parts.append(self.spell.latin(man.grandfather))
            if rng.random() < 0.4:
                parts.append(self.spell.latin(man.laqab, laqab=True))
            record["other_names"] = " ".join(parts)
        return record

    def inquiry(self, man: Person, *, parts: tuple[str, ...] | None = None) -> dict[str, str]:
        """A relative's inquiry: his own spelling, an age rather than a date, the family phone."""
        rng = self.rng
        record = empty_record()
        if parts is None:
            parts = ["given", "father"]
            if rng.random() < 0.85:
                parts.append("grandfather")
                if rng.random() < 0.15:
                    parts.append("great_grandfather")
            if rng.random() < 0.5:
                parts.append("laqab")
        for part in parts:
            record[part] = self.spell.arabic(getattr(man, part), laqab=part == "laqab")
        if rng.random() < 0.6:
            mother = man.mother if rng.random() < 0.5 else mothers_given(man.mother)
            record["mother"] = " ".join(self.spell.arabic(w) for w in mother.split())
        record["sex"] = man.sex if rng.random() < 0.9 else ""
        if rng.random() < 0.85:
            # The age as the relative remembers it, at a date that is not the birthday.
            error = rng.choices((0, 1, -1, 2, -2, 3, -4), weights=(60, 15, 15, 4, 3, 2, 1))[0]
            record["birth_year"] = str(man.birth_year + error)
        self._place(record, man, known=0.85, moved=0.12)
        if rng.random() < 0.6:
            record["phones"] = man.family_phone
        return record

    def passport(self, man: Person) -> dict[str, str]:
        """A Latin-script record (passport copy, NGO partner list): names only in Latin."""
        rng = self.rng
        record = empty_record()
        latin = [self.spell.latin(man.given), self.spell.latin(man.father)]
        if rng.random() < 0.8:
            latin.append(self.spell.latin(man.grandfather))
        laqab = self.spell.latin(man.laqab, laqab=True) if rng.random() < 0.5 else None
        if rng.random() < 0.5:
            for part, value in zip(("given", "father", "grandfather"), latin, strict=False):
                record[part] = value
            record["laqab"] = laqab or ""
        else:
            record["other_names"] = " ".join([*latin, *([laqab] if laqab else [])])
        record["sex"] = man.sex
        if rng.random() < 0.9:
            record["birth_year"] = str(man.birth_year)
        if rng.random() < 0.25:
            record["documents"] = man.document
        return record

    def russian(self, man: Person) -> dict[str, str]:
        """A Russian record (migration card, hospital, detention list) in Cyrillic."""
        rng = self.rng
        record = empty_record()
        cyr = [self.spell.cyrillic(man.given), self.spell.cyrillic(man.father)]
        if rng.random() < 0.6:
            cyr.append(self.spell.cyrillic(man.grandfather))
        laqab = self.spell.cyrillic(man.laqab, laqab=True) if rng.random() < 0.4 else None
        style = rng.random()
        if style < 0.4:
            for part, value in zip(("given", "father", "grandfather"), cyr, strict=False):
                record[part] = value
            record["laqab"] = laqab or ""
        elif style < 0.75 or not laqab:
            record["other_names"] = " ".join([*cyr, *([laqab] if laqab else [])])
        else:
            record["other_names"] = " ".join([laqab, *cyr])  # family name first, Russian style
        record["sex"] = man.sex if rng.random() < 0.9 else ""
        if rng.random() < 0.9:
            record["birth_year"] = str(man.birth_year + (rng.random() < 0.05))
        if rng.random() < 0.2:
            record["documents"] = man.document
        return record

    def any_source(self, man: Person, weights: tuple[int, int, int, int]) -> dict[str, str]:
        kinds = (self.case, self.inquiry, self.passport, self.russian)
        return self.rng.choices(kinds, weights=weights)[0](man)


# --- Pairs ---------------------------------------------------------------------------------


class Builder:
    def __init__(self, seed: int = SEED) -> None:
        self.world = World(seed)
        self.rng = self.world.rng
        self.render = Renderer(self.world)
        self.rows: list[dict[str, str]] = []

    def add(self, category: str, label: str, a: dict, b: dict) -> None:
        if self.rng.random() < 0.5:
            a, b = b, a
        row = {"pair": str(len(self.rows) + 1), "category": category, "label": label}
        for side, record in zip(SIDES, (a, b), strict=True):
            for field in RECORD_FIELDS:
                row[f"{side}_{field}"] = record[field]
        self.rows.append(row)

    # Same person --------------------------------------------------------------------------

    def honest_mistakes(self, record: dict, man: Person) -> None:
        """Rare errors in one source about the same man."""
        rng = self.rng
        if record["mother"] and rng.random() < 0.03:
            record["mother"] = self.world.mother()  # the cousin who reported did not know her
        if record["birth_year"] and rng.random() < 0.02:
            record["birth_year"] = str(man.birth_year + rng.choice((-6, -5, 5, 7)))

    def arabic_variant(self, n: int) -> None:
        for _ in range(n):
            man = self.world.person()
            inquiry = self.render.inquiry(man)
            self.honest_mistakes(inquiry, man)
            self.add("arabic-variant", "same", self.render.case(man), inquiry)

    def latin_variant(self, n: int) -> None:
        for _ in range(n):
            man = self.world.person()
            first = self.render.any_source(man, (2, 1, 0, 0))
            self.add("latin-variant", "same", first, self.render.passport(man))

    def cyrillic_variant(self, n: int) -> None:
        for _ in range(n):
            man = self.world.person()
            first = self.render.any_source(man, (5, 3, 2, 0))
            self.add("cyrillic-variant", "same", first, self.render.russian(man))

    def missing_part(self, n: int) -> None:
        for _ in range(n):
            man = self.world.person()
            parts = self.rng.choice(
                (
                    ("given", "father"),
                    ("given", "father", "laqab"),
                    ("given", "father", "great_grandfather"),
                    ("given", "father", "grandfather"),
                )
            )
            case = self.render.case(man)
            if parts == ("given", "father", "grandfather"):
                # The inquiry has the triple name; the case has the quadruple one.
                case["grandfather"] = man.grandfather
                case["great_grandfather"] = man.great_grandfather
            inquiry = self.render.inquiry(man, parts=parts)
            self.add("missing-part", "same", case, inquiry)

    def shifted_part(self, n: int) -> None:
        """The relative skipped the father: grandfather and great-grandfather moved up one."""
        for _ in range(n):
            man = self.world.person()
            case = self.render.case(man)
            case["grandfather"] = man.grandfather
            case["great_grandfather"] = man.great_grandfather if self.rng.random() < 0.6 else ""
            inquiry = self.render.inquiry(man, parts=("given",))
            inquiry["father"] = self.render.spell.arabic(man.grandfather)
            if self.rng.random() < 0.6:
                inquiry["grandfather"] = self.render.spell.arabic(man.great_grandfather)
            self.add("shifted-part", "same", case, inquiry)

    def typo(self, n: int) -> None:
        for _ in range(n):
            man = self.world.person()
            case = self.render.case(man)
            if self.rng.random() < 0.75:
                other = self.render.inquiry(man)
                fields = [f for f in NAME_FIELDS if other[f]]
                field = self.rng.choices(fields, weights=[3 if f == "given" else 2 for f in fields])
                other[field[0]] = self.render.spell.arabic_typo(other[field[0]])
            else:
                other = self.render.passport(man)
                if other["given"]:
                    field = self.rng.choice([f for f in NAME_FIELDS if other[f]])
                    other[field] = self.render.spell.latin_typo(other[field])
                else:
                    words = other["other_names"].split(" ")
                    i = self.rng.randrange(len(words))
                    words[i] = self.render.spell.latin_typo(words[i])
                    other["other_names"] = " ".join(words)
            self.add("typo", "same", case, other)

    def alias(self, n: int) -> None:
        """The family calls him by his pet name; the case keeps it as an alias."""
        nicknamed = list(names.NICKNAMES)
        for _ in range(n):
            man = self.world.person(given=self.rng.choice(nicknamed))
            case = self.render.case(man, latin_alias=0)
            pet = names.NICKNAMES[man.given]
            case["other_names"] = f"{pet} {man.father} {man.grandfather}"
            inquiry = self.render.inquiry(man)
            inquiry["given"] = pet
            self.add("alias", "same", case, inquiry)

    # Different people ---------------------------------------------------------------------

    def brothers(self, n: int) -> None:
        for i in range(n):
            man = self.world.person()
            roll = self.rng.random()
            if roll < 0.15:
                near = self.rng.choice(NEAR_NAMES)
                man = replace(man, given=near[0])
                brother = self.world.brother(man, given=near[1])
            elif roll < 0.25:
                brother = self.world.brother(man, year=man.birth_year)  # twins
            else:
                brother = self.world.brother(man)
            first = self.render.case(man)
            second = self.render.any_source(brother, (3, 5, 1, 1) if i % 2 else (5, 3, 1, 1))
            self.add("brothers", "different", first, second)

    def sisters(self, n: int) -> None:
        for _ in range(n):
            woman = self.world.person(sex="female")
            sister = self.world.brother(woman)
            first = self.render.case(woman)
            self.add("sisters", "different", first, self.render.inquiry(sister))

    def cousins(self, n: int) -> None:
        """Sons of two brothers: same grandfather, great-grandfather and laqab; often the same
        given name too, after that grandfather or simply because it is common."""
        for _ in range(n):
            man = self.world.person()
            uncle = self.world.pick_other(ELDER_MEN, man.father, man.grandfather)
            given = man.given if self.rng.random() < 0.4 else None
            cousin = self.world.person(
                father=uncle,
                grandfather=man.grandfather,
                great_grandfather=man.great_grandfather,
                laqab=man.laqab,
                district=man.district if self.rng.random() < 0.8 else self.world.district(),
                birth_year=man.birth_year + self.rng.randint(-8, 8),
                **({"given": given} if given else {}),
            )
            second = self.render.any_source(cousin, (4, 4, 1, 1))
            self.add("cousins", "different", self.render.case(man), second)

    def father_son(self, n: int) -> None:
        """The son's name is the father's shifted by one: «علي محمد جاسم» is the son of
        «محمد جاسم كاظم»."""
        for _ in range(n):
            father = self.world.person(birth_year=self.rng.randint(1960, 1980))
            son = self.world.person(
                father=father.given,
                grandfather=father.father,
                great_grandfather=father.grandfather,
                laqab=father.laqab,
                district=father.district,
                family_phone=father.family_phone,
                birth_year=father.birth_year + self.rng.randint(19, 32),
            )
            first = self.render.case(father)
            second = self.render.any_source(son, (3, 5, 1, 1))
            self.add("father-son", "different", first, second)

    def common_name(self, n: int) -> None:
        """Unrelated men whose given and father's names are both among the commonest."""
        for _ in range(n):
            given = self.rng.choice(COMMONEST_GIVEN)
            father = self.rng.choice(COMMONEST_ELDER)
            fixed: dict = {"given": given, "father": father}
            if self.rng.random() < 0.35:
                fixed["grandfather"] = self.world.pick_other(ELDER_MEN, father)
            one = self.world.person(**fixed)
            if self.rng.random() < 0.2:
                fixed["laqab"] = one.laqab
            if self.rng.random() < 0.3:
                fixed["district"] = one.district
            other = self.world.person(**fixed)
            second = self.render.any_source(other, (4, 4, 1, 1))
            self.add(
                "same-common-name-different-person", "different", self.render.case(one), second
            )

    def unrelated(self, n: int) -> None:
        """Two men from one district, names drawn independently."""
        for _ in range(n):
            one = self.world.person()
            other = self.world.person(district=one.district)
            second = self.render.any_source(other, (4, 4, 1, 1))
            self.add("unrelated", "different", self.render.case(one), second)

    def build(self) -> list[dict[str, str]]:
        self.arabic_variant(260)
        self.latin_variant(240)
        self.cyrillic_variant(220)
        self.missing_part(150)
        self.shifted_part(100)
        self.typo(150)
        self.alias(50)
        self.brothers(320)
        self.sisters(40)
        self.cousins(220)
        self.father_son(120)
        self.common_name(320)
        self.unrelated(150)
        return self.rows


def render_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def generate() -> str:
    """The evaluation set as CSV text; the same text on every run."""
    return render_csv(Builder(SEED).build())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is not current")
    args = parser.parse_args()
    text = generate()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            sys.exit(f"{OUTPUT} is out of date: run bench/make_evaluation_set.py")
        print(f"{OUTPUT} is current")
        return
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10)) - 1} pairs to {OUTPUT}")


if __name__ == "__main__":
    main()
