"""How likely two records describe one person: a score 0-100, a band, and the reasons.

Scoring only suggests; a person decides (DOMAIN.md section 2), so every point comes with a
reason the caseworker can check: which names agreed and how, what differs, what is unknown.

Names are compared part by part in their official order (given with given, father with father,
...). A part agrees when its Arabic canonical forms are equal (cases.matching.normalize), or
failing that when its cross-script skeletons are (cases.matching.keys: محمد = Mohammed =
Мохаммед), or is "similar" when a slip of the hand separates them. Agreement on a common name
earns less than agreement on a rare one (cases.matching.weights). Other spellings of the whole
name (passport Latin, Cyrillic, aliases) are read as positional parts too, and the best reading
counts; so does the reading where one record left out the father's name.

What settles most pairs is the given name: brothers share everything else, often the family
phone too, and a son carries his father's names one position further. So a given name that
clearly differs (not a variant, not a slip) caps the score below the "possible" band whatever
else agrees; so does a clearly different father's name (cousins named after one grandfather).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

from flask_babel import get_translations
from rapidfuzz.distance import JaroWinkler, Levenshtein

from .keys import part_skeleton
from .normalize import index_tokens, name_tokens
from .records import PersonRecord
from .weights import NameWeights, current_weights

__all__ = [
    "POSSIBLE",
    "STRONG",
    "FieldReason",
    "MatchResult",
    "NameWeights",
    "current_weights",
    "score",
]

# Bands, chosen on the evaluation set (cases/matching/data/evaluation.csv, built by
# bench/make_evaluation_set.py; bench/matching.py prints the sweep). "Strong or possible" meets the
# goal (recall >= 0.95 at precision >= 0.90) for any threshold from 36 to 51; POSSIBLE sits in
# the middle of that range, where both margins are wide (precision 0.95, recall 0.98; sets
# generated from other seeds give 0.94-0.95 and 0.97-0.98), so a somewhat different case base
# does not tip it over either edge. STRONG keeps precision >= 0.99 (0.995 at recall 0.63 here,
# 0.99 on the other seeds' sets): a strong match is a near-certain duplicate, still decided by a
# person.
STRONG = 75
POSSIBLE = 45

# Points for a name part that agrees, scaled by the rarity of the name (a shared محمد earns about
# half of a shared rare name), and the points lost when both records give the part and it differs.
# A full name, mother, birth year and district all agreeing passes 100; the score stops there.
AGREE_POINTS = {
    "given": 45.0,
    "father": 36.0,
    "grandfather": 24.0,
    "great_grandfather": 12.0,
    "laqab": 15.0,
    "mother": 27.0,
}
DIFFER_POINTS = {
    "given": -45.0,
    "father": -36.0,
    "grandfather": -22.0,
    "great_grandfather": -9.0,
    "laqab": -18.0,  # shared by a whole clan, so agreeing says little but differing much
    "mother": -27.0,
}
COMMON_SHARE = 0.35  # share of AGREE_POINTS that even the commonest name earns
MOTHERS_FATHER_POINTS = 6.0  # the second name of «اسم الأم الثلاثي»
SHIFT_PENALTY = -6.0  # reading a record as having left out the father's name
# Credit for agreement short of identical Arabic spelling.
SKELETON_CREDIT = 0.9  # same name across scripts (محمد / Mohammed): the skeleton is all we have
VARIANT_CREDIT = 0.95  # same name, differently written (زهراء / زهرا)
SIMILAR_CREDIT = 0.55  # a slip of the hand (جبار / جبر), or a near spelling across scripts
CONFUSABLE_CREDIT = 0.8  # a letter another script renders its own way (Лейс / ليث)
VOWEL_SLIP_CREDIT = 0.3  # a long vowel more or less in a father's or grandfather's name
# Two records whose given (or father's) names clearly differ are different people, however much
# else agrees: brothers share father, grandfather, mother, district and phone.
CONFLICT_CAP = 35
SEX_CAP = 10

YEAR_POINTS = ((0, 12.0), (1, 8.0), (2, 3.0), (5, -15.0))  # (up to this many years apart, points)
YEAR_FAR_POINTS = -30.0
YEAR_TOLERANCE = 2  # ages are estimated: a year or two apart still agrees
DISTRICT_POINTS = 9.0
GOVERNORATE_POINTS = 3.0
OTHER_GOVERNORATE_POINTS = -9.0
SEX_POINTS = -60.0
PHONE_POINTS = 22.0  # families share phones: evidence, not proof
DOCUMENT_POINTS = 65.0  # one passport or ID number: the same person unless the names say not

NAME_SLOTS = ("given", "father", "grandfather", "great_grandfather")


@dataclass
class FieldReason:
    field: str  # a name part, "mother", "birth_year", "place", "sex", "phone", "document", ...
    verdict: str  # "same" | "similar" | "differs" | "missing"
    points: float
    detail: str  # translated, for the person deciding; never a phone or document number


@dataclass
class MatchResult:
    score: int
    band: str | None  # "strong" | "possible" | None
    reasons: list[FieldReason]


def band_of(value: int) -> str | None:
    if value >= STRONG:
        return "strong"
    if value >= POSSIBLE:
        return "possible"
    return None


# --- Names as units ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Name:
    """One name (a part, or one name in a whole-name string) ready for comparison."""

    shown: str  # as written, for the explanation
    tokens: tuple[str, ...]
    arabic: bool
    skeleton: str
    readings: frozenset[str]  # every گ/چ reading of a one-token Arabic name

    @property
    def canonical(self) -> str:
        return " ".join(self.tokens)


_ARABIC = re.compile("[\u0600-\u06ff]")
# A laqab written with its article: Al-Jubouri, Al Jubouri, Аль-Джубури, الجبوري, Aljubouri.
_ARTICLE = re.compile(r"^(?:al|el|аль|ал|эль|эл)(?:[-\s'ʼ’]|$)", re.IGNORECASE)
_FUSED_ARTICLE = re.compile(r"^(?:al|el)[a-z]{5,}$")


def _has_article(text: str) -> bool:
    text = text.strip()
    if _ARABIC.search(text):
        return text.startswith("ال") and len(text) > 4 and not text.startswith("الله")
    return bool(_ARTICLE.match(text) or _FUSED_ARTICLE.match(text.lower()))


def _strip_article(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """A laqab compares without its article: الجبوري = جبوري, Aljubouri = Jubouri."""
    stripped = []
    for token in tokens:
        if (token.startswith("ال") and len(token) > 4) or _FUSED_ARTICLE.match(token):
            token = token[2:]
        stripped.append(token)
    return tuple(stripped)


# Names repeat across the candidates of one request and across requests (محمد, علي, ...); the
# caches hold normalised forms of names only and stay below a few MB.
@lru_cache(maxsize=50_000)
def _name(text: str, laqab: bool = False) -> _Name | None:
    tokens = tuple(name_tokens(text))
    if not tokens:
        return None
    if laqab:
        tokens = _strip_article(tokens)
    arabic = bool(_ARABIC.search(text))
    readings = frozenset(index_tokens(tokens[0])) if arabic and len(tokens) == 1 else frozenset()
    return _Name(
        shown=" ".join(text.split()),
        tokens=tokens,
        arabic=arabic,
        skeleton=part_skeleton(" ".join(tokens)) or "",
        readings=readings,
    )


# Mother's names such as أم البنين are two words and one name.
_UMM = frozenset({"ام", "umm", "um", "om"})


@lru_cache(maxsize=20_000)
def _units(text: str) -> tuple[tuple[str, bool], ...]:
    """Split a whole name into its names, keeping compounds whole ("Abdul Ameer", "عبد الله")
    and an article with the name it belongs to; each with whether it carries an article."""
    words = text.split()
    units: list[tuple[str, bool]] = []
    i = 0
    while i < len(words):
        j = i + 1
        while j <= len(words) and len(name_tokens(" ".join(words[i:j]))) != 1:
            j += 1
        if j > len(words):  # only articles or symbols left
            break
        token = name_tokens(" ".join(words[i:j]))
        # Take in following words that change the name (Abdul + Rahman), not ones that are
        # swallowed without effect (an article belonging to the next name).
        while j < len(words):
            longer = name_tokens(" ".join(words[i : j + 1]))
            if len(longer) != 1 or longer == token:
                break
            token = longer
            j += 1
        if token[0] in _UMM and j < len(words):
            j += 1  # أم البنين, أم كلثوم: one name
        unit = " ".join(words[i:j])
        units.append((unit, _has_article(unit)))
        i = j
    return tuple(units)


_Reading = dict[str, _Name]


def _readings(record: PersonRecord) -> list[_Reading]:
    """The record's name parts, then each other spelling read as positional parts."""
    readings: list[_Reading] = []
    parts: _Reading = {}
    for slot in (*NAME_SLOTS, "laqab"):
        text = record.part(slot)
        if text and (name := _name(text, laqab=slot == "laqab")):
            parts[slot] = name
    if parts:
        readings.append(parts)
    for other in record.other_names:
        readings.extend(_whole_name_readings(other))
    return readings


