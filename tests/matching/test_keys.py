"""Tests for cases.matching.keys: one test per class rule, then real cross-script spellings."""

import pytest

from cases.demo import names
from cases.matching.keys import (
    SKELETON_LENGTH,
    case_skeletons,
    first_skeleton,
    name_skeletons,
    part_skeleton,
    search_skeletons,
    skeleton,
    stored_token_skeletons,
)


def same(*spellings: str) -> str:
    """The one skeleton all ``spellings`` share (the assertion shows them all if not)."""
    found = {s: part_skeleton(s) for s in spellings}
    assert len(set(found.values())) == 1, found
    return next(iter(found.values()))


# --- classes ---------------------------------------------------------------------------


def test_b_class():
    assert skeleton("ب") == skeleton("b") == skeleton("p") == skeleton("پ") == "B"


def test_t_class_ta_and_emphatic_ta():
    assert skeleton("تالب") == skeleton("طالب") == skeleton("talib") == "TLB"


def test_d_class_joins_dal_and_the_interdentals():
    # د ذ ض ظ ز ث and d dh z th: Kadhim / Kazim / Kathim, Dhiaa / Diya / Zia.
    for letter in "دذضظزث":
        assert skeleton("ك" + letter + "م") == "KDM", letter
    for spelling in ("kadhim", "kazim", "kathim", "kadim"):
        assert skeleton(spelling) == "KDM", spelling


def test_j_class_jim_che_and_their_romanisations():
    assert skeleton("جاسب") == skeleton("چاسب") == "JSB"
    for spelling in ("jasib", "chasib", "djasib", "dzhasib", "casib"):
        assert skeleton(spelling) == "JSB", spelling


def test_h_class_ha_kha_and_ha_with_h_kh_x():
    assert skeleton("حليل") == skeleton("خليل") == skeleton("هليل") == "HLL"
    assert skeleton("halil") == skeleton("khalil") == skeleton("xalil") == "HLL"


def test_k_class_qaf_kaf_gaf_ghayn_with_q_k_g_gh():
    for letter in "قكگغ":
        assert skeleton(letter + "اسم") == "KSM", letter
    for spelling in ("qasim", "kasim", "gasim", "ghasim", "ckasim"):
        assert skeleton(spelling) == "KSM", spelling


def test_s_class_sin_and_sad():
    assert skeleton("سادق") == skeleton("صادق") == skeleton("sadiq") == "SDK"


def test_shin_stays_apart_from_sin():
    assert skeleton("شاكر") == skeleton("shakir") == "CKR"
    assert skeleton("شاكر") != skeleton("ساكر")


def test_f_class_with_ph():
    assert skeleton("mustafa") == skeleton("mustapha") == skeleton("مصطفى") == "MSTF"


def test_l_m_n_r_map_to_themselves():
    assert skeleton("لمنر") == skeleton("lamnar") == "LMNR"


def test_zh_is_not_one_letter():
    # Azhar is أزهر, not a ج.
    assert skeleton("azhar") == skeleton("ازهر") == "ADHR"


# --- vowels, glides and doubled letters ------------------------------------------------------


def test_vowels_inside_a_word_are_dropped():
    assert skeleton("kareem") == skeleton("karim") == skeleton("كريم") == "KRM"


def test_initial_vowel_alef_and_ayn_become_a():
    assert skeleton("عماد") == skeleton("imad") == skeleton("emad") == "AMD"
    assert skeleton("احمد") == skeleton("ahmed") == "AHMD"


def test_initial_vowel_keeps_ahmed_apart_from_hamid():
    assert skeleton("احمد") != skeleton("حامد")
    assert skeleton("ahmed") != skeleton("hamid")


def test_ayn_and_hamza_inside_a_word_are_dropped():
    assert skeleton("سعد") == skeleton("saad") == skeleton("sad") == "SD"
    assert skeleton("مؤمل") == skeleton("muammal") == "MML"


def test_initial_waw_is_w_and_russian_v_too():
    assert skeleton("وليد") == skeleton("waleed") == skeleton("valid") == "WLD"


def test_waw_and_w_inside_a_word_are_dropped():
    assert skeleton("جواد") == skeleton("jawad") == skeleton("jawwad") == skeleton("dzhavad")
    assert skeleton("jawad") == "JD"


def test_initial_ya_is_y():
    assert skeleton("يوسف") == skeleton("yousif") == skeleton("yusuf") == "YSF"


def test_ya_and_y_inside_a_word_are_dropped():
    assert skeleton("حيدر") == skeleton("haider") == skeleton("hayder") == "HDR"


def test_written_doubles_collapse():
    assert skeleton("jabbar") == skeleton("jabar") == skeleton("جبار") == "JBR"
    assert skeleton("mohammed") == skeleton("mohamed") == "MHMD"


def test_doubles_of_one_class_collapse():
    # dh after d is one D run: Abdulhussein must not lose its h, but "ddh" is one sound.
    assert skeleton("kadhdhim") == "KDM"


