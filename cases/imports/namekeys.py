"""The search keys refresh_search_keys stores, computed word by word with caches.

Tokenising and skeletonising a name costs tens of microseconds, most of an import's time, and
spreadsheets repeat the same words over and over (محمد, علي, كاظم …). Every rule of
cases.matching.normalize works inside one word except the compound joins (عبد/ابو with the
next word, الدين/الله with the previous one, a Latin Abd/Abdul with the next word): so when no
word of a text produces one of those joiners, the tokens of the text are the union of the
tokens of its words, and its skeleton the concatenation of theirs. Otherwise the text goes
through the matching functions whole. Tests compare the results with theirs.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..matching import keys
from ..matching.normalize import index_tokens, name_tokens, normalize_arabic

_JOINERS = frozenset({"عبد", "ابو", "الدين", "الله"})
_LATIN_ABD = re.compile(r"abd(?:[aeiou](?:sh|th|dh|[lrstdzn]))?")
CACHE = 200_000


@lru_cache(maxsize=CACHE)
def _word(word: str) -> tuple[tuple[str, ...], bool]:
    """(tokens, safe) of one whitespace-separated word; unsafe when it may join a neighbour."""
    tokens = tuple(name_tokens(word))
    safe = not any(t in _JOINERS or _LATIN_ABD.fullmatch(t) for t in tokens)
    # NFKC can turn one character into several words (ligatures such as U+FDFA).
    return tokens, safe and len(normalize_arabic(word).split()) <= 1


@lru_cache(maxsize=CACHE)
def _word_readings(word: str) -> frozenset[str]:
    return frozenset(index_tokens(word))


def _words(text: str) -> list[str] | None:
    """The words of ``text`` when it can be processed word by word, else None."""
    words = text.split()
    for word in words:
        if not _word(word)[1]:
            return None
    return words


def text_tokens(text: str | None) -> set[str]:
    """``index_tokens(text)``."""
    if not text:
        return set()
    words = _words(text)
    if words is None:
        return index_tokens(text)
    found: set[str] = set()
    for word in words:
        found |= _word_readings(word)
    return found


@lru_cache(maxsize=CACHE)
def part_skeleton(text: str | None) -> str | None:
    """``keys.part_skeleton(text)``, cached: name parts repeat across a file."""
    return keys.part_skeleton(text)


def first_skeleton(text: str | None) -> str | None:
    """``keys.first_skeleton(text)``: the skeleton of the first token."""
    if not text:
        return None
    words = _words(text)
    if words is None:
        return keys.first_skeleton(text)
    for word in words:
        tokens = _word(word)[0]
        if tokens:
            return keys.skeleton(tokens[0]) or None
    return None


def case_skeletons(
    given: str | None,
    father: str | None,
    grandfather: str | None,
    laqab: str | None,
    mother: str | None,
) -> dict[str, str | None]:
    """``keys.case_skeletons`` with the caches above."""
    return {
        "given_skel": part_skeleton(given),
        "father_skel": part_skeleton(father),
        "grandfather_skel": part_skeleton(grandfather),
        "laqab_skel": part_skeleton(laqab),
        "mother_skel": first_skeleton(mother),
    }


@lru_cache(maxsize=CACHE)
def _normalized_word(word: str) -> str:
    return normalize_arabic(word)


def name_key(text: str) -> str:
    """``normalize_arabic(text)``, word by word when no compound can join two words."""
    words = _words(text)
    if words is None:
        return normalize_arabic(text)
    return " ".join(w for w in (_normalized_word(word) for word in words) if w)