def _whole_name_readings(text: str) -> Iterator[_Reading]:
    units = _units(text)
    if not units:
        return
    units = list(units)
    laqab = None
    if len(units) > 1 and units[-1][1]:
        laqab, units = units[-1][0], units[:-1]
    elif len(units) > 2 and units[0][1]:  # Russian records put the family name first
        laqab, units = units[0][0], units[1:]
    names = [_name(u) for u, _ in units]
    positional = {slot: n for slot, n in zip(NAME_SLOTS, names, strict=False) if n}
    if laqab and (name := _name(laqab, laqab=True)):
        positional["laqab"] = name
    yield positional
    if laqab is None and len(units) >= 3:
        # Without an article there is no telling a laqab from a grandfather: try both.
        last = _name(units[-1][0], laqab=True)
        alternative = {slot: n for slot, n in zip(NAME_SLOTS, names[:-1], strict=False) if n}
        if last:
            alternative["laqab"] = last
        yield alternative


# --- Comparing two names -------------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    verdict: str
    credit: float


SAME = _Verdict("same", 1.0)
DIFFERS = _Verdict("differs", 0.0)
VOWEL_SLIP = _Verdict("similar", VOWEL_SLIP_CREDIT)

_LONG_VOWEL_LETTERS = frozenset("اوي")


