"""What a masked value may show (secure.masking): the usual ends of an 18-digit ID and an
11-digit mobile, less of anything shorter or odd, and nothing at all of a sensitive value
without a masker of its own (the fallback every sensitive runtime field goes through)."""
from __future__ import annotations

import pytest

from secure.masking import mask, mask_id_number, mask_phone


@pytest.mark.parametrize("value, shown", [
    ("330106199001011234", "3301**********1234"),   # 18 digits: first 4, last 4
    ("11010519491231002X", "1101**********002X"),
    ("330106900101123", "330*********123"),          # 15-digit old ID: the birth date (900101) hidden
    ("E12345678", "E1*****78"),                      # 9 characters (a passport): 5 of them hidden
    ("12345678", "12****78"),                        # 8 characters: half hidden
    ("A1234", "A***4"),
    ("123", "***"),                                  # too short to show any end
])
def test_id_numbers_keep_at_most_a_quarter_at_each_end(value, shown):
    assert mask_id_number(value) == mask(value, "id_number") == shown
    assert shown.count("*") * 2 >= len(value)


@pytest.mark.parametrize("value, shown", [
    ("13812345678", "138****5678"),                  # mobile
    ("12345678", "****5678"),                        # 8-digit local number: only the last 4
    ("1234567", "1******"),                          # shorter than a local number: the first only
    ("0571-12345678", "057******5678"),              # landline with area code
    ("057112345678", "057*****5678"),                # 12 digits
    ("8613812345678", "861******5678"),              # 13 digits: odd length, 6 hidden
    ("+86 138 1234 5678", "+86**********5678"),
    ("139123", "1*****"),
    ("12", "**"),
])
def test_phones_always_hide_at_least_four_characters(value, shown):
    assert mask_phone(value) == mask(value, "phone") == shown
    assert shown.count("*") >= min(4, len(value) - 1)


@pytest.mark.parametrize("kind", ["id_number", "phone", "bank_account", "text", ""])
@pytest.mark.parametrize("empty", ["", None])
def test_empty_values_mask_to_nothing(kind, empty):
    assert mask(empty, kind) == ""


@pytest.mark.parametrize("kind", ["bank_account", "text", "address", "unknown-kind", ""])
@pytest.mark.parametrize("value", ["6222021234567890123", "浙江省示范区解放路1号", "X"])
def test_a_kind_without_its_own_mask_shows_nothing_of_the_value(kind, value):
    """The fallback for sensitive runtime fields (a bank account marked 敏感): never the value,
    never a part of it, not even its length."""
    assert mask(value, kind) == "***"


def test_numbers_stored_as_numbers_are_masked_like_text():
    assert mask(13812345678, "phone") == "138****5678"
    assert mask(6222021234567890123, "bank_account") == "***"
