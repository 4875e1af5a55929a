"""The stored matching keys of a case: name-part skeletons and token skeletons, kept current."""

from __future__ import annotations

from sqlalchemy import select

from cases.casework import services
from cases.casework.models import Case, CaseNameToken
from cases.extensions import db
from cases.matching.keys import SKELETON_COLUMNS
from cases.retention import services as retention

from ..factories import make_case


def stored(case: Case) -> dict[str, str | None]:
    db.session.expire_all()
    fresh = db.session.get(Case, case.id)
    return {column: getattr(fresh, column) for column in SKELETON_COLUMNS}


def token_skeletons(case: Case) -> dict[str, str | None]:
    rows = db.session.execute(
        select(CaseNameToken.token, CaseNameToken.skeleton).filter_by(case_id=case.id)
    )
    return dict(rows.all())


def test_create_stores_the_skeleton_of_each_name_part(caseworker):
    case = make_case(caseworker)  # محمد عماد جبار كاظم الجنابي, mother فاطمة حسين علي
    assert stored(case) == {
        "given_skel": "MHMD",
        "father_skel": "AMD",
        "grandfather_skel": "JBR",
        "laqab_skel": "JNB",
        "mother_skel": "FTM",
    }


def test_latin_and_arabic_spellings_store_the_same_keys(caseworker):
    arabic = make_case(caseworker)
    latin = make_case(
        caseworker,
        given_name="Mohammed",
        father_name="Imad",
        grandfather_name="Jabbar",
        laqab="Al-Janabi",
        mother_name="Fatimah Hussein",
    )
    assert stored(latin) == stored(arabic)


def test_missing_parts_store_no_key(caseworker):
    case = make_case(caseworker, father_name=None, laqab="", mother_name=None)
    keys = stored(case)
    assert (keys["father_skel"], keys["laqab_skel"], keys["mother_skel"]) == (None, None, None)
    assert keys["given_skel"] == "MHMD"


def test_edit_updates_the_keys(caseworker):
    case = make_case(caseworker)
    details = services.details_of(case)
    details.given_name = "حسين"
    details.father_name = "علي"
    details.mother_name = "زينب كاظم"
    details.latin_names = ["Hussein Ali"]
    services.update_case(caseworker, case, details)

    keys = stored(case)
    assert (keys["given_skel"], keys["father_skel"], keys["mother_skel"]) == ("HSN", "AL", "DNB")
    tokens = token_skeletons(case)
    assert (tokens["حسين"], tokens["hussein"]) == ("HSN", None)
    assert "محمد" not in tokens and "mohammed" not in tokens
    assert set(tokens.values()) == {"HSN", "AL", "JBR", "KDM", "JNB", None}


def test_each_skeleton_is_stored_once_per_case_on_the_arabic_token(caseworker):
    case = make_case(caseworker, aliases=["Мохаммед", "گاطع", "Abu Zahraa"])
    tokens = token_skeletons(case)
    assert tokens["محمد"] == "MHMD"
    assert tokens["mohammed"] is tokens["mokhammed"] is None
    assert (tokens["عماد"], tokens["imad"]) == ("AMD", None)
    # A skeleton no Arabic token has stays on the Latin row: "Abu Zahraa" is Latin only.
    assert (tokens["abu"], tokens["zahraa"]) == ("AB", "DHR")
    # The readings of گ share a skeleton: it is stored on one of them.
    assert [tokens[t] for t in ("قاطع", "كاطع", "گاطع")].count("KT") == 1
    assert sorted(s for s in tokens.values() if s) == sorted(set(tokens.values()) - {None})


def test_anonymising_clears_the_keys(caseworker):
    case = make_case(caseworker)
    retention.anonymise_case(case, reason="retention")
    db.session.commit()
    assert set(stored(case).values()) == {None}
    assert token_skeletons(case) == {}