def _compare(a: _Name, b: _Name, part: str, weights: NameWeights) -> _Verdict:
    if a.tokens == b.tokens or (a.readings & b.readings):
        return SAME
    two_names = (
        a.skeleton != b.skeleton
        and weights.established(a.skeleton)
        and weights.established(b.skeleton)
    )
    return _compare_names(a, b, part in STRICT_PARTS, two_names)


# A long vowel more or less usually makes another name (حسن / حسين), sometimes it is a slip
# (ستار / ستر). Brothers are told apart by their own given names, and the mother's given name is
# her own, so there it means another name; in the fathers' names it counts a little.
STRICT_PARTS = frozenset({"given", "mother"})


@lru_cache(maxsize=100_000)
def _compare_names(a: _Name, b: _Name, strict: bool, two_names: bool) -> _Verdict:
    """``two_names``: both spellings are common names in the case base (جاسم / قاسم), so one
    letter between them is not a slip."""
    if a.arabic and b.arabic:
        return _compare_arabic(a, b, strict, two_names)
    if a.skeleton and a.skeleton == b.skeleton:
        if a.arabic or b.arabic:
            arabic, other = (a, b) if a.arabic else (b, a)
            if not _vowels_agree(arabic.tokens, other.tokens):
                return DIFFERS  # حسين is not Hassan, محمود is not Mohammed
            return _Verdict("same", SKELETON_CREDIT)
        # Two Latin/Cyrillic spellings with the same consonants: Hussein / Husain, but also
        # Hassan / Hussein, which only the vowels tell apart.
        if _final_vowels_differ(a.canonical, b.canonical):
            return DIFFERS  # Ali is not Alaa
        near = JaroWinkler.normalized_similarity(_fold(a.canonical), _fold(b.canonical)) >= 0.8
        return _Verdict("same", SKELETON_CREDIT) if near else _Verdict("similar", SIMILAR_CREDIT)
    if (a.arabic or b.arabic) and _confusable(a.skeleton, b.skeleton):
        return _Verdict("same", CONFUSABLE_CREDIT)
    if _near_skeletons(a.skeleton, b.skeleton) and not two_names:
        return _Verdict("similar", SIMILAR_CREDIT)
    return DIFFERS


