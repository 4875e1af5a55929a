"""Candidate generation (indexed blocking) and find_matches: which cases are suggested."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cases.casework import services as casework
from cases.casework.models import Case, CaseStatus, ClosureReason
from cases.casework.services import CaseDetails, ContactDetails, DocumentDetails
from cases.extensions import db
from cases.identity_documents import DOCUMENT_INDEX
from cases.matching import candidates
from cases.matching.candidates import candidate_case_ids, find_matches
from cases.matching.records import PersonRecord
from cases.phones import PHONE_INDEX
from cases.retention import services as retention
from tests.factories import make_case

PHONE = "+9647712345678"
PASSPORT = "A12345678"


def _plain_case(owner, **overrides) -> Case:  # noqa: ANN001, ANN003
    """A case with only what the test gives: no Latin names, phones or contacts."""
    fields = {
        "given_name": "محمد",
        "father_name": "عماد",
        "grandfather_name": "جبار",
        "mother_name": "فاطمة حسين علي",
        "age": 24,
        "district_pcode": "IQG07Q04",
        "governorate_pcode": "IQG07",
    }
    fields.update(overrides)
    return casework.create_case(owner, CaseDetails(**fields))


def _record(**fields) -> PersonRecord:  # noqa: ANN003
    return PersonRecord(**fields)


# --- blocking -------------------------------------------------------------------------------


def test_all_parts_in_another_script_find_the_case(app, caseworker) -> None:
    case = _plain_case(caseworker)
    _plain_case(caseworker, given_name="علي", father_name="حسن", grandfather_name="كريم")
    record = _record(given="Mohammed", father="Imad", grandfather="Jabbar")
    assert candidate_case_ids(record) == [case.id]


def test_a_missing_part_still_finds_the_case(app, caseworker) -> None:
    case = _plain_case(caseworker, grandfather_name=None)
    assert candidate_case_ids(_record(given="محمد", father="عماد", grandfather="جبار")) == [case.id]
    # And the other way round: the inquiry leaves out the father's name.
    other = _plain_case(caseworker, given_name="حيدر", father_name="كاظم", grandfather_name="جاسم")
    assert candidate_case_ids(_record(given="Haider", grandfather="Jasim")) == [other.id]


@pytest.mark.parametrize(
    "record",
    [
        # The father's name misspelt (a different name), the rest in Cyrillic.
        {"given": "Мохаммед", "father": "Аммар", "grandfather": "Джаббар"},
        # The given name misspelt in Latin; father and grandfather right.
        {"given": "Mahdi", "father": "Emad", "grandfather": "Jabbar"},
        # Only the given name and the mother agree.
        {"given": "Muhammad", "father": "Kareem", "mother": "Fatima"},
    ],
)
def test_one_wrong_part_still_finds_the_case(app, caseworker, record) -> None:
    case = _plain_case(caseworker)
    assert candidate_case_ids(_record(**record)) == [case.id]


def test_a_given_name_alone_is_not_a_block(app, caseworker) -> None:
    # Thousands of men are called Mohammed: one agreeing part proves nothing.
    _plain_case(caseworker)
    assert candidate_case_ids(_record(given="محمد", father="كريم", grandfather="حسن")) == []


def test_the_phone_alone_finds_the_case(app, caseworker) -> None:
    own = _plain_case(caseworker, given_name="عباس", father_name="جواد", phones=[PHONE])
    relative = _plain_case(
        caseworker,
        given_name="علي",
        father_name="حسن",
        contacts=[ContactDetails("أم علي", "الأم", PHONE, "ar")],
    )
    _plain_case(caseworker, given_name="كرار", father_name="مهدي")
    record = _record(given="حيدر", phone_hashes=frozenset({PHONE_INDEX.of("0771 234 5678")}))
    assert sorted(candidate_case_ids(record)) == sorted([own.id, relative.id])


def test_the_document_number_alone_finds_the_case(app, caseworker) -> None:
    case = _plain_case(
        caseworker,
        given_name="عباس",
        father_name="جواد",
        documents=[DocumentDetails("passport", PASSPORT)],
    )
    _plain_case(caseworker, given_name="عباس", father_name="جواد", grandfather_name="علي")
    record = _record(given="X", document_hashes=frozenset({DOCUMENT_INDEX.of("a 1234 5678")}))
    assert candidate_case_ids(record) == [case.id]


def test_anonymised_cases_are_never_candidates(app, caseworker) -> None:
    case = _plain_case(caseworker, phones=[PHONE])
    retention.anonymise_case(case, reason="retention")
    db.session.commit()
    record = _record(
        given="محمد",
        father="عماد",
        grandfather="جبار",
        mother="فاطمة",
        phone_hashes=frozenset({PHONE_INDEX.of(PHONE)}),
    )
    assert candidate_case_ids(record) == []


def test_cases_closed_as_duplicates_are_left_out(app, caseworker) -> None:
    kept = _plain_case(caseworker)
    duplicate = _plain_case(caseworker, phones=[PHONE])
    duplicate.status = CaseStatus.CLOSED
    duplicate.closure_reason = ClosureReason.DUPLICATE
    closed_found = _plain_case(caseworker)
    closed_found.status = CaseStatus.CLOSED
    closed_found.closure_reason = ClosureReason.IN_CONTACT
    db.session.commit()
    record = _record(given="محمد", father="عماد", phone_hashes=frozenset({PHONE_INDEX.of(PHONE)}))
    assert sorted(candidate_case_ids(record)) == sorted([kept.id, closed_found.id])


def test_limit_keeps_the_cases_agreeing_on_most(app, caseworker) -> None:
    two_parts = [
        _plain_case(caseworker, grandfather_name="كريم", mother_name="زينب") for _ in range(3)
    ]
    three_parts = _plain_case(caseworker, mother_name="زينب")
    four_parts = _plain_case(caseworker)
    record = _record(given="محمد", father="عماد", grandfather="جبار", mother="فاطمة")
    assert candidate_case_ids(record, limit=2) == [four_parts.id, three_parts.id]
    assert len(candidate_case_ids(record, limit=4)) == 4
    assert set(candidate_case_ids(record)) == {four_parts.id, three_parts.id} | {
        c.id for c in two_parts
    }


def test_namesakes_are_ranked_by_district_and_birth_year(app, caseworker) -> None:
    elsewhere = [
        _plain_case(caseworker, district_pcode="IQG02Q02", governorate_pcode="IQG02", age=50)
        for _ in range(3)
    ]
    him = _plain_case(caseworker)
    record = _record(
        given="محمد", father="عماد", district="IQG07Q04", birth_year=him.birth_year_key
    )
    assert candidate_case_ids(record, limit=1) == [him.id]
    assert len(candidate_case_ids(record)) == 1 + len(elsewhere)


def test_phone_and_document_matches_come_before_namesakes(app, caseworker) -> None:
    namesakes = [_plain_case(caseworker) for _ in range(3)]
    by_phone = _plain_case(caseworker, given_name="عباس", father_name="جواد", phones=[PHONE])
    record = _record(given="محمد", father="عماد", phone_hashes=frozenset({PHONE_INDEX.of(PHONE)}))
    found = candidate_case_ids(record, limit=2)
    assert found[0] == by_phone.id
    assert found[1] in {c.id for c in namesakes}


# --- query plans ----------------------------------------------------------------------------

FULL_RECORD = PersonRecord(
    given="محمد",
    father="عماد",
    grandfather="جبار",
    mother="فاطمة حسين",
    phone_hashes=frozenset({"a" * 64}),
    document_hashes=frozenset({"b" * 64}),
)


def _compiled(query) -> str:  # noqa: ANN001
    return str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))


def _plan(conn, query) -> list[str]:  # noqa: ANN001
    """The steps of the database's plan for ``query``, one string each."""
    if conn.dialect.name == "sqlite":
        return [row[-1] for row in conn.execute(text("EXPLAIN QUERY PLAN " + _compiled(query)))]
    return [row[0] for row in conn.execute(text("EXPLAIN " + _compiled(query)))]


