"""SMS parts as the gateway bills them: GSM 03.38 septets (extension characters two each),
160 alone or 153 per part; UCS-2 code units (characters outside the BMP two each), 70 alone or
67 per part; a character never split across two parts."""

from __future__ import annotations

import pytest

from airflow_provider_cascade.gateway._sms import GSM_BASIC, GSM_EXTENSION, sms_parts

A, YA, EURO, SMILE = "a", "я", "€", "😀"

TABLE = [
    # text, placeholders, encoding, units, parts
    ("", False, "gsm7", 0, 1),
    ("Hello", False, "gsm7", 5, 1),
    (A * 160, False, "gsm7", 160, 1),
    (A * 161, False, "gsm7", 161, 2),
    (A * 306, False, "gsm7", 306, 2),
    (A * 307, False, "gsm7", 307, 3),
    (A * 459, False, "gsm7", 459, 3),
    (A * 460, False, "gsm7", 460, 4),
    (EURO * 80, False, "gsm7", 160, 1),
    (EURO * 81, False, "gsm7", 162, 2),
    (A * 158 + EURO, False, "gsm7", 160, 1),
    (A * 159 + EURO, False, "gsm7", 161, 2),
    (A * 152 + EURO + A * 152, False, "gsm7", 306, 3),  # the € does not fit part 1's last septet
    ("Price: 5€ [sale]", False, "gsm7", 19, 1),
    ("{}|\\~^\f", False, "gsm7", 14, 1),
    ("Grüße, Café, Ñoño", False, "gsm7", 17, 1),
    ("Ñandú", False, "ucs2", 5, 1),  # ú is not GSM (ù is)
    ("line1\nline2\r", False, "gsm7", 12, 1),
    (YA * 70, False, "ucs2", 70, 1),
    (YA * 71, False, "ucs2", 71, 2),
    (YA * 134, False, "ucs2", 134, 2),
    (YA * 135, False, "ucs2", 135, 3),
    ("Привет", False, "ucs2", 6, 1),
    (A * 69 + YA, False, "ucs2", 70, 1),
    (A * 70 + YA, False, "ucs2", 71, 2),
    ("€ and я", False, "ucs2", 7, 1),  # in UCS-2 the € is one unit like any other
    (SMILE, False, "ucs2", 2, 1),
    (SMILE * 35, False, "ucs2", 70, 1),
    (SMILE * 36, False, "ucs2", 72, 2),
    (A * 66 + SMILE + A * 66, False, "ucs2", 134, 3),  # the emoji's two units move whole
    ("naïve", False, "ucs2", 5, 1),  # ï is not in the GSM alphabet
    ("`quoted`", False, "ucs2", 8, 1),  # nor is the backtick
    ("tab\there", False, "ucs2", 8, 1),
    ("Hello #name#!", False, "gsm7", 13, 1),  # a phone campaign sends the text as written
    ("Hello #name#!", True, "ucs2", 27, 1),  # a base's names may be in any alphabet: 20 wide
    (A * 50 + "#name#", True, "ucs2", 70, 1),
    (A * 51 + "#name#", True, "ucs2", 71, 2),
    ("Your code #number#", True, "gsm7", 25, 1),  # a phone of up to 15 digits
    (A * 146 + "#number#", True, "gsm7", 161, 2),
]


@pytest.mark.parametrize(
    ("text", "placeholders", "encoding", "units", "parts"),
    TABLE,
    ids=[f"{i}:{t[:12]!r}" for i, (t, *_) in enumerate(TABLE)],
)
def test_parts_of_texts(
    text: str, placeholders: bool, encoding: str, units: int, parts: int
) -> None:
    got = sms_parts(text, placeholders=placeholders)
    assert (got.encoding, got.units, got.parts) == (encoding, units, parts)


def test_the_table_covers_at_least_thirty_texts() -> None:
    assert len(TABLE) >= 30


def test_gsm_alphabet_is_complete() -> None:
    """127 characters of the basic table (128 less the escape) and 10 extension ones."""
    assert len(set(GSM_BASIC)) == len(GSM_BASIC) == 127
    assert len(set(GSM_EXTENSION)) == 10 and not set(GSM_BASIC) & set(GSM_EXTENSION)
    assert sms_parts(GSM_BASIC).encoding == "gsm7"
    assert sms_parts(GSM_BASIC + GSM_EXTENSION).units == 127 + 20
