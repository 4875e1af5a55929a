"""Which existing cases may be the person a record describes: candidates, then scored matches.

Candidate generation ("blocking") only ever asks the database indexed questions, so its cost
does not grow with the case base: equality on the cross-script skeletons of two name parts
(cases.matching.keys), in pairs chosen so that one part missing or misspelt on either side
still meets the case, with each pair's namesakes ranked inside the index by what else agrees;
and equality on the keyed hashes of phone and document numbers. Scoring
(cases.matching.scoring) then compares the most promising candidates in Python and keeps those
whose score reaches a band; a person decides (DOMAIN.md section 2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields

from sqlalchemy import ColumnElement, Row, Select, func, literal, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import joinedload

from ..auth.models import User
from ..casework.access import can_work_on
from ..casework.models import (
    Case,
    CaseName,
    CasePhone,
    ClosureReason,
    FamilyContact,
    IdentityDocument,
)
from ..extensions import cache_get_many, cache_set_many, db
from .decisions import not_same_case_ids
from .keys import case_skeletons
from .records import PersonRecord
from .scoring import (
    AGREE_POINTS,
    COMMON_SHARE,
    DISTRICT_POINTS,
    MatchResult,
    NameWeights,
    current_weights,
    score,
)

# Pairs of name parts that block: a case agreeing with the record on both parts of a pair is
# a candidate, given as (column of cases, part of the record). Every part is left out of some
# pair, so one part missing or misspelt on either side still finds the case; the last two read
# one record as having left out the father's name, as scoring does. Each pair is the leading
# columns of an index that holds every other column the ranking reads (test_candidates.py
# checks the plans), so ranking a pair's namesakes never touches the table.
PAIRS: tuple[tuple[tuple[str, str], tuple[str, str]], ...] = (
    (("given", "given"), ("father", "father")),
    (("given", "given"), ("grandfather", "grandfather")),
    (("father", "father"), ("grandfather", "grandfather")),
    (("given", "given"), ("mother", "mother")),
    (("given", "given"), ("grandfather", "father")),  # the record left out the father
    (("given", "given"), ("father", "grandfather")),  # the case left out the father
)
# Only when the record lacks the father's or grandfather's name: otherwise the pairs above
# already allow any one name to be wrong, and given + mother is the widest pair of all.
_GIVEN_MOTHER = PAIRS[3]
_COLUMNS = {
    "given": Case.given_skel,
    "father": Case.father_skel,
    "grandfather": Case.grandfather_skel,
    "laqab": Case.laqab_skel,
    "mother": Case.mother_skel,
}
# How a pair's namesakes are ranked before the best ``limit`` are taken: scoring's points for
# each agreeing part (cases.matching.scoring), without the rarity of the names, and for the
# same district or a birth year within two years.
_RANK_POINTS = {part: round(AGREE_POINTS[part]) for part in _COLUMNS}
_DISTRICT_POINTS = round(DISTRICT_POINTS)
_YEAR_POINTS = 8
_YEAR_TOLERANCE = 2
# A family phone or a document number is on few cases; more than this is not one person.
KEY_LIMIT = 50
BANDS = ("strong", "possible")
# Candidates fetched, then compared in full by scoring after a first cut on their skeletons:
# scoring takes about half a millisecond a pair, and with common names most are namesakes.
CANDIDATES = 200
SCORED = 50
# has_strong_match: a strong match ranks among the very first candidates.
QUICK_CANDIDATES = 10
QUICK_SCORED = 3


@dataclass
class Match:
    """An existing case that may be the same person, with the score and its reasons.

    ``visible`` is False when the actor may not open the case: the page then shows only its
    reference and who holds it.
    """

    case: Case
    result: MatchResult
    visible: bool


def record_skeletons(record: PersonRecord) -> dict[str, str]:
    """The skeleton of each name part the record has, as the columns of cases store them."""
    keys = case_skeletons(
        record.given, record.father, record.grandfather, record.laqab, record.mother
    )
    return {column.removesuffix("_skel"): key for column, key in keys.items() if key}


def _eligible(stmt: Select) -> Select:
    # Anonymised cases have lost their names; a case closed as a duplicate lives on in the
    # case it duplicated, which is found in its own right.
    return stmt.where(
        Case.anonymised_at.is_(None),
        or_(Case.closure_reason.is_(None), Case.closure_reason != ClosureReason.DUPLICATE),
    )


def _pairs(keys: dict[str, str]) -> list[tuple]:
    """The pairs the record's skeletons can fill."""
    wanted = [p for p in PAIRS if all(part in keys for _, part in p)]
    if "father" in keys and "grandfather" in keys:
        wanted = [p for p in wanted if p is not _GIVEN_MOTHER]
    return wanted


