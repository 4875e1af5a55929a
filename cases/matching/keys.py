"""Cross-script consonant skeletons of names: the blocking key of matching (DOMAIN.md section 2).

«محمد», "Mohammed", "Muhammad" and "Мохаммед" are one name written four ways. A skeleton
keeps what every spelling agrees on, the consonants, each mapped to a class shared by the
Arabic letters and the Latin letters or digraphs that romanise them, and drops what
romanisations write at whim: short vowels (never written in Arabic), long vowels and the
glides و/ي in the middle of a word, ع and hamza, doubled letters, and a final ة/h:

    محمد / Mohammed / Muhammad / Mohamed / Мохаммед   -> MHMD
    عبد الرحمن / Abdul Rahman / Abdulrahman / Абдулрахман -> ABDRHMN

Skeletons are deliberately coarse (recall first): they choose which cases are compared, and
scoring then looks closer. Known collisions: حسن/حسين (HSN), محمد/محمود (MHMD), علي/علاء (AL),
عمر/عمار/عامر/أمير (AMR), حيدر/خضير (HDR: Russian Х is both ح and خ). Tokens come from
:func:`cases.matching.normalize.name_tokens`, which has already folded Cyrillic and accented
Latin to ASCII with anyascii, dropped the separate al-/el- article and unified Abd al-X.

Output alphabet (one ASCII letter per class; digits are kept as they are):

    class  Arabic           Latin (after anyascii)   why they share a class
    -----  ---------------  -----------------------  ------------------------------------------
    A      ا ع ء ۆ ێ (first) a e i o u (first)       a word that starts with a vowel sound:
                                                     عماد/Imad/Emad. Kept only as the first
                                                     letter, so أحمد (AHMD) ≠ حامد (HMD).
    W      و ڤ (first)      w v (first)              a first و is always the consonant:
                                                     وليد/Waleed/Валид (Russian В = و).
    Y      ي (first)        y (first)                يوسف/Yousif/Юсуф.
    B      ب پ              b p
    T      ت ط              t                        ط is written t everywhere: Talib.
    D      د ذ ض ظ ز ث      d dh z th                Iraqi ض/ظ/ذ are all "dh", and each is also
                                                     written d, z or th: Kadhim/Kazim/Kathim,
                                                     Dhiaa/Diya/Zia, Murtadha/Murtaza/Murtada.
                                                     ث is "th" (Haitham, Kawthar).
    J      ج چ ژ            j dj dzh ch c            ج is j/dj/Russian дж; چ is ch (Chasib), and
                                                     c is ج in Turkish and Kurdish Latin.
    H      ح خ ه            h kh x                   Russian х and Latin h stand for both ح and
                                                     خ (Хусейн, Халиль); x is خ in Kurdish Latin.
    K      ق ك گ غ          q k g gh ck              Iraqi ق is said g (Qasim/Kasim/Gassim);
                                                     گ is g; غ is gh but Russian г.
    S      س ص              s                        ص is s in every romanisation.
    C      ش                sh                       ش stays apart from س: sh is consistent.
    F      ف                f ph                     Mustafa/Mustapha.
    L M N R  ل م ن ر        l m n r
    (none) ا ع ء و ي        a e i o u w v y          dropped inside a word: long vowels, glides
                                                     and ع are written inconsistently (Karim/
                                                     Kareem/كريم, Yusuf/Yousif/يوسف, Saad/سعد).

Further rules, applied per token:
- Runs of one class written next to each other collapse (Jabbar, Hussein, Мохаммед); a dropped
  letter between them keeps both, so حسنين/Hassanain (HSNN) stays apart from Hassan (HSN).
- A trailing H is dropped (unless it is the only letter): ة is read as ه but written a/ah/eh
  (فاطمة/Fatima/Fatimah), and the same then has to hold for ح (صالح/Saleh -> SL).
- The article: a leading ال (when at least three letters follow; not الياس/الهام) and a
  fused "al"/"el" (when at least four letters follow and not "all…": Aljanabi but Allawi) are
  dropped, as is the ال inside عبدال…/ابوال… compounds.
- Compounds are skeletonised piece by piece: a leading ابو/عبد ("Abu" stays a Latin word of its
  own; "abd" must not make "dh" with the next letter in "Abdulhussein"), and a trailing
  الدين/الله and its romanisations (-uddin, -eddine, -al-din, -allah, -ullah …), which become
  the fixed pieces DN and L, so صلاح الدين, "Salah al-Din" and "Salahuddin" meet (SLDN).
- "zh" is not one letter (Azhar is أزهر), so Russian ж, rare in Arabic names, reads as D+H.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from .normalize import name_tokens

__all__ = [
    "SKELETON_COLUMNS",
    "SKELETON_LENGTH",
    "case_skeletons",
    "first_skeleton",
    "is_arabic",
    "name_skeletons",
    "part_skeleton",
    "search_skeletons",
    "skeleton",
    "stored_token_skeletons",
]

# Stored in String(40) columns.
SKELETON_LENGTH = 40

_ARABIC_CLASSES = {
    "ب": "B",
    "پ": "B",
    "ت": "T",
    "ط": "T",
    "ث": "D",
    "د": "D",
    "ذ": "D",
    "ز": "D",
    "ض": "D",
    "ظ": "D",
    "ج": "J",
    "چ": "J",
    "ژ": "J",
    "ح": "H",
    "خ": "H",
    "ه": "H",
    "ق": "K",
    "ك": "K",
    "گ": "K",
    "غ": "K",
    "س": "S",
    "ص": "S",
    "ش": "C",
    "ف": "F",
    "ل": "L",
    "ڵ": "L",  # Kurdish heavy l
    "م": "M",
    "ن": "N",
    "ر": "R",
    "ڕ": "R",  # Kurdish trilled r
}
# Letters that only count as the first letter of a piece (see the table above).
_ARABIC_INITIAL = {
    "ا": "A",
    "ع": "A",
    "ء": "A",
    "ۆ": "A",  # Kurdish o
    "ێ": "A",  # Kurdish ê
    "و": "W",
    "ڤ": "W",  # Kurdish v
    "ي": "Y",
}

_LATIN_CLASSES = {
    "b": "B",
    "p": "B",
    "t": "T",
    "d": "D",
    "dh": "D",
    "th": "D",
    "z": "D",
    "j": "J",
    "dj": "J",
    "dzh": "J",
    "ch": "J",
    "c": "J",
    "h": "H",
    "kh": "H",
    "x": "H",
    "q": "K",
    "k": "K",
    "g": "K",
    "gh": "K",
    "ck": "K",
    "s": "S",
    "sh": "C",
    "f": "F",
    "ph": "F",
    "l": "L",
    "m": "M",
    "n": "N",
    "r": "R",
}
_LATIN_INITIAL = dict.fromkeys("aeiou", "A") | {"w": "W", "v": "W", "y": "Y"}
# Longest first, so "dzh" is one unit and not d + zh. "zh" is not a unit: Azhar is أزهر.
_LATIN_UNIT = re.compile(r"dzh|dj|kh|gh|sh|ch|th|dh|ph|ck|.", re.DOTALL)

_ARABIC_CHAR = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")

# Names that begin with ال without it being the article.
_NOT_ARTICLE = frozenset({"الياس", "الهام", "اليسع"})
# Trailing الدين / الله as the tokeniser glues them, and their romanisations.
_AR_SUFFIXES = (("الدين", "DN"), ("الله", "L"))
_LATIN_DIN = re.compile(r"([a-z]{2,}?)(?:[aeiou]l?)?d{1,2}(?:i|ee|ie|e)ne?")
_LATIN_ALLAH = re.compile(r"([a-z]{2,}?)[aeiou]ll[aeo]h?")
_LATIN_ALLAH_ALONE = re.compile(r"[aeiou]?ll[aeo]h?")
_LATIN_ARTICLE = re.compile(r"[ae]l(?!l)([a-z]{4,})")


def _collapse(classes: Iterable[str | None]) -> str:
    """Join classes, merging neighbours of one class; ``None`` (a dropped letter) separates."""
    out: list[str] = []
    previous: str | None = None
    for cls in classes:
        if cls is not None and cls != previous:
            out.append(cls)
        previous = cls
    # A final ة/ه (and so ح, which Latin writes the same way) is written or not at whim.
    if len(out) > 1 and out[-1] == "H":
        out.pop()
    return "".join(out)


def _arabic_piece(piece: str) -> str:
    classes: list[str | None] = []
    for i, ch in enumerate(piece):
        if ch.isdigit():
            classes.append(ch)
        elif i == 0 and ch in _ARABIC_INITIAL:
            classes.append(_ARABIC_INITIAL[ch])
        else:
            classes.append(_ARABIC_CLASSES.get(ch))
    return _collapse(classes)


def _latin_piece(piece: str) -> str:
    classes: list[str | None] = []
    for i, unit in enumerate(_LATIN_UNIT.findall(piece)):
        if unit.isdigit():
            classes.append(unit)
        elif i == 0 and unit in _LATIN_INITIAL:
            classes.append(_LATIN_INITIAL[unit])
        else:
            classes.append(_LATIN_CLASSES.get(unit))
    return _collapse(classes)


def _arabic_skeleton(token: str) -> str:
    if token.startswith("ال") and len(token) >= 5 and token not in _NOT_ARTICLE:
        token = token[2:]
    pieces: list[str] = []
    # ابو and عبد are pieces of their own: Latin keeps "Abu" a separate word, and "Abd" is
    # followed by a name whose first letter must not fuse with the d ("Abdulhussein").
    while (prefix := token[:3]) in ("ابو", "عبد") and len(token) >= 5:
        pieces.append(_arabic_piece(prefix))
        token = token[3:]
        # The article after them is dropped by the romanisations: "Abdul Rahman", "Abu Fadl".
        if token.startswith("ال") and len(token) >= 4:
            token = token[2:]
    suffix = ""
    for ending, key in _AR_SUFFIXES:
        if token == ending[2:]:  # عبد الله -> عبد + له
            return "".join(pieces) + key
        if token.endswith(ending) and len(token) > len(ending) + 1:
            token, suffix = token[: -len(ending)], key
            break
    pieces.append(_arabic_piece(token))
    return "".join(pieces) + suffix


def _latin_skeleton(token: str) -> str:
    pieces: list[str] = []
    # "abd" + name, as normalize writes every Abd al-X (see _arabic_skeleton).
    if token.startswith("abd") and len(token) >= 5:
        pieces.append(_latin_piece("abd"))
        token = token[3:]
        if _LATIN_ALLAH_ALONE.fullmatch(token):
            return "".join(pieces) + "L"
    suffix = ""
    if m := _LATIN_DIN.fullmatch(token):
        token, suffix = m.group(1), "DN"
    elif m := _LATIN_ALLAH.fullmatch(token):
        token, suffix = m.group(1), "L"
    if not pieces and (m := _LATIN_ARTICLE.fullmatch(token)):
        token = m.group(1)
    pieces.append(_latin_piece(token))
    return "".join(pieces) + suffix


def is_arabic(token: str) -> bool:
    """Whether a token from ``name_tokens()`` is Arabic script (the others are ASCII)."""
    return _ARABIC_CHAR.search(token) is not None


@lru_cache(maxsize=65_536)  # names repeat a lot; saving a case or seeding hits the cache
def skeleton(token: str) -> str:
    """The consonant skeleton of one token from ``name_tokens()``; "" if it has no letters.

    Script-free: an Arabic token and its Latin or Cyrillic spellings give the same string
    (see the module docstring for the classes).
    """
    if not token:
        return ""
    build = _arabic_skeleton if is_arabic(token) else _latin_skeleton
    return build(token)[:SKELETON_LENGTH]


def stored_token_skeletons(tokens: Iterable[str]) -> dict[str, str | None]:
    """The ``skeleton`` column of a case's search-token rows, by token.

    Each skeleton is stored once per case, on the last token in code-point order that has it:
    the Arabic token when the case has one (Arabic sorts after the ASCII of Latin and
    Cyrillic tokens). The case's set of skeletons is the same as with one on every row, in
    half the index, and a Latin row keeps its skeleton only when no Arabic token of the case
    has it: the search box relies on that to add Latin-only spellings to an Arabic query
    cheaply (cases.casework.listing).
    """
    stored: dict[str, str | None] = {}
    seen: set[str] = set()
    for token in sorted(set(tokens), reverse=True):
        key = skeleton(token) or None
        if key in seen:
            key = None
        elif key:
            seen.add(key)
        stored[token] = key
    return stored


def name_skeletons(text: str | None) -> list[str]:
    """Skeletons of the tokens of ``text``, in order (one per token of ``name_tokens``)."""
    return [skeleton(token) for token in name_tokens(text)] if text else []


def part_skeleton(text: str | None) -> str | None:
    """One key for a whole name part, e.g. a compound given name; ``None`` when empty.

    The tokens' skeletons are concatenated, so «ابو علي» (one token) and "Abu Ali" (two)
    meet, and so do «صلاح الدين» and "Salah al-Din".
    """
    joined = "".join(name_skeletons(text))[:SKELETON_LENGTH]
    return joined or None


def first_skeleton(text: str | None) -> str | None:
    """Skeleton of the first token of ``text``: the given name in a mother's triple name."""
    skeletons = name_skeletons(text)
    return (skeletons[0] or None) if skeletons else None


