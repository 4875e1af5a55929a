import pytest

from cases.phones import PhoneError, display, to_e164


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("07701234567", "+9647701234567"),
        ("0770 123 4567", "+9647701234567"),
        ("0770-123-4567", "+9647701234567"),
        ("  0781 234 5678  ", "+9647812345678"),
        ("٠٧٨١٢٣٤٥٦٧٨", "+9647812345678"),  # Arabic-Indic digits
        ("۰۷۷۰۱۲۳۴۵۶۷", "+9647701234567"),  # Extended (Persian/Kurdish) digits
        ("+964 770 123 4567", "+9647701234567"),
        ("+9647701234567", "+9647701234567"),
        ("009647701234567", "+9647701234567"),
        ("00964 770 123 4567", "+9647701234567"),
        ("+7 912 345-67-89", "+79123456789"),
        ("0079123456789", "+79123456789"),
    ],
)
def test_to_e164_normalises_how_families_write_numbers(raw, e164):
    assert to_e164(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "call his brother",
        "0770abc4567",  # letters must not become keypad digits
        "07x01234567",
        "0770",
        "07701234",
        "+7 912",
        "+96477012345678",  # one digit too many
    ],
)
def test_to_e164_rejects_text_that_is_not_a_callable_number(raw):
    with pytest.raises(PhoneError):
        to_e164(raw)


def test_display_reads_out_in_international_format():
    assert display("+9647701234567") == "+964 770 123 4567"
    assert display("+79123456789") == "+7 912 345-67-89"


def test_display_of_nothing_or_garbage_is_harmless():
    assert display(None) == ""
    assert display("") == ""
    assert display("not a number") == "not a number"