NO_GRANDFATHER = PersonRecord(given="محمد", father="عماد", mother="فاطمة")


def test_every_candidate_query_uses_an_index(app) -> None:
    name_queries = candidates.name_queries(FULL_RECORD) + candidates.name_queries(NO_GRANDFATHER)
    key_queries = candidates.key_queries(FULL_RECORD)
    # Four straight pairs (given + mother only without a grandfather), two shifted; three keys.
    assert (len(name_queries), len(key_queries)) == (5 + 3, 3)
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            for query in name_queries + key_queries:
                steps = [s for s in _plan(conn, query) if s != "USE TEMP B-TREE FOR ORDER BY"]
                # SEARCH (not SCAN): an index seek on equality, never a pass over the table.
                assert len(steps) == 1 and steps[0].startswith("SEARCH "), (steps, query)
                assert " INDEX " in steps[0], (steps, query)
            for query in name_queries:
                # Namesakes are ranked from the index alone: the table is not read.
                assert "USING COVERING INDEX ix_cases_skel_" in _plan(conn, query)[0]
        else:
            # Tiny test tables make a sequential scan the cheapest plan; forbidding it shows
            # whether an index can answer the query at all.
            conn.execute(text("SET enable_seqscan = off"))
            for query in name_queries + key_queries:
                plan = "\n".join(_plan(conn, query))
                assert "Seq Scan" not in plan, plan
                assert "Index" in plan, plan
            for query in name_queries:
                plan = "\n".join(_plan(conn, query))
                assert "Index Only Scan using ix_cases_skel_" in plan, plan