def test_a_dropped_letter_keeps_equal_classes_apart():
    # حسنين / Hassanain has two n's with a ي between them: not Hassan.
    assert skeleton("حسنين") == skeleton("hassanain") == "HSNN"
    assert skeleton("hassanain") != skeleton("hassan")


def test_final_h_is_dropped():
    assert skeleton("فاطمه") == skeleton("fatima") == skeleton("fatimah") == "FTM"
    assert skeleton("صالح") == skeleton("saleh") == skeleton("salih") == "SL"


def test_a_lone_h_is_kept():
    assert skeleton("طه") == skeleton("taha") == "T"
    assert skeleton("ه") == "H"


def test_digits_are_kept():
    assert skeleton("2") == "2"


def test_empty_token():
    assert skeleton("") == ""
    assert part_skeleton(None) is None
    assert part_skeleton("  ") is None
    assert part_skeleton("!!") is None


# --- article and compounds -------------------------------------------------------------------


def test_arabic_article_dropped():
    assert skeleton("الجنابي") == skeleton("جنابي") == "JNB"


def test_arabic_article_kept_on_short_words_and_names_that_begin_with_al():
    assert skeleton("الياس") == skeleton("ilyas") == skeleton("elias") == "ALS"
    assert skeleton("الهام") == skeleton("ilham") == "ALHM"


def test_fused_latin_article_dropped():
    assert skeleton("aljanabi") == skeleton("janabi") == "JNB"
    assert skeleton("alobaidi") == skeleton("obaidi") == skeleton("العبيدي")


def test_fused_latin_article_kept_on_names_beginning_with_al():
    assert skeleton("ali") == skeleton("علي") == "AL"
    assert skeleton("alaa") == "AL"
    assert skeleton("allawi") == skeleton("علاوي") == "AL"
    assert skeleton("alwan") == skeleton("علوان") == "ALN"


def test_abd_compounds():
    assert same("عبد الرحمن", "Abdul Rahman", "Abdulrahman", "Abd al-Rahman") == "ABDRHMN"


def test_abd_keeps_its_d_apart_from_the_next_letter():
    # "abdhussein" must not read "dh".
    assert same("عبد الحسين", "Abdul Hussein", "Abdulhussein", "Abd al-Husain") == "ABDHSN"


def test_abdallah():
    assert same("عبد الله", "Abdullah", "Abdallah", "Abd Allah", "Abdulla", "Абдулла") == "ABDL"


def test_trailing_allah():
    assert same("نصر الله", "Nasrallah", "Nasrullah") == "NSRL"


def test_trailing_din():
    assert same("صلاح الدين", "Salah al-Din", "Salahuddin", "Salah ud-Din", "Saladin") == "SLDN"
    assert same("نور الدين", "Nur al-Din", "Nureddine", "Nouraddin", "Nuraldin") == "NRDN"
    assert same("علاء الدين", "Alaa al-Din", "Alaaddin", "Aladdin") == "ALDN"


def test_abu_compounds_meet_the_separate_latin_word():
    assert same("ابو علي", "أبو علي", "Abu Ali") == "ABAL"
    assert same("أبو الفضل", "Abu al-Fadl", "Abu Fadl") == "ABFDL"


# --- the issue's examples -------------------------------------------------------------------


@pytest.mark.parametrize(
    "spellings",
    [
        ("محمد", "مُحَمَّد", "Mohammed", "Muhammad", "Mohamed", "Mohamad", "Мохаммед", "Мухаммед"),
        ("عماد", "Imad", "Emad", "Имад", "Эмад"),
        ("جبار", "Jabbar", "Jabar", "Джаббар"),
        ("حسين", "Hussein", "Husain", "Hussain", "Husayn", "Хусейн", "Hüseyin"),
        ("عبد الرحمن", "Abdul Rahman", "Abdulrahman", "Abd al-Rahman", "Абдулрахман"),
        ("قاسم", "Qasim", "Kassim", "Gassim", "Kasim", "Касим"),
        ("علي", "Ali", "Али"),
        ("يوسف", "Yousif", "Yusuf", "Yousef", "Юсуф"),
        ("وليد", "Waleed", "Walid", "Валид"),
        ("الجنابي", "Al-Janabi", "Aljanabi", "Al Janabi", "Джанаби", "Аль-Джанаби"),
        ("ضياء", "Dhiaa", "Diya", "Diyaa", "Dhia", "Zia", "Зия"),
        ("كاظم", "Kadhim", "Kazim", "Kathim", "Казим"),
        ("حيدر", "Haider", "Hayder", "Хайдер"),
        ("أحمد", "Ahmed", "Ahmad", "Ахмед"),
        ("يحيى", "Yahya", "Яхья"),
        ("عودة", "Odeh", "Ouda", "Awda"),
        ("گاطع", "قاطع", "Gatie", "Qati", "Gati"),
    ],
)
def test_cross_script_spellings_share_one_skeleton(spellings):
    same(*spellings)


