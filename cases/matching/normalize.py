"""Normalise people's names for matching and search (see docs: DOMAIN.md section 2).

Everything here produces *matching* forms only. The name as entered is the record and
must be stored and displayed unchanged; these functions are lossy on purpose (they drop
diacritics, merge letter variants, fold scripts) so that differently written forms of the
same name meet in one search index.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from anyascii import anyascii

__all__ = ["index_tokens", "name_tokens", "normalize_arabic", "search_tokens"]


def _ranges(*spans: tuple[int, int]) -> list[int]:
    """Expand inclusive (first, last) code point spans into a flat list."""
    return [cp for first, last in spans for cp in range(first, last + 1)]


# Invisible formatting characters. They come in through copy-paste from Word, PDFs and
# phones (RTL marks around numbers, ZWNJ inside Persian/Kurdish words) and make equal
# names compare unequal without anyone being able to see why. Besides the ranges in
# DOMAIN.md we also drop U+00AD (soft hyphen) and U+2060 (word joiner): same problem.
_INVISIBLE = _ranges(
    (0x200B, 0x200F),  # zero-width space/non-joiner/joiner, LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides (LRE, RLE, PDF, LRO, RLO)
    (0x2066, 0x2069),  # bidi isolates (LRI, RLI, FSI, PDI)
    (0xFEFF, 0xFEFF),  # BOM / zero-width no-break space
    (0x061C, 0x061C),  # Arabic letter mark
    (0x00AD, 0x00AD),  # soft hyphen
    (0x2060, 0x2060),  # word joiner
)

# Tatweel (kashida) only stretches a word for layout; harakat, Quranic marks and the
# dagger alef are optional in ordinary writing, so the same name appears with and
# without them.
_ARABIC_MARKS = _ranges(
    (0x0640, 0x0640),  # tatweel
    (0x064B, 0x065F),  # harakat, shadda, sukun, hamza above/below, ...
    (0x0670, 0x0670),  # superscript (dagger) alef
    (0x0610, 0x061A),  # honorific signs and small Quranic marks
    (0x06D6, 0x06ED),  # Quranic annotation signs
)

# Letter variants that people (and different keyboards) use interchangeably in names.
_LETTER_FOLDS = {
    # Hamza carriers on alef and alef wasla are inconsistently written: احمد / أحمد.
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    # Final alef maqsura vs ya is a spelling habit (Egyptian/Iraqi print often uses ى).
    "ى": "ي",
    # Ta marbuta is often typed as ha: فاطمة / فاطمه.
    "ة": "ه",
    # Hamza on waw/ya is frequently dropped.
    "ؤ": "و",
    "ئ": "ي",
    # Persian/Kurdish keyboards produce different code points for the same letters.
    "ک": "ك",  # U+06A9 keheh
    "ی": "ي",  # U+06CC Farsi yeh
    "ە": "ه",  # U+06D5 Kurdish ae
    "ھ": "ه",  # U+06BE heh doachashmee
    # گ (U+06AF) and چ (U+0686) stay: they are ambiguous and index_tokens expands them.
}

# Arabic-Indic (U+0660..) and Extended Arabic-Indic (U+06F0.., Persian/Kurdish) digits;
# NFKC leaves them alone, but phone numbers and IDs must match whichever keyboard typed them.
_DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}

_TRANSLATION: dict[int, str | None] = (
    dict.fromkeys(_INVISIBLE)
    | dict.fromkeys(_ARABIC_MARKS)
    | {ord(k): v for k, v in _LETTER_FOLDS.items()}
    | _DIGITS
)
_TRANSLATION_INVISIBLE: dict[int, str | None] = dict.fromkeys(_INVISIBLE)

# Compound names are written both spaced and joined (عبد الله / عبدالله, نور الدين /
# نورالدين); joining always gives one canonical token. Values are post-normalisation forms.
_AR_JOIN_NEXT = frozenset({"عبد", "ابو"})
_AR_JOIN_PREVIOUS = frozenset({"الدين", "الله"})

# Arabic script blocks (after NFKC, presentation forms have become these base letters).
_ARABIC_CHAR = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")


def _is_arabic(word: str) -> bool:
    return _ARABIC_CHAR.search(word) is not None


def _join_arabic_compounds(words: list[str]) -> list[str]:
    """Glue الدين/الله to the previous word and عبد/ابو to the next one.

    Only Arabic-script neighbours are joined so a mixed string such as "عبد Rahman" is not
    turned into a token that belongs to neither script.
    """
    joined: list[str] = []
    for word in words:
        if word in _AR_JOIN_PREVIOUS and joined and _is_arabic(joined[-1]):
            joined[-1] += word
        else:
            joined.append(word)
    # Right to left, so chains fold completely and spacing does not matter:
    # "ابو عبد الرحمن", "ابو عبدالرحمن" and "ابوعبدالرحمن" all give "ابوعبدالرحمن".
    result: list[str] = []
    for word in reversed(joined):
        if word in _AR_JOIN_NEXT and result and _is_arabic(result[-1]):
            result[-1] = word + result[-1]
        else:
            result.append(word)
    result.reverse()
    return result


def normalize_arabic(text: str) -> str:
    """Return the matching form of ``text``; never use the result for display.

    NFKC, invisible marks/tatweel/diacritics removed, letter variants folded (alef forms,
    ى, ة, ؤ, ئ, Persian/Kurdish letters), Arabic-Indic digits to ASCII, whitespace collapsed,
    Latin lowercased, and compounds joined (عبد/ابو with the next word, الدين/الله with the
    previous one). گ and چ are kept; :func:`index_tokens` expands them.
    """
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATION).lower()
    return " ".join(_join_arabic_compounds(text.split()))


# --- Latin / Cyrillic / other scripts -------------------------------------------------

# Transliteration apostrophes for ʿayn/hamza (Ja'far, Sa'ad, `Ali) and the Cyrillic soft
# sign (Il'ich) are written or omitted at whim, so they are deleted rather than splitting.
_APOSTROPHES = str.maketrans("", "", "'`")
_NOT_WORD = re.compile(r"[^a-z0-9\s-]+")

# The Arabic article as romanised before a hyphen: al-, el-, ul- and the sun-letter
# assimilations (ar-Rahman, as-Sadr, ad-Din, ash-Shammari, ...). "il" is left out because
# of Korean given names such as Il-sung.
_HYPHEN_ARTICLE = re.compile(r"(?:[aeu](?:sh|th|dh|[lrstdzn]))")
# Written as a separate word, only al / el are unambiguous enough to drop.
_BARE_ARTICLE = frozenset({"al", "el"})

# "Abd" with an optional fused article, standing alone before the rest of the name:
# Abd / Abdul / Abdel / Abdal / Abdol / Abdur / Abdus / ... Rahman.
_ABD_PREFIX = re.compile(r"abd(?:[aeiou](?:sh|th|dh|[lrstdzn]))?")
# All spellings of عبد الله: Abdullah, Abdallah, Abdulla, Abdellah, Abd Allah, ...
_ABDALLAH = re.compile(r"abd[aeiou]?l+ah?")
# Fused in one word with the "l" article: Abdulrahman, Abdelkader, Abdulameer. A rest of
# at least three letters keeps surnames such as Abdali or Abdulov intact.
_ABD_FUSED_L = re.compile(r"abd[aeiou]l([a-z]{3,})")
# Fused with a sun-letter article, which doubles the consonant: Abdurrahman, Abdussalam.
_ABD_FUSED_SUN = re.compile(r"abd[aeiou](sh|th|dh|[rstdzn])\1([a-z]+)")


def _canonical_abd(word: str) -> str:
    """Rewrite one-word "Abd al-X" spellings to the "abdX" form used for spaced ones."""
    if _ABDALLAH.fullmatch(word):
        return "abdallah"
    if m := _ABD_FUSED_L.fullmatch(word):
        return "abd" + m.group(1)
    if m := _ABD_FUSED_SUN.fullmatch(word):
        return "abd" + m.group(1) + m.group(2)
    return word


def _latin_tokens(text: str) -> list[str]:
    """Tokens of a run of non-Arabic-script words, folded to lowercase ASCII."""
    folded = anyascii(text).lower().translate(_APOSTROPHES)
    folded = _NOT_WORD.sub(" ", folded)
    parts: list[str] = []
    for word in folded.split():
        pieces = word.split("-")
        for i, piece in enumerate(pieces):
            hyphen_follows = i < len(pieces) - 1
            if not piece or piece in _BARE_ARTICLE:
                continue
            if hyphen_follows and _HYPHEN_ARTICLE.fullmatch(piece):
                continue
            parts.append(_canonical_abd(piece))
    # Join a standalone Abd/Abdul/Abdel with the next word, right to left like the Arabic
    # side, so "Abdul Rahman", "Abd al-Rahman", "Abdel Rahman" all become "abdrahman".
    tokens: list[str] = []
    for part in reversed(parts):
        if _ABD_PREFIX.fullmatch(part) and tokens:
            joined = "abd" + tokens[-1]
            # Only the Abdallah family is re-checked: the fused-article rules would wrongly
            # eat the "al" of a name that begins with it ("Abdul Aleem" must stay "abdaleem").
            tokens[-1] = "abdallah" if _ABDALLAH.fullmatch(joined) else joined
        else:
            tokens.append(part)
    tokens.reverse()
    return tokens


def _arabic_tokens(text: str) -> list[str]:
    """Tokens of a run of Arabic-script words, normalised with :func:`normalize_arabic`."""
    # Punctuation and symbols inside Arabic text (، ؛ ؟ « » - . /) separate words. They
    # become spaces *before* normalising so they cannot hide a compound: "عبد-الله" and
    # "(عبد الله)" still give "عبدالله".
    spaced = "".join(
        " " if unicodedata.category(ch)[0] in "PS" else ch
        for ch in unicodedata.normalize("NFKC", text)
    )
    return normalize_arabic(spaced).split()


def name_tokens(text: str) -> list[str]:
    """Return the normalised tokens of a name written in any script, for a search index.

    Arabic-script words go through :func:`normalize_arabic`; all other words are folded to
    lowercase ASCII with anyascii, with the article (al-/el-) dropped and the Abd al-X
    spellings unified ("Abdul Rahman" -> "abdrahman"). Order is kept, duplicates dropped.
    """
    # Strip invisibles first so an RLM between two words cannot become a token of its own.
    words = unicodedata.normalize("NFKC", text).translate(_TRANSLATION_INVISIBLE).split()
    tokens: list[str] = []
    # Consecutive words of one script are processed together because the compound rules
    # (عبد الله, Abd al-Rahman) span word boundaries.
    for arabic, group in itertools.groupby(words, key=_is_arabic):
        run = " ".join(group)
        tokens.extend(_arabic_tokens(run) if arabic else _latin_tokens(run))
    return list(dict.fromkeys(t for t in tokens if t))


def search_tokens(query: str) -> list[str]:
    """Return the tokens of a search-box query.

    Identical to :func:`name_tokens` so a query and the stored tokens meet; views call this
    one so that query-specific handling can be added here later without touching indexing.
    The گ/چ ambiguity needs no query-side expansion because :func:`index_tokens` stores
    every reading.
    """
    return name_tokens(query)


# Iraqi گ (g) is written ق or ك by others, and چ (ch) is written ك or ج.
_AMBIGUOUS_READINGS = {"گ": ("گ", "ق", "ك"), "چ": ("چ", "ك", "ج")}


def _readings(token: str) -> set[str]:
    """Every spelling of ``token`` with each ambiguous letter kept or replaced."""
    letters = [ch for ch in _AMBIGUOUS_READINGS if ch in token]
    variants = set()
    for choice in itertools.product(*(_AMBIGUOUS_READINGS[ch] for ch in letters)):
        variant = token
        for letter, replacement in zip(letters, choice, strict=True):
            variant = variant.replace(letter, replacement)
        variants.add(variant)
    return variants


def index_tokens(*names: str | None) -> set[str]:
    """Merge the tokens of several name fields into one set for a case's search index.

    ``None`` and empty fields are skipped. Tokens containing گ or چ are stored in every
    reading (گ as ق and ك, چ as ك and ج) so a search written either way finds the case.
    """
    tokens: set[str] = set()
    for name in names:
        if name:
            for token in name_tokens(name):
                tokens |= _readings(token)
    return tokens
