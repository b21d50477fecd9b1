from airflow_provider_cascade.gateway._privacy import mask_phone, shown_phone


def test_a_masked_phone_keeps_its_prefix_and_last_four_digits_only():
    assert mask_phone("79001234567") == "79*****4567"


def test_a_short_number_is_masked_whole():
    assert mask_phone("12345") == "*****"


def test_masking_off_shows_the_phone_as_given():
    assert shown_phone("79001234567", False) == "79001234567"
    assert shown_phone("79001234567", True) == "79*****4567"
