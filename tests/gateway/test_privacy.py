from airflow_provider_cascade.gateway._privacy import mask_phone, mask_phones_in, shown_phone


def test_a_masked_phone_keeps_its_prefix_and_last_four_digits_only():
    assert mask_phone("79001234567") == "79*****4567"


def test_a_short_number_is_masked_whole():
    assert mask_phone("12345") == "*****"


def test_masking_off_shows_the_phone_as_given():
    assert shown_phone("79001234567", False) == "79001234567"
    assert shown_phone("79001234567", True) == "79*****4567"


def test_phones_quoted_in_a_text_are_masked_and_short_numbers_kept():
    text = "79001234567: номер 79001234567 в стоп-листе (код 403, id 1234)"
    assert mask_phones_in(text) == "79*****4567: номер 79*****4567 в стоп-листе (код 403, id 1234)"
    assert mask_phones_in(mask_phones_in(text)) == mask_phones_in(text)
