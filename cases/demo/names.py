"""Name data for synthetic demo cases: Iraqi names in Arabic and how they are spelt in Latin.

Only the Arabic form is official; Latin spellings vary even between one man's documents
(DOMAIN.md section 2). Each name has a common romanisation from which a few transliteration
rules derive the other spellings caseworkers meet (Kadhim / Kazim / Kathim); names the rules
cannot produce (Mohammed / Muhammad / Mohamad / Mohamed) are listed by hand.

Weights are rough relative frequencies for the generation concerned, not statistics. No Arabic
entry may begin with الله/الدين or end with عبد/ابو, and no Latin spelling may end with a lone
Abd/Abdul: the seeder tokenises name parts one at a time, which is only exact when no compound
spans two parts.
"""

from __future__ import annotations

from functools import cache

# Given names of men born 1985-2008, the age group that travelled.
YOUNG_MEN: tuple[tuple[str, int], ...] = (
    ("محمد", 14),
    ("علي", 10),
    ("حسين", 9),
    ("حيدر", 7),
    ("أحمد", 6),
    ("مصطفى", 6),
    ("مرتضى", 5),
    ("كرار", 5),
    ("سجاد", 5),
    ("عباس", 5),
    ("حسن", 5),
    ("منتظر", 4),
    ("أمير", 3),
    ("حسنين", 3),
    ("زيد", 3),
    ("مهدي", 3),
    ("علاء", 3),
    ("ياسر", 2),
    ("عمار", 2),
    ("حمزة", 2),
    ("باقر", 2),
    ("صادق", 2),
    ("جعفر", 2),
    ("رضا", 2),
    ("عقيل", 2),
    ("ضياء", 2),
    ("يوسف", 2),
    ("عبد الله", 2),
    ("مؤمل", 1),
)

# Fathers, grandfathers and great-grandfathers: an older generation with other fashions.
ELDER_MEN: tuple[tuple[str, int], ...] = (
    ("كاظم", 6),
    ("جاسم", 6),
    ("محمد", 6),
    ("علي", 6),
    ("قاسم", 5),
    ("كريم", 5),
    ("حسين", 5),
    ("عبد الأمير", 4),
    ("عبد الحسين", 4),
    ("فاضل", 4),
    ("جبار", 4),
    ("هادي", 4),
    ("صالح", 4),
    ("محسن", 4),
    ("حميد", 4),
    ("رحيم", 4),
    ("حسن", 4),
    ("عباس", 4),
    ("عبد الزهرة", 3),
    ("عبد الكريم", 3),
    ("ستار", 3),
    ("نجم", 3),
    ("عدنان", 3),
    ("سعد", 3),
    ("فلاح", 3),
    ("مجيد", 3),
    ("خضير", 3),
    ("ناصر", 3),
    ("جواد", 3),
    ("شاكر", 3),
    ("طالب", 3),
    ("راضي", 3),
    ("مهدي", 3),
    ("عبد الرضا", 2),
    ("عبد الرزاق", 2),
    ("عودة", 2),
    ("عبيد", 2),
    ("نعمة", 2),
    ("ياسين", 2),
    ("خليل", 2),
    ("إبراهيم", 2),
    ("جعفر", 2),
    ("صادق", 2),
    # Iraqi گ and چ: other writers use ق/ك and ك/ج, which the search index must bridge.
    ("گاطع", 1),
    ("چاسب", 1),
)

# Women missing themselves are rare; these are young women's names.
YOUNG_WOMEN: tuple[tuple[str, int], ...] = (
    ("زهراء", 5),
    ("زينب", 5),
    ("فاطمة", 5),
    ("مريم", 4),
    ("نرجس", 2),
    ("كوثر", 2),
    ("نور", 3),
    ("رقية", 2),
    ("هدى", 2),
    ("سكينة", 2),
    ("بنين", 2),
)

# Mothers and wives: the first part of «اسم الأم الثلاثي» and of a wife's name.
MOTHERS: tuple[tuple[str, int], ...] = (
    ("فاطمة", 8),
    ("زينب", 7),
    ("سكينة", 4),
    ("زهراء", 4),
    ("مريم", 3),
    ("نرجس", 2),
    ("كوثر", 2),
    ("خديجة", 3),
    ("حليمة", 2),
    ("صبيحة", 2),
    ("عالية", 2),
    ("بدرية", 2),
    ("رسمية", 2),
    ("فضيلة", 2),
    ("زكية", 2),
    ("نعيمة", 2),
    ("أمل", 2),
    ("سعاد", 2),
    ("وداد", 2),
    ("هدى", 2),
    ("أم البنين", 1),
)

