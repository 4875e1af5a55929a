"""How much a name says: rarity weights learned from the case base.

Two men called محمد share little evidence that they are one person; two men called ضرغام share a
lot (DOMAIN.md section 2). A name's weight is the information in its share of the case base,
counted per name part on the cross-script skeleton columns of ``cases`` (cases.matching.keys),
so محمد, Mohammed and Мохаммед count as one name.

Only names common enough to matter are kept: a name carried by fewer than one case in
``STORE_DIVISOR`` is already as telling as any (rarity 1), so it needs no entry. That bounds the
table to at most ``STORE_DIVISOR`` entries per part whatever the size of the case base: about
1.1 MB per worker in the worst case, tens of KB for realistic name distributions
(bench/matching.py measures both; the demo's million cases keep 173 entries).

The counts are five GROUP BY queries on the skeleton columns (given_skel and father_skel lead an
index; the others are read in one pass), about 1.3 s at a million cases on SQLite. So they are
counted once per worker and then recounted every MATCH_WEIGHTS_SECONDS in a background thread
while requests keep using the previous table, as the oversight dashboard does.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import func, select

from ..clock import utcnow
from ..extensions import db

# Parts with their own counts. The great-grandfather has no column of his own: his name is drawn
# from the same older generation as the grandfather's.
PARTS = ("given", "father", "grandfather", "laqab", "mother")
COUNTED_AS = {"great_grandfather": "grandfather"}

# A share of 1/2**RARE_BITS (one case in 1024) or less is as telling as a name can be.
RARE_BITS = 10.0
STORE_DIVISOR = 2048
# Before the case base says anything, each name counts as carried by one case in 64 (rarity 0.6):
# a prior worth PRIOR_CASES cases, so a handful of cases cannot make a name look rare or common.
PRIOR_CASES = 1000
PRIOR_SHARE = 1 / 64
# A spelling carried by this many cases (and at least one in STORE_DIVISOR) is a name of its own,
# not a slip of the hand: two such names one letter apart (جاسم, قاسم) are two names.
ESTABLISHED_MIN = 3


@dataclass(frozen=True)
class NameWeights:
    """Counts of the common skeletons per name part; without counts every name is middling."""

    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    totals: Mapping[str, int] = field(default_factory=dict)
    computed_at: datetime | None = None
    # Answers already worked out; scoring asks the same few names over and over.
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    def count(self, part: str, skeleton: str | None) -> int:
        part = COUNTED_AS.get(part, part)
        return self.counts.get(part, {}).get(skeleton or "", 0)

    def rarity(self, part: str, skeleton: str | None) -> float:
        """0..1, 1 for a rare name: the bits of information in the name's share of the cases."""
        key = (part, skeleton)
        if (known := self._memo.get(key)) is not None:
            return known
        total = self.totals.get(COUNTED_AS.get(part, part), 0)
        share = (self.count(part, skeleton) + PRIOR_CASES * PRIOR_SHARE) / (total + PRIOR_CASES)
        value = self._memo[key] = max(0.0, min(1.0, -math.log2(share) / RARE_BITS))
        return value

    def established(self, skeleton: str | None) -> bool:
        """Whether the case base holds this spelling often enough (in any name part) to be a
        name in its own right rather than a slip of the hand."""
        key = ("", skeleton)
        if (known := self._memo.get(key)) is not None:
            return known
        total = sum(c.get(skeleton or "", 0) for c in self.counts.values())
        value = self._memo[key] = total >= ESTABLISHED_MIN
        return value

    @property
    def entries(self) -> int:
        return sum(len(c) for c in self.counts.values())

    @classmethod
    def from_skeletons(cls, columns: Mapping[str, Iterable[str | None]]) -> NameWeights:
        """Weights from the skeletons of each part, e.g. of a list of records (tests, bench)."""
        counts: dict[str, dict[str, int]] = {}
        totals: dict[str, int] = {}
        for part, skeletons in columns.items():
            counter = Counter(s for s in skeletons if s)
            totals[part] = sum(counter.values())
            floor = _store_floor(totals[part])
            counts[part] = {s: n for s, n in counter.items() if n >= floor}
        return cls(counts=counts, totals=totals, computed_at=utcnow())


def _store_floor(total: int) -> int:
    return max(ESTABLISHED_MIN, math.ceil(total / STORE_DIVISOR))


def _columns() -> dict:
    from ..casework.models import Case  # the models import matching for their search keys

    return {
        "given": Case.given_skel,
        "father": Case.father_skel,
        "grandfather": Case.grandfather_skel,
        "laqab": Case.laqab_skel,
        "mother": Case.mother_skel,
    }


def compute() -> NameWeights:
    """Count the common skeletons of every part in the case base: two indexed queries a part."""
    counts: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for part, column in _columns().items():
        total = db.session.scalar(select(func.count(column))) or 0
        rows = db.session.execute(
            select(column, func.count())
            .where(column.is_not(None), column != "")
            .group_by(column)
            .having(func.count() >= _store_floor(total))
        ).all()
        totals[part] = total
        counts[part] = {skeleton: n for skeleton, n in rows}
    return NameWeights(counts=counts, totals=totals, computed_at=utcnow())


# Per process and per app (tests and benches create several): the weights and whether a
# refresh is under way. Workers do not share them; each recounts once an hour.
_current: dict[int, NameWeights] = {}
_refreshing: set[int] = set()
_lock = threading.Lock()
_first_count = threading.Lock()


def current_weights() -> NameWeights:
    """The weights of this app's case base, recounted ahead of time once they are stale.

    The first call in a process counts synchronously (about 1.3 s at a million cases on
    SQLite); later calls never wait: when the table is older than MATCH_WEIGHTS_SECONDS one
    background thread recounts while requests keep using the previous one. With
    MATCH_WEIGHTS_SECONDS = 0 (tests) every call counts afresh.
    """
    refresh_after = int(current_app.config.get("MATCH_WEIGHTS_SECONDS", 0))
    if not refresh_after:
        return compute()
    app = current_app._get_current_object()  # noqa: SLF001 - the refresh thread needs the app
    key = id(app)
    weights = _current.get(key)
    if weights is None:
        # One count per process: the threads of a worker that all want the weights at once
        # (the first case pages after a start) wait for it instead of each counting.
        with _first_count:
            weights = _current.get(key)
            if weights is None:
                weights = _current[key] = compute()
        return weights
    age = (utcnow() - (weights.computed_at or utcnow())).total_seconds()
    if age > refresh_after:
        with _lock:
            start = key not in _refreshing
            _refreshing.add(key)
        if start:
            threading.Thread(target=_refresh, args=(app, key), daemon=True).start()
    return weights


def _refresh(app: Flask, key: int) -> None:
    with app.app_context():
        try:
            _current[key] = compute()
        except Exception:  # keep the previous weights; the next stale call retries
            app.logger.exception("Recounting the name weights failed")
        finally:
            with _lock:
                _refreshing.discard(key)
            db.session.remove()


def forget() -> None:
    """Drop the cached weights of every app (tests, after a bulk load)."""
    _current.clear()