def test_issue_example_full_names():
    arabic = name_skeletons("محمد عماد جبار")
    assert arabic == name_skeletons("Mohammed Imad Jabbar") == ["MHMD", "AMD", "JBR"]
    assert name_skeletons("Мохаммед Имад") == arabic[:2]


def test_demo_romanisations_share_the_arabic_skeleton():
    # Every Latin and Cyrillic spelling the demo data uses, bar the Persian "Narges" (g for ج).
    misses = []
    for table in (names.YOUNG_MEN, names.ELDER_MEN, names.YOUNG_WOMEN, names.MOTHERS, names.LAQABS):
        for arabic, _ in table:
            if arabic not in names.IRREGULAR_SPELLINGS and arabic not in names.ROMANISATION:
                continue
            spellings = [*names.latin_spellings(arabic), names.CYRILLIC.get(arabic)]
            misses += [
                (arabic, s)
                for s in spellings
                if s and part_skeleton(s) != part_skeleton(arabic) and s != "Narges"
            ]
    assert misses == []


# --- should differ ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("أحمد", "حامد"),  # Ahmed / Hamid: the initial vowel
        ("حسنين", "حسن"),  # Hassanain / Hassan
        ("زيد", "ضياء"),  # Zaid / Dhiaa
        ("جاسم", "قاسم"),  # Jasim / Qasim
        ("كاظم", "قاسم"),  # Kadhim / Qasim
        ("شاكر", "صاكر"),
        ("سالم", "صالح"),
        ("زينب", "زين"),
        ("كرار", "كريم"),
        ("Hussein", "Hassanain"),
        ("Mohammed", "Ahmed"),
    ],
)
def test_different_names_keep_different_skeletons(one, other):
    assert part_skeleton(one) != part_skeleton(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("حسن", "حسين"),  # ي inside a word is Karim's long i as often as Hussein's ay
        ("محمد", "محمود"),  # و inside a word is Yusuf's u as often as Mahmoud's ou
        ("علي", "علاء"),  # final ي/ى and ا both dropped (مصطفى is Mustafa)
        ("عمار", "عامر"),  # long vowels and ع inside a word are dropped
    ],
)
def test_known_collisions_that_scoring_must_resolve(one, other):
    # Documented in the module: the skeleton chooses candidates, scoring tells these apart.
    assert part_skeleton(one) == part_skeleton(other)


# --- functions ------------------------------------------------------------------------------


def test_name_skeletons_one_per_token_in_order():
    assert name_skeletons("Hussein Kadhim Al-Janabi") == ["HSN", "KDM", "JNB"]
    assert name_skeletons(None) == []


def test_part_skeleton_joins_the_tokens_of_a_part():
    assert part_skeleton("محمد علي") == part_skeleton("Mohammed Ali") == "MHMDAL"


def test_skeletons_fit_their_column():
    long_name = "Abd " + "Rahman" * 30
    assert len(skeleton(long_name.lower().replace(" ", ""))) == SKELETON_LENGTH
    assert len(part_skeleton("محمد " * 20)) <= SKELETON_LENGTH


def test_first_skeleton_is_the_mothers_given_name():
    assert first_skeleton("فاطمة كاظم جبار") == first_skeleton("Fatima Kadhim") == "FTM"
    assert first_skeleton(None) is None
    assert first_skeleton("") is None


def test_case_skeletons_by_column():
    assert case_skeletons("محمد", "عماد", "جبار", "الجنابي", "زينب علي حسين") == {
        "given_skel": "MHMD",
        "father_skel": "AMD",
        "grandfather_skel": "JBR",
        "laqab_skel": "JNB",
        "mother_skel": "DNB",
    }
    assert case_skeletons("Ali", None, None, None, None)["father_skel"] is None


def test_stored_token_skeletons_once_per_skeleton_arabic_first():
    stored = stored_token_skeletons(["mohammed", "محمد", "muhammad", "imad", "jabbar", "جبار"])
    assert stored == {
        "محمد": "MHMD",
        "mohammed": None,
        "muhammad": None,
        "imad": "AMD",  # no Arabic token has AMD
        "جبار": "JBR",
        "jabbar": None,
    }


def test_stored_token_skeletons_leave_out_tokens_without_letters():
    assert stored_token_skeletons(["ـ"]) == {"ـ": None}
    assert stored_token_skeletons([]) == {}


def test_search_skeletons_align_with_tokens():
    assert search_skeletons(["mohammed", "imad"]) == [frozenset({"MHMD"}), frozenset({"AMD"})]


def test_search_skeletons_join_a_latin_abu_with_the_next_word():
    assert search_skeletons(["abu", "ali"]) == [
        frozenset({"AB", "ABAL"}),
        frozenset({"AL", "ABAL"}),
    ]