# Family or tribal names, often missing from documents.
LAQABS: tuple[tuple[str, int], ...] = (
    ("الجبوري", 6),
    ("الخفاجي", 5),
    ("الجنابي", 5),
    ("العبيدي", 4),
    ("الشمري", 4),
    ("الموسوي", 5),
    ("الحسيني", 4),
    ("الزبيدي", 4),
    ("الكعبي", 3),
    ("المسعودي", 3),
    ("الربيعي", 3),
    ("التميمي", 3),
    ("الساعدي", 3),
    ("الدليمي", 2),
    ("العامري", 2),
    ("الكناني", 2),
    ("الفتلاوي", 3),
    ("الياسري", 2),
    ("الطائي", 2),
    ("الخزعلي", 2),
    ("الأسدي", 2),
    ("المالكي", 2),
    ("الحلي", 2),
    ("السوداني", 2),
    ("الإبراهيمي", 1),
    ("الگرعاوي", 1),
    ("العگيلي", 1),
)

# The most common romanisation; laqabs without the article, which the seeder adds.
ROMANISATION: dict[str, str] = {
    "علي": "Ali",
    "حسين": "Hussein",
    "حيدر": "Haider",
    "مرتضى": "Murtadha",
    "كرار": "Karrar",
    "عباس": "Abbas",
    "حسن": "Hassan",
    "منتظر": "Muntadhar",
    "أمير": "Ameer",
    "حسنين": "Hassanain",
    "زيد": "Zaid",
    "علاء": "Alaa",
    "عمار": "Ammar",
    "باقر": "Baqir",
    "صادق": "Sadiq",
    "عقيل": "Aqeel",
    "كاظم": "Kadhim",
    "قاسم": "Qasim",
    "كريم": "Kareem",
    "فاضل": "Fadhil",
    "جبار": "Jabbar",
    "هادي": "Hadi",
    "حميد": "Hameed",
    "رحيم": "Raheem",
    "ستار": "Sattar",
    "عدنان": "Adnan",
    "فلاح": "Falah",
    "مجيد": "Majeed",
    "خضير": "Khudhair",
    "شاكر": "Shakir",
    "طالب": "Talib",
    "راضي": "Radhi",
    "عبيد": "Obaid",
    "ياسين": "Yaseen",
    "خليل": "Khaleel",
    "إبراهيم": "Ibraheem",
    "زهراء": "Zahraa",
    "بنين": "Baneen",
    "الجبوري": "Jubouri",
    "الخفاجي": "Khafaji",
    "الجنابي": "Janabi",
    "الشمري": "Shammari",
    "الموسوي": "Mousawi",
    "الحسيني": "Husseini",
    "الزبيدي": "Zubaidi",
    "التميمي": "Tamimi",
    "الساعدي": "Saadi",
    "الدليمي": "Dulaimi",
    "العامري": "Amiri",
    "الكناني": "Kinani",
    "الفتلاوي": "Fatlawi",
    "الياسري": "Yasiri",
    "الخزعلي": "Khazali",
    "الأسدي": "Asadi",
    "المالكي": "Maliki",
    "الحلي": "Hilli",
    "السوداني": "Sudani",
    "الإبراهيمي": "Ibrahimi",
}