# Spellings that differ between Latin and the ASCII folding of Cyrillic (Джавад -> Dzhavad,
# Хамуд -> Khamud), evened out before two such spellings are compared letter by letter.
_FOLDS = (("dzh", "j"), ("kh", "h"), ("v", "w"), ("ee", "i"), ("oo", "u"), ("ou", "u"), ("y", "i"))
_DOUBLED = re.compile(r"(.)\1+")


_FINAL_I = re.compile(r"(?:i|y|ee|ie)$")
_FINAL_A = re.compile(r"(?:a|aa|ah)$")


def _final_vowels_differ(a: str, b: str) -> bool:
    """A final long i against a final a: Ali / Alaa, Hadi / Hoda (ta marbuta's -eh is neither)."""
    return bool(
        (_FINAL_I.search(a) and _FINAL_A.search(b)) or (_FINAL_A.search(a) and _FINAL_I.search(b))
    )


def _fold(text: str) -> str:
    for old, new in _FOLDS:
        text = text.replace(old, new)
    return _DOUBLED.sub(r"\1", text)


def _compare_arabic(a: _Name, b: _Name, strict: bool, two_names: bool) -> _Verdict:
    """Both in Arabic script, canonical forms different: a variant, a slip, or another name."""
    left, right = a.canonical.replace("ء", ""), b.canonical.replace("ء", "")
    if left == right:
        return _Verdict("same", VARIANT_CREDIT)  # زهراء / زهرا, علاء / علا
    if min(len(left), len(right)) < 3:
        return DIFFERS
    edits = Levenshtein.editops(left, right)
    if len(edits) == 1:
        op = edits[0]
        if op.tag == "replace":
            changed = {left[op.src_pos], right[op.dest_pos]}
            if changed <= _LONG_VOWEL_LETTERS:
                return DIFFERS if strict else VOWEL_SLIP  # حامد / حميد
        else:
            longer, pos = (right, op.dest_pos) if op.tag == "insert" else (left, op.src_pos)
            doubled = longer[pos] in longer[max(0, pos - 1) : pos] + longer[pos + 1 : pos + 2]
            if longer[pos] in _LONG_VOWEL_LETTERS and not doubled:
                return DIFFERS if strict else VOWEL_SLIP  # حسن / حسين, محمد / محمود
    elif not _transposed(left, right):
        return DIFFERS
    if two_names:
        return DIFFERS  # both spellings are common names in their own right: جاسم / قاسم
    return _Verdict("similar", SIMILAR_CREDIT)


def _transposed(left: str, right: str) -> bool:
    if len(left) != len(right):
        return False
    diff = [i for i, (x, y) in enumerate(zip(left, right, strict=True)) if x != y]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and left[diff[0]] == right[diff[1]]


def _near_skeletons(a: str, b: str) -> bool:
    """One consonant dropped, doubled or misread in a skeleton of three or more."""
    if not a or not b or min(len(a), len(b)) < 3:
        return False
    return Levenshtein.distance(a, b) <= 1 and JaroWinkler.normalized_similarity(a, b) >= 0.85