# The stored skeleton columns of a case, as case_skeletons() names them.
SKELETON_COLUMNS = ("given_skel", "father_skel", "grandfather_skel", "laqab_skel", "mother_skel")


def case_skeletons(
    given: str | None,
    father: str | None,
    grandfather: str | None,
    laqab: str | None,
    mother: str | None,
) -> dict[str, str | None]:
    """The stored skeleton columns of a case (or any record with these parts), by column name.

    One function for the app and the demo seeder, so both store the same keys.
    """
    return {
        "given_skel": part_skeleton(given),
        "father_skel": part_skeleton(father),
        "grandfather_skel": part_skeleton(grandfather),
        "laqab_skel": part_skeleton(laqab),
        "mother_skel": first_skeleton(mother),
    }


# Latin forms of ابو, which the tokeniser leaves a word of its own.
_LATIN_ABU = frozenset({"abu", "abo", "abou", "aboo"})


def search_skeletons(tokens: Sequence[str]) -> list[frozenset[str]]:
    """The skeletons each search-box token may match, aligned with ``tokens``.

    A token matches cases with a token of the same skeleton. A Latin "Abu" and the word after
    it also match the skeleton of the two joined, since the stored Arabic token is «ابوعلي»
    where the query says "Abu Ali". Empty skeletons are left out.
    """
    skeletons = [skeleton(token) for token in tokens]
    result = [{s} if s else set() for s in skeletons]
    for i, token in enumerate(tokens[:-1]):
        if token in _LATIN_ABU:
            joined = (skeletons[i] + skeletons[i + 1])[:SKELETON_LENGTH]
            result[i].add(joined)
            result[i + 1].add(joined)
    return [frozenset(r) for r in result]
