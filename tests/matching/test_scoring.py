"""Tests for cases.matching.scoring and cases.matching.weights: what a caseworker sees for a pair
of records — the band, the score's direction when one field changes, and the reasons."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

from cases.auth.models import User
from cases.matching import weights as weights_module
from cases.matching.keys import part_skeleton
from cases.matching.records import PersonRecord
from cases.matching.scoring import CONFLICT_CAP, POSSIBLE, STRONG, MatchResult, score
from cases.matching.weights import NameWeights, current_weights

from ..factories import make_case

# One family from Al-Musayyib: the missing young man, as the case file has him.
FAMILY = {
    "father": "عماد",
    "grandfather": "جبار",
    "great_grandfather": "كاظم",
    "laqab": "الجنابي",
    "mother": "فاطمة حسين علي",
    "governorate": "IQG07",
    "district": "IQG07Q04",
}
MOHAMMED = PersonRecord(given="محمد", sex="male", birth_year=2000, **FAMILY)


def reason(result: MatchResult, field: str):  # noqa: ANN201
    return next(r for r in result.reasons if r.field == field)


def test_issue_example_arabic_latin_and_cyrillic_meet():
    arabic = PersonRecord(given="محمد", father="عماد", grandfather="جبار")
    latin = PersonRecord(other_names=("Mohammed Imad Jabbar",))
    russian = PersonRecord(other_names=("Мохаммед Имад",))
    for a, b in ((arabic, latin), (arabic, russian), (latin, russian)):
        result = score(a, b)
        assert result.band in ("strong", "possible"), (a, b, result)
    assert reason(score(arabic, latin), "father").verdict == "same"


def test_full_agreement_is_strong_and_capped_at_100():
    inquiry = replace(MOHAMMED, mother="فاطمة", phone_hashes=frozenset({"family-phone"}))
    result = score(MOHAMMED, inquiry)
    assert result.band == "strong"
    assert result.score == 100


def test_arabic_spelling_variants_count_as_the_same_name():
    case = PersonRecord(given="أحمد", father="عبد الأمير", grandfather="گاطع", laqab="الجبوري")
    inquiry = PersonRecord(given="احمَد", father="عبدالامير", grandfather="قاطع", laqab="جبوري")
    result = score(case, inquiry)
    assert {r.verdict for r in result.reasons} == {"same"}
    assert result.band in ("strong", "possible")


@pytest.mark.parametrize(
    ("given", "brother"),
    [
        ("محمد", "علي"),  # different names
        ("حسن", "حسين"),  # one letter apart: the commonest pair of brothers' names
        ("محمد", "محمود"),
    ],
)
def test_brothers_are_not_even_possible(given: str, brother: str):
    # Same father, grandfather, great-grandfather, laqab, mother, district and family phone.
    phone = frozenset({"family-phone"})
    one = replace(MOHAMMED, given=given, phone_hashes=phone)
    other = replace(MOHAMMED, given=brother, birth_year=2002, phone_hashes=phone)
    result = score(one, other)
    assert result.band is None
    assert result.score <= CONFLICT_CAP
    assert reason(result, "given").verdict == "differs"


def test_brother_spelt_in_latin_is_not_the_arabic_one():
    hussein = replace(MOHAMMED, given="حسين")
    hassan_passport = PersonRecord(other_names=("Hassan Imad Jabbar",), birth_year=2002)
    assert score(hussein, hassan_passport).band is None
    hussein_passport = PersonRecord(other_names=("Hussein Imad Jabbar",), birth_year=2000)
    assert score(hussein, hussein_passport).band in ("strong", "possible")


def test_cousins_named_after_their_grandfather_are_not_possible():
    cousin = replace(MOHAMMED, father="علي", mother="زينب كاظم حسن", birth_year=2001)
    result = score(MOHAMMED, cousin)
    assert result.band is None
    assert reason(result, "father").verdict == "differs"


def test_father_and_son_are_not_possible():
    # The son carries his father's names one position further.
    father = PersonRecord(given="محمد", father="عماد", grandfather="جبار", birth_year=1975)
    son = PersonRecord(given="علي", father="محمد", grandfather="عماد", birth_year=2000)
    assert score(father, son).band is None


def test_missing_grandfather_is_unknown_not_different():
    inquiry = PersonRecord(given="محمد", father="عماد", laqab="الجنابي", birth_year=2000)
    result = score(MOHAMMED, inquiry)
    assert result.band in ("strong", "possible")
    assert reason(result, "grandfather").verdict == "missing"
    assert reason(result, "grandfather").points == 0


def test_father_left_out_shifts_the_rest():
    # The relative wrote «محمد جبار كاظم»: given, grandfather, great-grandfather.
    inquiry = PersonRecord(given="محمد", father="جبار", grandfather="كاظم", birth_year=2000)
    result = score(MOHAMMED, inquiry)
    assert result.band in ("strong", "possible")
    assert reason(result, "alignment").points < 0
    assert reason(result, "grandfather").verdict == "same"
    # A father's name that is neither the father nor the grandfather is not explained away.
    other_father = PersonRecord(given="محمد", father="حسن", grandfather="جبار", birth_year=2000)
    assert score(MOHAMMED, other_father).band is None


def test_slip_of_the_hand_in_a_name_is_similar():
    inquiry = replace(MOHAMMED, given="مخمد")  # ح typed with the dot of خ
    result = score(MOHAMMED, inquiry)
    assert reason(result, "given").verdict == "similar"
    assert result.band in ("strong", "possible")


def test_alias_in_other_names_is_tried():
    case = replace(MOHAMMED, other_names=("حمودي عماد جبار",))
    inquiry = PersonRecord(given="حمودي", father="عماد", grandfather="جبار", birth_year=2000)
    assert score(case, inquiry).band in ("strong", "possible")


def test_russian_record_with_family_name_first():
    russian = PersonRecord(other_names=("Аль-Джанаби Мохаммед Имад Джаббар",), birth_year=2000)
    result = score(MOHAMMED, russian)
    assert result.band in ("strong", "possible")
    assert reason(result, "laqab").verdict == "same"


def _common_and_rare_weights() -> NameWeights:
    common = ["محمد"] * 400 + ["علي"] * 300 + ["حسين"] * 300
    return NameWeights.from_skeletons(
        {
            "given": [part_skeleton(n) for n in common + ["ضرغام"]],
            "father": [part_skeleton(n) for n in common + ["مطشر"]],
            "grandfather": [part_skeleton(n) for n in common + ["شلال"]],
        }
    )


def test_common_names_score_lower_than_rare_ones():
    weights = _common_and_rare_weights()
    common = PersonRecord(given="محمد", father="علي", grandfather="حسين")
    rare = PersonRecord(given="ضرغام", father="مطشر", grandfather="شلال")
    common_score = score(common, common, weights).score
    rare_score = score(rare, rare, weights).score
    assert common_score < rare_score
    assert (
        weights.rarity("given", part_skeleton("محمد"))
        < 0.5
        < weights.rarity("given", part_skeleton("ضرغام"))
    )


def test_without_a_case_base_every_name_weighs_the_same():
    weights = NameWeights()
    assert weights.rarity("given", "MHMD") == weights.rarity("given", "DRKM") == 0.6


def test_mother_agreeing_raises_and_differing_lowers():
    base = PersonRecord(given="محمد", father="عماد", grandfather="جبار", birth_year=2000)
    without = score(replace(base, mother=None), replace(base, mother="فاطمة")).score
    same = score(replace(base, mother="فاطمة حسين"), replace(base, mother="فاطمه")).score
    other = score(replace(base, mother="فاطمة"), replace(base, mother="زينب")).score
    other_father = score(replace(base, mother="فاطمة حسين"), replace(base, mother="فاطمة كاظم"))
    assert other < without < same
    assert reason(other_father, "mother").verdict == "differs"


def test_birth_year_within_two_years_helps_far_apart_hurts():
    case = PersonRecord(given="محمد", father="عماد", grandfather="جبار", birth_year=2000)

    def with_year(year: int | None) -> int:
        return score(case, replace(case, birth_year=year)).score

    assert with_year(2000) > with_year(2002) > with_year(None) > with_year(2004) > with_year(2010)
    assert reason(score(case, replace(case, birth_year=2002)), "birth_year").points > 0
    assert reason(score(case, replace(case, birth_year=2010)), "birth_year").verdict == "differs"


def test_district_then_governorate_then_elsewhere():
    names = PersonRecord(given="محمد", father="عماد", grandfather="جبار")
    here = replace(names, governorate="IQG07", district="IQG07Q04")

    def at(governorate: str, district: str) -> int:
        return score(here, replace(names, governorate=governorate, district=district)).score

    assert at("IQG07", "IQG07Q04") > at("IQG07", "IQG07Q02") > at("IQG08", "IQG08Q07")


def test_shared_phone_or_document_raises_the_score():
    names = PersonRecord(given="محمد", father="عماد", grandfather="جبار")
    plain = score(names, names).score
    phone = score(
        replace(names, phone_hashes=frozenset({"p1", "p2"})),
        replace(names, phone_hashes=frozenset({"p2"})),
    )
    document = score(
        replace(names, document_hashes=frozenset({"d1"})),
        replace(names, other_names=(), document_hashes=frozenset({"d1"})),
    )
    assert phone.score > plain
    assert document.band == "strong"


def test_same_document_with_a_different_name_is_shown_but_not_strong():
    one = replace(MOHAMMED, document_hashes=frozenset({"d1"}))
    other = replace(MOHAMMED, given="علي", document_hashes=frozenset({"d1"}))
    assert score(one, other).band == "possible"


def test_different_sex_is_never_a_match():
    result = score(MOHAMMED, replace(MOHAMMED, sex="female"))
    assert result.band is None
    assert reason(result, "sex").verdict == "differs"


def test_bands_follow_the_thresholds():
    for result in (score(MOHAMMED, MOHAMMED), score(MOHAMMED, replace(MOHAMMED, given="علي"))):
        assert 0 <= result.score <= 100
        expected = (
            "strong"
            if result.score >= STRONG
            else ("possible" if result.score >= POSSIBLE else None)
        )
        assert result.band == expected


def test_reasons_are_translated_and_show_the_names(app: Flask):
    inquiry = PersonRecord(other_names=("Mohammed Imad Jabbar",), birth_year=2001)
    results = {}
    for language in ("en", "ar"):
        # A fresh app context per language: Flask-Babel keeps the locale in ``g``.
        with app.app_context(), app.test_request_context(headers={"Accept-Language": language}):
            results[language] = score(MOHAMMED, inquiry)
    english, arabic = reason(results["en"], "father"), reason(results["ar"], "father")
    assert english.detail == "Father's name: same (عماد = Imad)"
    assert reason(results["en"], "birth_year").detail == "Born 2000 vs 2001 (within 2 years)"
    assert "اسم الأب" in arabic.detail
    assert "عماد" in arabic.detail
    assert "Imad" in arabic.detail
    assert {r.field for r in results["en"].reasons} == {r.field for r in results["ar"].reasons}


def test_reasons_never_show_phone_or_document_numbers():
    phone, document = "+9647701234567", "A12345678"
    one = replace(MOHAMMED, phone_hashes=frozenset({phone}), document_hashes=frozenset({document}))
    result = score(one, one)
    fields = {r.field for r in result.reasons}
    assert {"phone", "document"} <= fields
    assert not any(phone in r.detail or document in r.detail for r in result.reasons)


# --- Weights learned from the case base ----------------------------------------------------


def test_current_weights_count_the_case_base(app: Flask, caseworker: User):
    for _ in range(4):
        make_case(caseworker)  # «محمد عماد جبار»
    make_case(caseworker, given_name="ضرغام")
    weights = current_weights()
    assert weights.totals["given"] == 5
    assert weights.count("given", part_skeleton("محمد")) == 4
    assert weights.count("given", part_skeleton("Mohammed")) == 4  # one count across scripts
    assert weights.rarity("given", part_skeleton("محمد")) < weights.rarity(
        "given", part_skeleton("ضرغام")
    )


def test_current_weights_are_cached_per_process(app: Flask, caseworker: User):
    app.config["MATCH_WEIGHTS_SECONDS"] = 3600
    weights_module.forget()
    try:
        first = current_weights()
        make_case(caseworker)
        assert current_weights() is first  # not recounted within the hour
        assert first.totals["given"] == 0
    finally:
        weights_module.forget()