def _rank(record: PersonRecord, keys: dict[str, str], pair: tuple) -> ColumnElement:
    """Points for what else a case of this pair agrees on, computed from the index alone."""
    columns = {column for column, _ in pair}
    shifted = any(column != part for column, part in pair)
    points: list[ColumnElement] = [
        sql_case((column == keys[part], _RANK_POINTS[part]), else_=0)
        for part, column in _COLUMNS.items()
        if part in keys
        and part not in columns
        # Shifted, the father and grandfather sit one position off: only the others count.
        and not (shifted and part in ("father", "grandfather"))
    ]
    points.append(literal(sum(_RANK_POINTS[part] for _, part in pair)))
    if record.district:
        points.append(sql_case((Case.district_pcode == record.district, _DISTRICT_POINTS), else_=0))
    if record.birth_year:
        near = Case.birth_year_key.between(
            record.birth_year - _YEAR_TOLERANCE, record.birth_year + _YEAR_TOLERANCE
        )
        points.append(sql_case((near, _YEAR_POINTS), else_=0))
    return sum(points[1:], points[0]).label("rank")


# What the blocking indexes hold about each case: enough for the first cut, read with the id.
_INDEXED = (
    Case.id,
    Case.given_skel,
    Case.father_skel,
    Case.grandfather_skel,
    Case.laqab_skel,
    Case.mother_skel,
    Case.district_pcode,
    Case.birth_year_key,
)


def name_queries(record: PersonRecord, limit: int = CANDIDATES) -> list[Select]:
    """One indexed query per pair of name parts the record gives: the pair's cases, best
    ranked first (what else agrees: names, district, birth year), at most ``limit``."""
    keys = record_skeletons(record)
    queries = []
    for pair in _pairs(keys):
        rank = _rank(record, keys, pair)
        queries.append(
            select(*_INDEXED, rank)
            .where(*(_COLUMNS[column] == keys[part] for column, part in pair))
            .order_by(rank.desc())
            .limit(limit)
        )
    return queries


def key_queries(record: PersonRecord) -> list[Select]:
    """Cases holding one of the record's phone or document numbers, by keyed hash: the
    numbers themselves are encrypted and cannot be compared in SQL."""
    queries = []
    if phones := sorted(record.phone_hashes):
        queries.append(
            select(CasePhone.case_id).where(CasePhone.e164_hash.in_(phones)).limit(KEY_LIMIT)
        )
        queries.append(
            select(FamilyContact.case_id)
            .where(FamilyContact.phone_hash.in_(phones))
            .limit(KEY_LIMIT)
        )
    if documents := sorted(record.document_hashes):
        queries.append(
            select(IdentityDocument.case_id)
            .where(IdentityDocument.number_hash.in_(documents))
            .limit(KEY_LIMIT)
        )
    return queries


@dataclass(frozen=True)
class _Candidate:
    """A candidate as its blocking index row describes it."""

    case_id: int
    keys: dict[str, str]  # skeletons by part, as record_skeletons gives them
    district: str | None
    birth_year: int | None
    keyed: bool  # shares a phone or document number with the record

    @classmethod
    def of(cls, row: Row, keyed: bool = False) -> _Candidate:
        keys = {
            "given": row.given_skel,
            "father": row.father_skel,
            "grandfather": row.grandfather_skel,
            "laqab": row.laqab_skel,
            "mother": row.mother_skel,
        }
        return cls(
            row.id,
            {part: key for part, key in keys.items() if key},
            row.district_pcode,
            row.birth_year_key,
            keyed,
        )


def _ranked(record: PersonRecord, limit: int) -> list[_Candidate]:
    """Candidates, best first: shared numbers, then by the database's rank. The ones found by
    name are not yet checked for eligibility (see candidate_case_ids)."""
    keyed: set[int] = set()
    for query in key_queries(record):
        keyed.update(db.session.scalars(query))
    by_number: list[_Candidate] = []
    if keyed:
        rows = db.session.execute(
            _eligible(select(*_INDEXED).where(Case.id.in_(keyed))).order_by(Case.id)
        )
        by_number = [_Candidate.of(row, keyed=True) for row in rows]
        keyed = {c.case_id for c in by_number}
    by_name: dict[int, _Candidate] = {}
    rank: dict[int, int] = {}
    for query in name_queries(record, limit):
        for row in db.session.execute(query):
            if row.id not in keyed and row.rank > rank.get(row.id, -1):
                rank[row.id] = row.rank
                by_name[row.id] = _Candidate.of(row)
    ordered = sorted(rank, key=lambda case_id: -rank[case_id])  # ties: first found first
    return [*by_number, *(by_name[case_id] for case_id in ordered)][:limit]