# Consonant classes other scripts render differently from the Latin convention the skeletons
# follow: Russian and Persian write ث as s (Лейс = ليث, Хайсам), Russian writes ه and غ as г
# (Ибрагим = ابراهيم).
_CONFUSABLE = (frozenset("SD"), frozenset("HK"))


def _confusable(a: str, b: str) -> bool:
    if len(a) != len(b) or len(a) < 2:
        return False
    diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return len(diff) == 1 and frozenset(diff[0]) in _CONFUSABLE


# The long vowels an Arabic spelling writes must show in a Latin or Cyrillic one, and a Latin
# long vowel needs a letter in the Arabic: حسين / Hussein, حسن / Hassan, never crossed. Checked
# consonant by consonant, only when both spellings have the same number of consonants.
_LATIN_CONSONANT = re.compile(r"dzh|kh|sh|th|dh|gh|ch|zh|ts|[bcdfghjklmnpqrstvxz]")
# Latin letter pairs that write a long i or u (a doubled a is as often a slip as a long vowel).
_LATIN_LONG_I = ("ee", "ei", "ai", "ay", "ey", "ie")
_LATIN_LONG_U = ("oo", "ou")


_COMPOUND_PREFIXES = ("عبد", "ابو")
_COMPOUND_SUFFIXES = ("الله", "الدين")


def _arabic_gaps(token: str) -> list[set[str]]:
    """What stands between the consonants of an Arabic name: long vowels, ع/ء, final ي."""
    gaps: list[set[str]] = [set()]
    last = len(token) - 1
    for i, ch in enumerate(token):
        after_alef = i > 0 and token[i - 1] == "ا"
        if ch == "ا":
            gaps[-1].add("a")
        elif ch in "عء":
            gaps[-1].add("glottal")
        elif ch == "و" and i > 0 and not after_alef:
            gaps[-1].add("u")
        elif ch == "ي" and i > 0 and not after_alef:
            gaps[-1].add("final_i" if i == last else "i")
        elif ch == "ه" and i == last and i > 0:
            gaps[-1].add("final_h")
        else:
            gaps.append(set())
    return gaps


def _latin_gaps(token: str) -> list[str]:
    """The vowel letters between the consonants of a folded Latin name."""
    gaps = [""]
    i = 0
    previous = ""
    while i < len(token):
        m = _LATIN_CONSONANT.match(token, i)
        vowel_like = token[i] in "wy" and i > 0
        final_h = token[i] == "h" and i == len(token) - 1 and i > 0
        if m and not vowel_like and not final_h:
            if m.group() != previous:  # a doubled consonant is one
                gaps.append("")
            previous = m.group()
            i = m.end()
        else:
            gaps[-1] += token[i] if not final_h else ""
            previous = ""
            i += 1
    return gaps


def _vowels_agree(arabic: tuple[str, ...], other: tuple[str, ...]) -> bool:
    if len(arabic) != len(other):
        return True
    for ar, la in zip(arabic, other, strict=True):
        if ar.startswith(_COMPOUND_PREFIXES) or ar.endswith(_COMPOUND_SUFFIXES):
            continue  # the article inside عبدال… is dropped by romanisations: no alignment
        ar_gaps, la_gaps = _arabic_gaps(ar), _latin_gaps(la)
        if len(ar_gaps) != len(la_gaps):
            continue  # no safe alignment: say nothing
        for ar_gap, la_gap in zip(ar_gaps, la_gaps, strict=True):
            if "i" in ar_gap and not any(c in la_gap for c in "iey"):
                return False
            if "u" in ar_gap and not any(c in la_gap for c in "ouw"):
                return False
            if any(m in la_gap for m in _LATIN_LONG_I) and not ar_gap & {"i", "final_i"}:
                return False  # Hussein is not حسن, Said is not سعد
            if any(m in la_gap for m in _LATIN_LONG_U) and "u" not in ar_gap:
                return False  # Mahmoud is not محمد
        # A final -i/-y is the ي of علي, هادي, مهدي: Ali is not علاء.
        if la_gaps[-1][-1:] in ("i", "y") and not ar_gaps[-1] & {"i", "final_i"}:
            return False
    return True


