"""PBKDF2-HMAC-SM3 password hashing (GB/T 32905 SM3 in PBKDF2, RFC 8018).

密评 expects commercial (SM) algorithms for stored credentials: the default hasher derives the
stored hash with SM3 instead of SHA-256. It is first in ``PASSWORD_HASHERS``; Django's
PBKDF2/SHA-256 hasher stays listed after it, so an old hash still verifies and is rewritten
with SM3 at the user's next successful login (Django upgrades when the algorithm differs).

Stored form: ``pbkdf2_sm3$<iterations>$<salt>$<base64 hash>`` (the same layout as Django's).
"""
from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils.crypto import constant_time_compare


def pbkdf2_sm3(password: str, salt: str, iterations: int, length: int = 32) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SM3(), length=length, salt=salt.encode(), iterations=iterations)
    return kdf.derive(password.encode())


class PBKDF2SM3PasswordHasher(PBKDF2PasswordHasher):
    """Django's PBKDF2 hasher with SM3 as the PRF (OpenSSL through ``cryptography``)."""

    algorithm = "pbkdf2_sm3"
    # SM3 runs at about SHA-256's speed in OpenSSL: 600,000 rounds ≈ 0.25 s on one core.
    iterations = 600_000

    def encode(self, password, salt, iterations=None):
        self._check_encode_args(password, salt)
        iterations = iterations or self.iterations
        digest = base64.b64encode(pbkdf2_sm3(password, salt, iterations)).decode("ascii").strip()
        return f"{self.algorithm}${iterations}${salt}${digest}"

    def verify(self, password, encoded):
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"], decoded["iterations"]))


class PasswordHistoryHasher(PBKDF2SM3PasswordHasher):
    """Hashes of previous passwords kept by django-password-validators (last 5 not reused) —
    also SM3, never SHA-256. Its iteration count is stored with each user's history salt."""

    algorithm = "pbkdf2_sm3_history"
    iterations = 200_000


class FastPasswordHistoryHasher(PasswordHistoryHasher):
    """Test runs only (speed): the same code path with few rounds."""

    iterations = 1_000