def candidate_case_ids(record: PersonRecord, limit: int = CANDIDATES) -> list[int]:
    """Ids of cases that may describe the same person as ``record``, most telling first.

    Cases sharing a phone or document hash come first (a handful at most): a case with
    another spelling of every name part must not be crowded out by namesakes. Then the cases
    agreeing on a pair of name parts, ranked by what else agrees, until ``limit``.
    Anonymised cases and cases closed as duplicates are left out. Every query reads an index.
    """
    wanted = [c.case_id for c in _ranked(record, limit)]
    if not wanted:
        return []
    eligible = set(db.session.scalars(_eligible(select(Case.id).where(Case.id.in_(wanted)))))
    return [case_id for case_id in wanted if case_id in eligible]


def _not_same(inquiry_id: int | None, case_id: int | None) -> set[int]:
    """Cases a person said are not the same as this inquiry or case (matching.decisions)."""
    if inquiry_id is None and case_id is None:
        return set()
    return not_same_case_ids(inquiry_id=inquiry_id, case_id=case_id)


_RECORD_COLUMNS = (
    Case.id,
    Case.given_name,
    Case.father_name,
    Case.grandfather_name,
    Case.great_grandfather_name,
    Case.laqab,
    Case.mother_name,
    Case.sex,
    Case.birth_year_key,
    Case.governorate_pcode,
    Case.district_pcode,
)


def _records(case_ids: list[int]) -> dict[int, PersonRecord]:
    """Eligible cases as scoring reads them (PersonRecord.from_case, from plain rows): five
    primary-key and foreign-key lookups, no ORM objects, numbers never decrypted (only their
    hashes are read)."""
    names: dict[int, list[str]] = {}
    for case_id, name in db.session.execute(
        select(CaseName.case_id, CaseName.name)
        .where(CaseName.case_id.in_(case_ids))
        .order_by(CaseName.id)
    ):
        if name:
            names.setdefault(case_id, []).append(name)
    phones: dict[int, set[str]] = {}
    documents: dict[int, set[str]] = {}
    for target, column in (
        (phones, CasePhone.e164_hash),
        (phones, FamilyContact.phone_hash),
        (documents, IdentityDocument.number_hash),
    ):
        owner = column.class_.case_id
        for case_id, key in db.session.execute(
            select(owner, column).where(owner.in_(case_ids), column.is_not(None))
        ):
            target.setdefault(case_id, set()).add(key)
    rows = db.session.execute(_eligible(select(*_RECORD_COLUMNS).where(Case.id.in_(case_ids))))
    return {
        row.id: PersonRecord(
            given=row.given_name,
            father=row.father_name,
            grandfather=row.grandfather_name,
            great_grandfather=row.great_grandfather_name,
            laqab=row.laqab,
            mother=row.mother_name,
            other_names=tuple(names.get(row.id, ())),
            sex=row.sex,
            birth_year=row.birth_year_key,
            governorate=row.governorate_pcode,
            district=row.district_pcode,
            phone_hashes=frozenset(phones.get(row.id, ())),
            document_hashes=frozenset(documents.get(row.id, ())),
        )
        for row in rows
    }


def _first_cut(
    record: PersonRecord, keys: dict[str, str], candidate: _Candidate, weights: NameWeights
) -> float:
    """A quick upper estimate of the score from the index row, to choose which candidates
    scoring compares: the database's rank, with the rarity of the names.

    Parts whose skeletons agree earn scoring's points for a same name of that rarity; a part
    that differs costs nothing here, since scoring may still find a slip of the hand. The
    father left out on one side is tried as scoring tries it. Shared numbers come first.
    """

    def agreeing(pairs: Iterable[tuple[str, str]]) -> float:
        points = 0.0
        for theirs, ours in pairs:
            key = keys.get(ours)
            if key and key == candidate.keys.get(theirs):
                rarity = weights.rarity(ours, key)
                points += AGREE_POINTS[ours] * (COMMON_SHARE + (1 - COMMON_SHARE) * rarity)
        return points

    alike = (("given", "given"), ("laqab", "laqab"), ("mother", "mother"))
    points = max(
        agreeing((*alike, ("father", "father"), ("grandfather", "grandfather"))),
        agreeing((*alike, ("grandfather", "father"))),  # the record left out the father
        agreeing((*alike, ("father", "grandfather"))),  # the case left out the father
    )
    years = (record.birth_year, candidate.birth_year)
    if None not in years and abs(years[0] - years[1]) <= _YEAR_TOLERANCE:
        points += _YEAR_POINTS
    if record.district and record.district == candidate.district:
        points += _DISTRICT_POINTS
    if candidate.keyed:
        points += 100
    return points