# --- Aligning names ------------------------------------------------------------------------


@dataclass
class _SlotResult:
    part: str
    a: _Name | None
    b: _Name | None
    verdict: str
    points: float


def _slot(part: str, a: _Name | None, b: _Name | None, weights: NameWeights) -> _SlotResult:
    if a is None or b is None:
        return _SlotResult(part, a, b, "missing", 0.0)
    verdict = _compare(a, b, part, weights)
    if verdict.verdict == "differs":
        return _SlotResult(part, a, b, "differs", DIFFER_POINTS[part])
    # The commoner of the two spellings decides: a typo must not make محمد look rare.
    rarity = min(weights.rarity(part, a.skeleton), weights.rarity(part, b.skeleton))
    points = AGREE_POINTS[part] * (COMMON_SHARE + (1 - COMMON_SHARE) * rarity) * verdict.credit
    return _SlotResult(part, a, b, verdict.verdict, points)


# Which slot of one record meets which of the other: straight, or one record read as having
# left out the father's name (its father slot holds the grandfather, and so on).
_STRAIGHT = tuple((s, s) for s in NAME_SLOTS)
_B_SKIPPED_FATHER = (
    ("given", "given"),
    ("grandfather", "father"),
    ("great_grandfather", "grandfather"),
)
_A_SKIPPED_FATHER = tuple((b, a) for a, b in _B_SKIPPED_FATHER)


@dataclass
class _Alignment:
    slots: list[_SlotResult]
    shifted: bool

    @property
    def points(self) -> float:
        return sum(s.points for s in self.slots) + (SHIFT_PENALTY if self.shifted else 0.0)

    def verdict(self, part: str) -> str:
        return next((s.verdict for s in self.slots if s.part == part), "missing")

    @property
    def conflict(self) -> bool:
        # Shifted, the first pair compared one position later must agree, or the shift
        # explains nothing.
        second = "grandfather" if self.shifted else "father"
        return self.verdict("given") == "differs" or self.verdict(second) == "differs"

    @property
    def rank(self) -> tuple[bool, float]:
        return (not self.conflict, self.points)


def _align(a: _Reading, b: _Reading, pairs: tuple, weights: NameWeights) -> _Alignment:
    # A shifted pair is scored as the deeper part: with the father left out of B, B's "father"
    # is the grandfather.
    a_skipped = pairs is _A_SKIPPED_FATHER
    slots = [_slot(sb if a_skipped else sa, a.get(sa), b.get(sb), weights) for sa, sb in pairs]
    shifted = pairs is not _STRAIGHT
    if shifted:
        # The father left out on one side is unknown there, not different.
        given_father = (None, b.get("father")) if a_skipped else (a.get("father"), None)
        slots.insert(1, _SlotResult("father", *given_father, "missing", 0.0))
    slots.append(_slot("laqab", a.get("laqab"), b.get("laqab"), weights))
    return _Alignment(slots, shifted)


def _best_alignment(a: PersonRecord, b: PersonRecord, weights: NameWeights) -> _Alignment | None:
    best: _Alignment | None = None
    for ra, rb in product(_readings(a), _readings(b)):
        options = [_STRAIGHT]
        if rb.get("father") and ra.get("grandfather"):
            options.append(_B_SKIPPED_FATHER)
        if ra.get("father") and rb.get("grandfather"):
            options.append(_A_SKIPPED_FATHER)
        for pairs in options:
            alignment = _align(ra, rb, pairs, weights)
            if best is None or alignment.rank > best.rank:
                best = alignment
    return best


# --- The other fields ----------------------------------------------------------------------


