"""HMAC-SM3 request signing of the platform API (the client side is in the README).

Every request carries four headers::

    X-Api-Key:        the client's key id (AppKey)
    X-Api-Timestamp:  Unix time in seconds; refused when more than MAX_SKEW seconds off
    X-Api-Nonce:      8–64 characters [A-Za-z0-9_-], never used twice by one client (replay)
    X-Api-Signature:  hex(HMAC-SM3(secret, string_to_sign))

    string_to_sign = METHOD "\n" PATH "\n" QUERY "\n" TIMESTAMP "\n" NONCE "\n" hex(SM3(body))

QUERY is the decoded query parameters sorted by name (then value) as ``k=v`` joined by ``&``
(empty when none). The secret is derived, never stored: HMAC-SM3(API_CLIENT_SECRET_KEY, key id
and version), so rotating it means bumping the version."""
from __future__ import annotations

import hmac as std_hmac
import re
import time
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives import hashes, hmac
from django.conf import settings
from django.core.cache import cache

from secure.crypto import sm3_hex

MAX_SKEW = 300
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
HEADERS = ("X-Api-Key", "X-Api-Timestamp", "X-Api-Nonce", "X-Api-Signature")


class SignatureError(Exception):
    """Refused; ``str(exc)`` is the Chinese message for the caller."""

    def __init__(self, message: str, status: int = 401):
        super().__init__(message)
        self.status = status


def hmac_sm3_hex(key: bytes, data: bytes) -> str:
    h = hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def master_key() -> bytes:
    raw = getattr(settings, "API_CLIENT_SECRET_KEY", "") or getattr(settings, "AUDIT_HMAC_KEY", "")
    # domain separation: the audit key (fallback) never signs anything of the API directly
    return ("mdtj-api-client-secret:" + raw).encode("utf-8")


def client_secret(key_id: str, version: int) -> str:
    return hmac_sm3_hex(master_key(), f"{key_id}|{version}".encode("utf-8"))


def canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query or "", keep_blank_values=True))
    return "&".join(f"{k}={v}" for k, v in pairs)


def string_to_sign(method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join([method.upper(), path, canonical_query(query), timestamp, nonce, sm3_hex(body or b"")])


def sign(secret: str, method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac_sm3_hex(secret.encode("utf-8"), string_to_sign(method, path, query, timestamp, nonce, body)
                        .encode("utf-8"))


def signed_headers(key_id: str, secret: str, method: str, path: str, query: str = "", body: bytes = b"",
                   now: float | None = None, nonce: str | None = None) -> dict[str, str]:
    """The headers a client sends (used by the tests, the fuzz run and the demo)."""
    import secrets

    ts = str(int(now if now is not None else time.time()))
    nonce = nonce or secrets.token_hex(12)
    return {"X-Api-Key": key_id, "X-Api-Timestamp": ts, "X-Api-Nonce": nonce,
            "X-Api-Signature": sign(secret, method, path, query, ts, nonce, body)}


def verify(request, lookup) -> object:
    """Check the request's signature; ``lookup(key_id)`` returns the client or None. Returns the
    client. Raises SignatureError (401; 403 for a revoked client) — the nonce is spent only by
    a request whose signature is right, so a forger cannot burn a client's nonces."""
    key_id = request.headers.get("X-Api-Key", "")
    ts = request.headers.get("X-Api-Timestamp", "")
    nonce = request.headers.get("X-Api-Nonce", "")
    given = request.headers.get("X-Api-Signature", "")
    if not (key_id and ts and nonce and given):
        raise SignatureError("缺少签名请求头（X-Api-Key、X-Api-Timestamp、X-Api-Nonce、X-Api-Signature）")
    client = lookup(key_id[:64])
    if client is None:
        raise SignatureError("接入编号不存在")
    if not ts.isdigit() or abs(time.time() - int(ts)) > MAX_SKEW:
        raise SignatureError(f"请求时间戳无效或与服务器时间相差超过 {MAX_SKEW} 秒")
    if not NONCE_RE.match(nonce):
        raise SignatureError("X-Api-Nonce 须为 8–64 位字母、数字、下划线或连字符")
    secret = client_secret(client.key_id, client.secret_version)
    expected = sign(secret, request.method, request.path, request.META.get("QUERY_STRING", ""), ts, nonce,
                    request.body)
    if not std_hmac.compare_digest(expected, given.lower()):
        raise SignatureError("签名错误")
    if not client.active:
        raise SignatureError("接入凭证已被吊销", status=403)
    if not cache.add(f"api:nonce:{client.key_id}:{nonce}", 1, MAX_SKEW * 2 + 10):
        raise SignatureError("重复的请求（X-Api-Nonce 已使用过），已拒绝")
    return client