def _banded(
    record: PersonRecord, excluded: set[int], candidate_limit: int, scored: int
) -> list[tuple[int, MatchResult]]:
    """(case id, result) of the candidates reaching a band, best first."""
    candidates = [c for c in _ranked(record, candidate_limit) if c.case_id not in excluded]
    if not candidates:
        return []
    weights = current_weights()
    keys = record_skeletons(record)
    # Best first cut first; ties keep the database's order.
    candidates.sort(key=lambda c: -_first_cut(record, keys, c, weights))
    return _scored(record, [c.case_id for c in candidates[:scored]], weights)


def _scored(
    record: PersonRecord, shortlist: list[int], weights: NameWeights
) -> list[tuple[int, MatchResult]]:
    """(case id, result) of the shortlisted cases reaching a band, best first."""
    records = _records(shortlist)
    banded = []
    for case_id in shortlist:
        if case_id in records:
            result = score(record, records[case_id], weights)
            if result.band in BANDS:
                banded.append((case_id, result))
    banded.sort(key=lambda pair: (-pair[1].score, pair[0]))
    return banded


def _excluded(
    exclude_case_ids: Collection[int], inquiry_id: int | None, case_id: int | None
) -> set[int]:
    excluded = set(exclude_case_ids) | _not_same(inquiry_id, case_id)
    if case_id is not None:
        excluded.add(case_id)
    return excluded


def _banded_key(record: PersonRecord, excluded: set[int], limit: int) -> str:
    """A key that changes with what is searched for (the record as it stands now), with the
    cases left out, and with every new case: a newly recorded duplicate shows at once. Edits
    of other cases show when the kept result expires. Hashed: no name reaches the cache."""
    newest = db.session.scalar(select(func.max(Case.id)))
    # Sets sorted: their order differs from one worker process to the next.
    parts = [
        sorted(value) if isinstance(value, frozenset) else value
        for value in (getattr(record, f.name) for f in fields(record))
    ]
    material = repr((parts, sorted(excluded), limit, newest)).encode()
    return "matches:" + hashlib.sha256(material).hexdigest()


def find_matches(
    actor: User,
    record: PersonRecord,
    exclude_case_ids: Collection[int] = (),
    limit: int = 10,
    *,
    inquiry_id: int | None = None,
    case_id: int | None = None,
    keep_seconds: int = 0,
) -> list[Match]:
    """Existing cases that may be the person ``record`` describes, best first.

    Candidates (candidate_case_ids) are scored against the record (the SCORED most promising
    by a first cut); those reaching the "strong" or "possible" band are returned, at most
    ``limit``. Pass ``inquiry_id`` or ``case_id`` when the record is an inquiry or a case:
    cases a person has marked "not the same person" for it are then left out, and so is the
    case itself. Cases the actor may not open are returned too, marked not visible, so nobody
    opens a second file unaware.

    ``keep_seconds`` keeps the ids of the cases found (ids only: no name, no reason text) that
    long; a view within that time scores just those again, in the reader's language.
    """
    excluded = _excluded(exclude_case_ids, inquiry_id, case_id)
    key = _banded_key(record, excluded, limit) if keep_seconds else None
    (found,) = cache_get_many(key) if key else (None,)
    if found is None:
        banded = _banded(record, excluded, CANDIDATES, SCORED)[:limit]
        if key:
            cache_set_many({key: [case_id for case_id, _ in banded]}, timeout=keep_seconds)
    else:
        banded = _scored(record, found, current_weights())
    cases = {
        case.id: case
        for case in db.session.scalars(
            select(Case)
            .where(Case.id.in_([case_id for case_id, _ in banded]))
            .options(joinedload(Case.owner))
        )
    }
    return [
        Match(cases[case_id], result, can_work_on(actor, cases[case_id]))
        for case_id, result in banded
        if case_id in cases
    ]


def has_strong_match(
    record: PersonRecord, *, inquiry_id: int | None = None, case_id: int | None = None
) -> bool:
    """Whether an existing case is a strong match, cheaply (for marking lists): only the
    best few candidates are compared, which is where a strong match ranks."""
    excluded = _excluded((), inquiry_id, case_id)
    banded = _banded(record, excluded, QUICK_CANDIDATES, QUICK_SCORED)
    return bool(banded) and banded[0][1].band == "strong"
