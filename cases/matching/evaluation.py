"""The labelled evaluation set of matching and its figures, for bench/matching.py and CI.

cases/matching/data/evaluation.csv holds pairs of person records, each labelled "same" (one
man, two sources) or "different", with a category saying what makes the pair hard; it is built
by bench/make_evaluation_set.py. Phone and document columns hold stand-ins for the keyed hashes
the app compares ("phone-00042"), never numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .keys import first_skeleton, part_skeleton
from .records import PersonRecord
from .scoring import POSSIBLE, STRONG, MatchResult, score
from .weights import NameWeights

EVALUATION_SET = Path(__file__).resolve().parent / "data" / "evaluation.csv"
# The goal of issue 6 for "strong or possible".
GOAL_RECALL = 0.95
GOAL_PRECISION = 0.90


@dataclass(frozen=True)
class LabelledPair:
    pair: int
    category: str
    same: bool
    a: PersonRecord
    b: PersonRecord


@dataclass(frozen=True)
class Scored:
    pair: LabelledPair
    result: MatchResult


@dataclass(frozen=True)
class Figures:
    threshold: int
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def meets_goal(self) -> bool:
        return self.recall >= GOAL_RECALL and self.precision >= GOAL_PRECISION


def _record(row: dict[str, str], side: str) -> PersonRecord:
    def value(name: str) -> str | None:
        return row[f"{side}_{name}"].strip() or None

    year = value("birth_year")
    return PersonRecord(
        given=value("given"),
        father=value("father"),
        grandfather=value("grandfather"),
        great_grandfather=value("great_grandfather"),
        laqab=value("laqab"),
        mother=value("mother"),
        other_names=tuple(n for n in (value("other_names") or "").split(" | ") if n),
        sex=value("sex"),
        birth_year=int(year) if year else None,
        governorate=value("governorate"),
        district=value("district"),
        phone_hashes=frozenset((value("phones") or "").split()),
        document_hashes=frozenset((value("documents") or "").split()),
    )


def load_pairs(path: Path = EVALUATION_SET) -> list[LabelledPair]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            LabelledPair(
                pair=int(row["pair"]),
                category=row["category"],
                same=row["label"] == "same",
                a=_record(row, "a"),
                b=_record(row, "b"),
            )
            for row in csv.DictReader(f)
        ]


def case_base_weights(records: Iterable[PersonRecord]) -> NameWeights:
    """Rarity weights from ``records`` counted as the app counts its cases' skeleton columns."""
    records = list(records)
    return NameWeights.from_skeletons(
        {
            "given": [part_skeleton(r.given) for r in records],
            "father": [part_skeleton(r.father) for r in records],
            "grandfather": [part_skeleton(r.grandfather) for r in records],
            "laqab": [part_skeleton(r.laqab) for r in records],
            "mother": [first_skeleton(r.mother) for r in records],
        }
    )


def score_pairs(pairs: Sequence[LabelledPair], weights: NameWeights | None = None) -> list[Scored]:
    """Score every pair; by default with weights learned from all the set's records."""
    if weights is None:
        weights = case_base_weights(r for p in pairs for r in (p.a, p.b))
    return [Scored(p, score(p.a, p.b, weights)) for p in pairs]


def figures(scored: Sequence[Scored], threshold: int) -> Figures:
    tp = sum(1 for s in scored if s.pair.same and s.result.score >= threshold)
    fp = sum(1 for s in scored if not s.pair.same and s.result.score >= threshold)
    fn = sum(1 for s in scored if s.pair.same and s.result.score < threshold)
    return Figures(threshold, tp, fp, fn)


def strong(scored: Sequence[Scored]) -> Figures:
    return figures(scored, STRONG)


def strong_or_possible(scored: Sequence[Scored]) -> Figures:
    return figures(scored, POSSIBLE)
