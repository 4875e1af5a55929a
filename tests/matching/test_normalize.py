"""Tests for cases.matching.normalize: one rule per test, with real name spellings."""

from cases.matching.normalize import index_tokens, name_tokens, normalize_arabic, search_tokens

# --- normalize_arabic ------------------------------------------------------------------


def test_diacritics_removed():
    assert normalize_arabic("مُحَمَّد") == normalize_arabic("محمد") == "محمد"


def test_superscript_alef_removed():
    assert normalize_arabic("رحمٰن") == "رحمن"


def test_alef_forms_fold_to_bare_alef():
    assert normalize_arabic("أحمد") == normalize_arabic("احمد") == "احمد"
    assert normalize_arabic("إبراهيم") == "ابراهيم"
    assert normalize_arabic("آمنة") == "امنه"
    assert normalize_arabic("ٱلحسن") == "الحسن"


def test_ta_marbuta_folds_to_ha():
    assert normalize_arabic("فاطمة") == normalize_arabic("فاطمه") == "فاطمه"


def test_alef_maqsura_folds_to_ya():
    assert normalize_arabic("على") == normalize_arabic("علي") == "علي"


def test_hamza_on_waw_and_ya_folds():
    assert normalize_arabic("مؤيد") == "مويد"
    assert normalize_arabic("رئيس") == "رييس"


def test_tatweel_removed():
    assert normalize_arabic("محـــمد") == "محمد"


def test_zero_width_and_bidi_marks_removed():
    rlo, pdf, zwsp, zwnj, rlm, bom = "\u202e", "\u202c", "\u200b", "\u200c", "\u200f", "\ufeff"
    assert normalize_arabic(f"{rlo}حسين{pdf}") == "حسين"
    assert normalize_arabic(f"{bom}ح{zwsp}سي{zwnj}ن{rlm}") == "حسين"
    assert normalize_arabic("\u2067علي\u2069 \u061cكاظم") == "علي كاظم"


def test_abd_joined_with_next_word():
    assert normalize_arabic("عبد الله") == normalize_arabic("عبدالله") == "عبدالله"
    assert normalize_arabic("عبد الرحمن") == "عبدالرحمن"


def test_trailing_din_joined_with_previous_word():
    assert normalize_arabic("صلاح الدين") == normalize_arabic("صلاحالدين") == "صلاحالدين"
    assert normalize_arabic("نور الدين") == "نورالدين"


def test_trailing_allah_joined_with_previous_word():
    assert normalize_arabic("نصر الله") == "نصرالله"


def test_abu_joined_with_next_word():
    assert normalize_arabic("أبو بكر") == normalize_arabic("ابوبكر") == "ابوبكر"


def test_compound_chain_joins_regardless_of_spacing():
    assert normalize_arabic("أبو عبد الرحمن") == normalize_arabic("ابو عبدالرحمن") == "ابوعبدالرحمن"


def test_compound_particle_alone_is_kept():
    assert normalize_arabic("عبد") == "عبد"
    assert normalize_arabic("محمد ابو") == "محمد ابو"


def test_arabic_indic_digits_to_ascii():
    assert normalize_arabic("٠٧٧٠") == "0770"


def test_extended_arabic_indic_digits_to_ascii():
    assert normalize_arabic("۰۷۷۰۱۲۳") == "0770123"


def test_kurdish_and_persian_letters_fold():
    # Kurdish keheh, Farsi yeh, ae and heh doachashmee as typed on Kurdish keyboards.
    assert normalize_arabic("کاکە") == "كاكه"
    assert normalize_arabic("علی") == "علي"
    assert normalize_arabic("ھەولێر") == normalize_arabic("هەولێر")


def test_gaf_and_che_kept_by_normalize():
    assert normalize_arabic("گاطع") == "گاطع"
    assert normalize_arabic("چلبي") == "چلبي"


def test_whitespace_collapsed():
    assert normalize_arabic("  محمد \t  علي\n حسين  ") == "محمد علي حسين"


def test_latin_lowercased():
    assert normalize_arabic("Haider AL-ABBASI") == "haider al-abbasi"


def test_nfkc_presentation_forms():
    # Lam-alef ligature and isolated presentation forms from old PDFs.
    assert normalize_arabic("\ufefbمين") == "لامين"
    assert normalize_arabic("\ufee3\ufea4\ufee4\ufeaa") == "محمد"


def test_normalize_empty_and_whitespace():
    assert normalize_arabic("") == ""
    assert normalize_arabic("   \u200f ") == ""


# --- name_tokens ---------------------------------------------------------------------