# Spellings the rules cannot derive, most frequent first.
IRREGULAR_SPELLINGS: dict[str, tuple[str, ...]] = {
    "محمد": ("Mohammed", "Muhammad", "Mohamad", "Mohamed", "Mohammad"),
    "أحمد": ("Ahmed", "Ahmad"),
    "مصطفى": ("Mustafa", "Mostafa", "Mustapha"),
    "سجاد": ("Sajjad", "Sajad"),
    "مهدي": ("Mahdi", "Mehdi"),
    "ياسر": ("Yasir", "Yasser", "Yaser"),
    "حمزة": ("Hamza", "Hamzah"),
    "جعفر": ("Jaafar", "Jafar", "Ja'far"),
    "رضا": ("Ridha", "Rida", "Reda"),
    "ضياء": ("Dhiaa", "Diyaa", "Dhia", "Zia"),
    "يوسف": ("Yousif", "Yusuf", "Yousef"),
    "عبد الله": ("Abdullah", "Abdallah", "Abd Allah"),
    "مؤمل": ("Muammal", "Moamel", "Mu'amal"),
    "جاسم": ("Jasim", "Jassim", "Jasem"),
    "عبد الأمير": ("Abdul Ameer", "Abdulameer", "Abd al-Amir", "Abdulamir"),
    "عبد الحسين": ("Abdul Hussein", "Abdulhussein", "Abd al-Husain"),
    "عبد الزهرة": ("Abdul Zahra", "Abdulzahra", "Abd al-Zahra"),
    "عبد الكريم": ("Abdul Kareem", "Abdulkarim", "Abd al-Karim"),
    "عبد الرضا": ("Abdul Ridha", "Abdulridha", "Abd al-Rida"),
    "عبد الرزاق": ("Abdul Razzaq", "Abdulrazaq", "Abd al-Razzaq"),
    "صالح": ("Salih", "Saleh"),
    "محسن": ("Muhsin", "Mohsen", "Mohsin"),
    "نجم": ("Najm", "Najim"),
    "سعد": ("Saad", "Sa'ad"),
    "ناصر": ("Nasir", "Nasser", "Naser"),
    "جواد": ("Jawad", "Jawwad"),
    "عودة": ("Odeh", "Ouda", "Awda"),
    "نعمة": ("Nima", "Neama", "Ni'ma"),
    "گاطع": ("Gatie", "Qati", "Gati"),
    "چاسب": ("Chasib", "Jasib"),
    "فاطمة": ("Fatima", "Fatimah", "Fatema"),
    "زينب": ("Zainab", "Zaynab", "Zeinab"),
    "مريم": ("Maryam", "Mariam"),
    "نرجس": ("Narjis", "Narges"),
    "كوثر": ("Kawthar", "Kauthar", "Kawther"),
    "نور": ("Noor", "Nour", "Nur"),
    "رقية": ("Ruqaya", "Ruqayya", "Rukaya"),
    "هدى": ("Huda", "Hoda"),
    "سكينة": ("Sakina", "Sukaina", "Sakeena"),
    "العبيدي": ("Obaidi", "Ubaidi", "Obaydi"),
    "الكعبي": ("Kaabi", "Ka'bi"),
    "المسعودي": ("Masoudi", "Mas'udi", "Masudi"),
    "الربيعي": ("Rubaie", "Rubaiy", "Rubai"),
    "الطائي": ("Taie", "Tai", "Ta'i"),
    "الگرعاوي": ("Garaawi", "Qaraawi", "Karawi"),
    "العگيلي": ("Ogaili", "Aqili", "Uqaili"),
}

# How the same Arabic letters come out in different hands, applied in turn to the common
# romanisation. The first alternative is the pattern itself so the common form stays first.
SPELLING_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dh", ("dh", "z", "th")),  # ظ / ذ / ض: Kadhim, Kazim, Kathim
    ("q", ("q", "k", "g")),  # ق, said g in the south: Qasim, Kasim, Gasim
    ("ei", ("ei", "ai")),  # Hussein, Hussain
    ("ai", ("ai", "ay")),  # Haider, Hayder
    ("ss", ("ss", "s")),  # Hussein, Husein
    ("ee", ("ee", "i")),  # long i: Kareem, Karim
    ("ou", ("ou", "u")),  # long u: Jubouri, Juburi
    ("aa", ("aa", "a")),  # long a: Zahraa, Zahra
)
MAX_SPELLINGS = 4

# Russian records spell names in Cyrillic; only the commonest names are listed.
CYRILLIC: dict[str, str] = {
    "محمد": "Мохаммед",
    "علي": "Али",
    "حسين": "Хусейн",
    "حيدر": "Хайдер",
    "أحمد": "Ахмед",
    "مصطفى": "Мустафа",
    "عباس": "Аббас",
    "حسن": "Хасан",
    "كرار": "Каррар",
    "سجاد": "Саджад",
    "كاظم": "Казим",
    "قاسم": "Касим",
    "جاسم": "Джасим",
    "كريم": "Карим",
    "هادي": "Хади",
}

# Pet forms families use for a son (aliases).
NICKNAMES: dict[str, str] = {
    "محمد": "حمودي",
    "حسين": "حسوني",
    "علي": "علاوي",
    "عباس": "عبوسي",
    "حيدر": "حيدوري",
    "جعفر": "جعفوري",
}


def _capitalised(text: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in text.split(" "))


@cache
def latin_spellings(arabic: str) -> tuple[str, ...]:
    """Latin spellings of one Arabic name (or laqab without article), commonest first."""
    if arabic in IRREGULAR_SPELLINGS:
        return IRREGULAR_SPELLINGS[arabic]
    variants = [ROMANISATION[arabic].lower()]
    for pattern, alternatives in SPELLING_RULES:
        variants = [
            v.replace(pattern, alt) if pattern in v else v for v in variants for alt in alternatives
        ]
        # A rule that does not apply yields copies; keep first occurrences, in order.
        variants = list(dict.fromkeys(variants))
    return tuple(_capitalised(v) for v in variants[:MAX_SPELLINGS])
