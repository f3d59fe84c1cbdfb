"""SM4 (GB/T 32907) field encryption and keyed SM3 (GB/T 32905) blind indexes.

Ciphertext format: ``sm4gcm1:`` + base64(nonce[12] | ciphertext | tag[16]). GCM gives
confidentiality and integrity in one pass; the version prefix lets keys or modes rotate later.
The blind index is HMAC-SM3 over a normalised value with a *separate* key, so exact search and
duplicate matching work without decrypting, and the index alone reveals nothing.
"""
from __future__ import annotations

import base64
import functools
import hmac as std_hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "sm4gcm1:"
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(ValueError):
    pass


def _key_from_setting(name: str, length: int) -> bytes:
    raw = getattr(settings, name, "") or ""
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) != length:
        raise ImproperlyConfigured(
            f"环境变量 {name} 必须是 {length * 2} 位十六进制字符串（见 README“配置”）"
        )
    return key


@functools.lru_cache(maxsize=4)
def _keys(sm4_hex: str, bidx_hex: str) -> tuple[bytes, bytes]:
    return _key_from_setting("SM4_KEY", 16), _key_from_setting("BLIND_INDEX_KEY", 32)


def sm4_key() -> bytes:
    return _keys(settings.SM4_KEY, settings.BLIND_INDEX_KEY)[0]


def blind_index_key() -> bytes:
    return _keys(settings.SM4_KEY, settings.BLIND_INDEX_KEY)[1]


def sm4_ecb_block(key: bytes, block: bytes) -> bytes:
    """One raw SM4 block; only for proving the cipher against the standard's test vector."""
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def sm3_hex(data: bytes) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def new_nonce() -> bytes:
    """A fresh random GCM nonce per value (the one seam a known-answer test fixes)."""
    return os.urandom(NONCE_BYTES)


def encrypt(plaintext: str, key: bytes | None = None) -> str:
    key = key or sm4_key()
    nonce = new_nonce()
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    ct = enc.update(plaintext.encode("utf-8")) + enc.finalize()
    return PREFIX + base64.b64encode(nonce + ct + enc.tag).decode("ascii")


def decrypt(token: str, key: bytes | None = None) -> str:
    if not token.startswith(PREFIX):
        raise DecryptionError("不是本系统的密文")
    key = key or sm4_key()
    try:
        blob = base64.b64decode(token[len(PREFIX):], validate=True)
    except ValueError as exc:
        raise DecryptionError("密文格式错误") from exc
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("密文长度错误")
    nonce, ct, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    try:
        return (dec.update(ct) + dec.finalize()).decode("utf-8")
    except InvalidTag as exc:
        raise DecryptionError("密文校验失败（密钥错误或数据被篡改）") from exc


def normalise(value: str, kind: str) -> str:
    """Canonical form before indexing: full-width → half-width, no spaces, ID letters upper,
    phone without +86 / dashes."""
    import unicodedata

    v = unicodedata.normalize("NFKC", value or "").strip().replace(" ", "")
    if kind == "id_number":
        return v.upper()
    if kind == "phone":
        v = v.replace("-", "")
        if v.startswith("+86"):
            v = v[3:]
        elif v.startswith("0086"):
            v = v[4:]
        return v
    return v


def blind_index(value: str, kind: str) -> str:
    """Keyed SM3 (HMAC-SM3) of the normalised value, hex; '' for an empty value."""
    norm = normalise(value, kind)
    if not norm:
        return ""
    h = hmac.HMAC(blind_index_key(), hashes.SM3())
    h.update(kind.encode() + b"\x00" + norm.encode("utf-8"))
    return h.finalize().hex()


def constant_time_equal(a: str, b: str) -> bool:
    return std_hmac.compare_digest(a.encode(), b.encode())
