"""SM4/SM3 against the standards' published vectors, and sensitive party data at rest."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.db import connection

from secure import crypto
from secure.masking import mask_id_number, mask_phone

GBT32907_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


pytestmark = pytest.mark.backend  # depends on the database backend: encrypted columns (bytes) and blind indexes

def test_sm4_matches_gbt32907_example_1():
    assert crypto.sm4_ecb_block(GBT32907_KEY, GBT32907_KEY).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_matches_gbt32907_example_2_one_million_rounds():
    enc = Cipher(algorithms.SM4(GBT32907_KEY), modes.ECB()).encryptor()
    block = GBT32907_KEY
    for _ in range(1_000_000):
        block = enc.update(block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm3_matches_gbt32905_examples():
    assert crypto.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert crypto.sm3_hex(b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_encryption_round_trips_and_never_repeats_a_ciphertext():
    a, b = crypto.encrypt("110105194912310021"), crypto.encrypt("110105194912310021")
    assert a != b and a.startswith("sm4gcm1:")
    assert crypto.decrypt(a) == crypto.decrypt(b) == "110105194912310021"


def test_tampered_or_foreign_ciphertext_is_refused():
    token = crypto.encrypt("13800138000")
    raw = bytearray(__import__("base64").b64decode(token[len(crypto.PREFIX):]))
    raw[14] ^= 1
    tampered = crypto.PREFIX + __import__("base64").b64encode(bytes(raw)).decode()
    with pytest.raises(crypto.DecryptionError, match="校验失败"):
        crypto.decrypt(tampered)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, key=bytes(16))


def test_blind_index_is_keyed_and_normalised():
    assert crypto.blind_index("+86 138-0013-8000", "phone") == crypto.blind_index("13800138000", "phone")
    assert crypto.blind_index("11010519491231002x", "id_number") == crypto.blind_index("11010519491231002X", "id_number")
    assert crypto.blind_index("13800138000", "phone") != crypto.sm3_hex(b"13800138000")
    assert crypto.blind_index("", "phone") == ""


def test_masks_follow_the_usual_display_forms():
    assert mask_id_number("330106199001011234") == "3301**********1234"
    assert mask_phone("13812345678") == "138****5678"


def test_party_identity_is_ciphertext_in_the_database(make_case):
    case = make_case(parties=[{"name": "李四", "id_number": "11010519491231002X", "phone": "13912345678"}])
    party = case.parties.get()
    with connection.cursor() as cur:
        cur.execute("SELECT id_number, phone, id_number_bidx FROM cases_party WHERE id = %s", [party.pk])
        id_col, phone_col, bidx = cur.fetchone()
    assert "11010519491231002X" not in id_col and id_col.startswith("sm4gcm1:")
    assert "13912345678" not in phone_col
    assert bidx == crypto.blind_index("11010519491231002X", "id_number")
    party.refresh_from_db()
    assert party.id_number == "11010519491231002X"


def test_missing_key_gives_a_clear_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SM4_KEY = "short"
    crypto._keys.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="SM4_KEY"):
            crypto.encrypt("x")
    finally:
        crypto._keys.cache_clear()