def test_each_pair_is_the_leading_columns_of_its_index(app) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan names the columns used")
    with db.engine.connect() as conn:
        for record in (FULL_RECORD, NO_GRANDFATHER):
            keys = candidates.record_skeletons(record)
            pairs = candidates._pairs(keys)  # noqa: SLF001
            for pair, query in zip(pairs, candidates.name_queries(record), strict=True):
                step = _plan(conn, query)[0]
                sought = step.split("(", 1)[1].rstrip(")")
                assert sought == " AND ".join(f"{column}_skel=?" for column, _ in pair), step


# --- find_matches ---------------------------------------------------------------------------


def test_find_matches_scores_bands_and_sorts(app, caseworker, other_caseworker) -> None:
    same = make_case(caseworker)  # محمد عماد جبار كاظم الجنابي, mother فاطمة حسين علي
    brother = make_case(
        other_caseworker,
        given_name="احمد",
        mother_name="فاطمة حسين علي",
        age=30,
        latin_names=[],
        contacts=[],
    )
    _plain_case(caseworker, given_name="علي", father_name="حسن", grandfather_name="كريم")
    record = PersonRecord(
        given="Mohammed",
        father="Imad",
        grandfather="Jabbar",
        mother="Фатима",
        birth_year=same.birth_year_key,
        district="IQG07Q04",
    )
    found = find_matches(caseworker, record)
    assert found, "the same man must be suggested"
    assert found[0].case.id == same.id
    assert found[0].result.band == "strong"
    assert found[0].visible
    assert all(m.result.band in ("strong", "possible") for m in found)
    assert [m.result.score for m in found] == sorted((m.result.score for m in found), reverse=True)
    for m in found:
        if m.case.id == brother.id:
            assert not m.visible
            assert m.result.score < found[0].result.score


def test_find_matches_leaves_out_excluded_cases(app, caseworker) -> None:
    same = make_case(caseworker)
    record = PersonRecord.from_case(same)
    assert find_matches(caseworker, record, case_id=same.id) == []
    assert find_matches(caseworker, record, exclude_case_ids={same.id}) == []
    other = make_case(caseworker)
    assert [m.case.id for m in find_matches(caseworker, record, case_id=same.id)] == [other.id]


def test_find_matches_needs_a_band(app, caseworker) -> None:
    # The same given and father's name but everything else different: a namesake, not a match.
    _plain_case(
        caseworker,
        grandfather_name="كريم",
        mother_name="زينب",
        age=50,
        district_pcode="IQG02Q02",
        governorate_pcode="IQG02",
    )
    record = PersonRecord(
        given="محمد", father="عماد", grandfather="جبار", mother="فاطمة", birth_year=2001
    )
    assert find_matches(caseworker, record) == []


def test_scoring_compares_the_most_promising_candidates_first(app, caseworker, monkeypatch) -> None:
    # Five namesakes agree on three names; the man himself has his father's name misspelt but
    # his mother, birth year and district agree. Only three candidates are scored in full, and
    # he is among them.
    for _ in range(5):
        _plain_case(
            caseworker,
            mother_name="زينب",
            age=50,
            district_pcode="IQG02Q02",
            governorate_pcode="IQG02",
        )
    him = _plain_case(caseworker, father_name="عمار")
    record = PersonRecord(
        given="محمد",
        father="عماد",
        grandfather="جبار",
        mother="فاطمة حسين علي",
        birth_year=him.birth_year_key,
        district="IQG07Q04",
    )
    assert len(candidate_case_ids(record)) == 6
    monkeypatch.setattr(candidates, "SCORED", 3)
    found = find_matches(caseworker, record)
    assert [m.case.id for m in found] == [him.id]


def test_has_strong_match(app, caseworker) -> None:
    him = make_case(caseworker)
    assert candidates.has_strong_match(PersonRecord.from_case(him))
    assert not candidates.has_strong_match(PersonRecord.from_case(him), case_id=him.id)
    assert not candidates.has_strong_match(PersonRecord(given="محمد", father="عماد"))


def test_candidates_are_scored_as_from_case_reads_them(app, caseworker) -> None:
    # find_matches builds records from plain rows (no ORM objects, nothing decrypted); they
    # must be what PersonRecord.from_case gives for the case.
    case = make_case(
        caseworker,
        aliases=["حمودي"],
        phones=[PHONE],
        documents=[DocumentDetails("passport", PASSPORT)],
    )
    records = candidates._records([case.id])  # noqa: SLF001
    assert records == {case.id: PersonRecord.from_case(case)}
    assert records[case.id].phone_hashes and records[case.id].document_hashes
    assert len(records[case.id].other_names) == 2