def test_arabic_name_tokens():
    assert name_tokens("مُحَمَّد عبد الله الجبوري") == ["محمد", "عبدالله", "الجبوري"]


def test_arabic_punctuation_separates_tokens():
    assert name_tokens("علي، حسين") == ["علي", "حسين"]


def test_arabic_punctuation_does_not_hide_compound():
    assert name_tokens("عبد-الله") == name_tokens("(عبد الله)") == ["عبدالله"]


def test_latin_tokens_drop_hyphenated_article():
    assert name_tokens("Mohammed Al-Jabouri") == ["mohammed", "jabouri"]


def test_latin_tokens_drop_bare_article():
    assert name_tokens("Mohammed Al Jabouri") == ["mohammed", "jabouri"]
    assert name_tokens("Hassan el Sheikh") == ["hassan", "sheikh"]


def test_latin_tokens_drop_sun_letter_article():
    assert name_tokens("Muqtada as-Sadr") == ["muqtada", "sadr"]


def test_latin_apostrophes_removed_inside_words():
    assert name_tokens("Ja'far") == name_tokens("Ja\u2019far") == ["jafar"]
    assert name_tokens("\u02bfAli") == ["ali"]


def test_latin_accents_folded():
    assert name_tokens("Şêx Mahmûd") == ["sex", "mahmud"]


def test_cyrillic_folds_to_ascii():
    assert name_tokens("Мохаммед") == ["mokhammed"]
    assert name_tokens("Хайдер Хусейн") == ["khayder", "khuseyn"]


def test_abd_al_spellings_agree():
    expected = ["abdrahman"]
    assert name_tokens("Abdul Rahman") == expected
    assert name_tokens("Abd al-Rahman") == expected
    assert name_tokens("Abdel Rahman") == expected
    assert name_tokens("Abd el Rahman") == expected
    assert name_tokens("Abdul-Rahman") == expected
    assert name_tokens("Abdulrahman") == expected
    assert name_tokens("Abdurrahman") == expected


def test_abdallah_spellings_agree():
    for spelling in ("Abdullah", "Abdallah", "Abd Allah", "Abdulla", "Абдулла"):
        assert name_tokens(spelling) == ["abdallah"], spelling


def test_abd_join_keeps_name_starting_with_al():
    assert name_tokens("Abdul Aleem") == name_tokens("Abdulaleem") == ["abdaleem"]


def test_abd_like_surnames_not_split():
    assert name_tokens("Abdali") == ["abdali"]
    assert name_tokens("Abdulov") == ["abdulov"]


def test_name_tokens_mixed_scripts_keep_order():
    assert name_tokens("Ali علي Hussein") == ["ali", "علي", "hussein"]


def test_name_tokens_deduplicated_in_order():
    assert name_tokens("Ali Hussein Ali") == ["ali", "hussein"]
    assert name_tokens("علي عَلى") == ["علي"]


def test_name_tokens_digits():
    assert name_tokens("٠٧٧٠ 0770") == ["0770"]


def test_name_tokens_empty_and_whitespace():
    assert name_tokens("") == []
    assert name_tokens(" \t\n ") == []
    assert name_tokens("\u200f - ") == []


# --- search_tokens -------------------------------------------------------------------


def test_search_tokens_match_name_tokens():
    for query in ("Abd al-Rahman", "مُحَمَّد", "Мохаммед", ""):
        assert search_tokens(query) == name_tokens(query)


def test_search_query_meets_index():
    index = index_tokens("عبد الله الجبوري", "Abd Allah Al-Jabouri")
    assert set(search_tokens("عبدالله")) <= index
    assert set(search_tokens("Abdullah Jabouri")) <= index


# --- index_tokens --------------------------------------------------------------------


def test_index_tokens_merges_fields():
    assert index_tokens("حيدر", "Haider", "Hayder") == {"حيدر", "haider", "hayder"}


def test_index_tokens_gaf_both_readings():
    assert index_tokens("گاطع") == {"گاطع", "قاطع", "كاطع"}


def test_index_tokens_che_both_readings():
    assert index_tokens("چلبي") == {"چلبي", "كلبي", "جلبي"}


def test_index_tokens_gaf_and_che_in_one_token():
    tokens = index_tokens("چگم")
    assert {"كقم", "ككم", "جقم", "جكم"} <= tokens
    assert "چگم" in tokens


def test_index_tokens_query_with_folded_letter_finds_gaf():
    assert set(search_tokens("قاطع")) <= index_tokens("گاطع")


def test_index_tokens_none_and_empty():
    assert index_tokens() == set()
    assert index_tokens(None, "", "   ") == set()
    assert index_tokens(None, "علي") == {"علي"}