def N_(message: str) -> str:  # noqa: N802 - the gettext convention pybabel extracts by default
    """Mark a message for translation; it is translated when the reasons are written out."""
    return message


# Messages are translated once per score, with the translations fetched once (below), rather
# than with a gettext call per message: scoring runs for every candidate of a request.
MISSING = N_("%(field)s: given in only one record")
SAME_NAME = N_("%(field)s: same (%(a)s = %(b)s)")
SIMILAR_NAME = N_("%(field)s: similar (%(a)s ≈ %(b)s)")
DIFFERENT_NAME = N_("%(field)s differs (%(a)s ≠ %(b)s)")
NAME_DETAILS = {"same": SAME_NAME, "similar": SIMILAR_NAME, "differs": DIFFERENT_NAME}
FIELD_LABELS = {
    "given": N_("Given name"),
    "father": N_("Father's name"),
    "grandfather": N_("Grandfather's name"),
    "great_grandfather": N_("Great-grandfather's name"),
    "laqab": N_("Family or tribal name (laqab)"),
    "mother": N_("Mother's name"),
}
SHIFTED = N_(
    "One record leaves out the father's name: the names after it are compared one position later"
)
SAME_YEAR = N_("Born %(a)s")
NEAR_YEAR = N_("Born %(a)s vs %(b)s (within %(n)s years)")
FAR_YEAR = N_("Born %(a)s vs %(b)s (%(n)s years apart)")
SAME_DISTRICT = N_("Same district")
SAME_GOVERNORATE = N_("Same governorate")
OTHER_GOVERNORATE = N_("Different governorates")
OTHER_SEX = N_("Recorded sex differs")
SAME_PHONE = N_("Same phone number on both records (relatives often share one)")
SAME_DOCUMENT = N_("Same identity document number on both records")


@dataclass
class _Reason:
    """A reason before translation: the message and what fills it."""

    field: str
    verdict: str
    points: float
    message: str
    values: dict[str, object]

    def translated(self, translations: object) -> FieldReason:
        translate = translations.ugettext  # type: ignore[attr-defined]
        values = dict(self.values)
        if "field" in values:
            values["field"] = translate(values["field"])
        detail = translate(self.message) % values if values else translate(self.message)
        return FieldReason(self.field, self.verdict, round(self.points, 1), detail)


def _name_reason(result: _SlotResult) -> _Reason:
    label = FIELD_LABELS[result.part]
    if result.verdict == "missing" or result.a is None or result.b is None:
        return _Reason(result.part, "missing", 0.0, MISSING, {"field": label})
    values = {"field": label, "a": result.a.shown, "b": result.b.shown}
    return _Reason(result.part, result.verdict, result.points, NAME_DETAILS[result.verdict], values)


def _mother(a: PersonRecord, b: PersonRecord, weights: NameWeights) -> _Reason | None:
    """«اسم الأم الثلاثي»: her given name weighs most, her father's name a little."""
    if not a.mother and not b.mother:
        return None
    if not a.mother or not b.mother:
        return _Reason("mother", "missing", 0.0, MISSING, {"field": FIELD_LABELS["mother"]})
    units_a, units_b = _units(a.mother), _units(b.mother)
    if not units_a or not units_b:
        return None
    first_a, first_b = _name(units_a[0][0]), _name(units_b[0][0])
    if not first_a or not first_b:
        return None
    result = _slot("mother", first_a, first_b, weights)
    if result.verdict != "differs" and len(units_a) > 1 and len(units_b) > 1:
        second_a, second_b = _name(units_a[1][0]), _name(units_b[1][0])
        if second_a and second_b:
            if _compare(second_a, second_b, "father", weights).verdict == "differs":
                # Same given name, another father: another woman.
                result.verdict, result.points = "differs", DIFFER_POINTS["mother"]
            else:
                result.points += MOTHERS_FATHER_POINTS
    values = {"field": FIELD_LABELS["mother"], "a": a.mother, "b": b.mother}
    return _Reason("mother", result.verdict, result.points, NAME_DETAILS[result.verdict], values)


