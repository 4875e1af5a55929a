from cases import places


def test_eighteen_governorates_and_101_districts():
    assert len(places.governorates()) == 18
    assert len(places.districts()) == 101
    assert sum(len(places.districts(g.pcode)) for g in places.governorates()) == 101


def test_every_district_belongs_to_a_known_governorate():
    codes = {g.pcode for g in places.governorates()}
    assert all(d.parent in codes for d in places.districts())
    assert all(d.pcode.startswith(d.parent + "Q") for d in places.districts())


def test_al_musayyib_is_in_babil():
    district = places.district("IQG07Q04")
    assert district is not None
    assert district.name_ar == "المسيب"
    assert district.name_en == "Al-Mussyab"
    assert district.parent == "IQG07"
    assert district in places.districts("IQG07")
    assert places.governorate("IQG07").name_en == "Babil"


def test_place_name_follows_the_reader_language():
    assert places.place_name("IQG07Q04", "ar") == "المسيب"
    assert places.place_name("IQG07Q04", "en") == "Al-Mussyab"
    assert places.place_name("IQG07", "ar") == "بابل"
    assert places.place_name("IQG07", "en") == "Babil"
    assert places.place_name("IQG07", "ckb") == "بابل"  # no Kurdish names: Arabic script


def test_place_name_of_unknown_code_is_empty():
    assert places.place_name("XX", "en") == ""
    assert places.place_name(None, "ar") == ""
    assert places.district("IQG07") is None
    assert places.governorate("IQG07Q04") is None


def test_baladruz_arabic_name_is_corrected():
    # The 2019 layer gives the district the name of its sub-district Mandali.
    assert places.place_name("IQG10Q03", "ar") == "بلدروز"
    assert places.place_name("IQG10Q03", "en") == "Baladruz"