def _birth_year(a: PersonRecord, b: PersonRecord) -> _Reason | None:
    if a.birth_year is None or b.birth_year is None:
        return None
    gap = abs(a.birth_year - b.birth_year)
    years = {"a": a.birth_year, "b": b.birth_year, "n": gap}
    if gap == 0:
        return _Reason("birth_year", "same", YEAR_POINTS[0][1], SAME_YEAR, years)
    for limit, points in YEAR_POINTS[1:]:
        if gap <= limit:
            if points > 0:
                tolerance = {**years, "n": YEAR_TOLERANCE}
                return _Reason("birth_year", "similar", points, NEAR_YEAR, tolerance)
            return _Reason("birth_year", "differs", points, FAR_YEAR, years)
    return _Reason("birth_year", "differs", YEAR_FAR_POINTS, FAR_YEAR, years)


def _place(a: PersonRecord, b: PersonRecord) -> _Reason | None:
    gov_a = a.governorate or (a.district or "")[:5] or None
    gov_b = b.governorate or (b.district or "")[:5] or None
    if a.district and b.district and a.district == b.district:
        return _Reason("place", "same", DISTRICT_POINTS, SAME_DISTRICT, {})
    if not gov_a or not gov_b:
        return None
    if gov_a == gov_b:
        return _Reason("place", "similar", GOVERNORATE_POINTS, SAME_GOVERNORATE, {})
    return _Reason("place", "differs", OTHER_GOVERNORATE_POINTS, OTHER_GOVERNORATE, {})


def _sex(a: PersonRecord, b: PersonRecord) -> _Reason | None:
    if a.sex and b.sex and a.sex != b.sex:
        return _Reason("sex", "differs", SEX_POINTS, OTHER_SEX, {})
    return None


def _strong_keys(a: PersonRecord, b: PersonRecord) -> list[_Reason]:
    reasons = []
    if a.phone_hashes & b.phone_hashes:
        reasons.append(_Reason("phone", "same", PHONE_POINTS, SAME_PHONE, {}))
    if a.document_hashes & b.document_hashes:
        reasons.append(_Reason("document", "same", DOCUMENT_POINTS, SAME_DOCUMENT, {}))
    return reasons


# --- The score -----------------------------------------------------------------------------


def score(a: PersonRecord, b: PersonRecord, weights: NameWeights | None = None) -> MatchResult:
    """How likely ``a`` and ``b`` are one person: 0-100, a band, and one reason per field.

    ``weights`` are the name rarity weights (``current_weights()`` in the app); without them
    every name counts as moderately common. Reasons are in the current locale.
    """
    weights = weights or NameWeights()
    reasons: list[_Reason] = []
    alignment = _best_alignment(a, b, weights)
    if alignment is not None:
        if alignment.shifted:
            reasons.append(_Reason("alignment", "similar", SHIFT_PENALTY, SHIFTED, {}))
        reasons.extend(_name_reason(s) for s in alignment.slots if s.a or s.b)
    for reason in (_mother(a, b, weights), _birth_year(a, b), _place(a, b), _sex(a, b)):
        if reason is not None:
            reasons.append(reason)
    keys = _strong_keys(a, b)
    reasons.extend(keys)
    value = max(0, min(100, round(sum(r.points for r in reasons))))
    if alignment is not None and alignment.conflict:
        # A different given or father's name: different people. The same identity document
        # still deserves a person's look (a typing error in one of the records).
        same_document = any(r.field == "document" for r in keys)
        value = min(value, POSSIBLE if same_document else CONFLICT_CAP)
    if any(r.field == "sex" for r in reasons):
        value = min(value, SEX_CAP)
    translations = get_translations()
    return MatchResult(
        score=value,
        band=band_of(value),
        reasons=[r.translated(translations) for r in reasons],
    )
