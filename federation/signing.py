"""Signed requests between nodes (ARCHITECTURE §5).

The signature is HMAC-SHA256, keyed by a shared secret named by a key id, over

    METHOD \\n PATH?QUERY \\n sha256(body) \\n timestamp \\n nonce

so the body cannot be swapped, a request cannot be aimed at another path, and a captured request
cannot be replayed: the timestamp must be within CLOCK_SKEW of the receiver's clock and each nonce
is accepted once per key within that window.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

KEY_ID = "X-Culture-Key-Id"
TIMESTAMP = "X-Culture-Timestamp"
NONCE = "X-Culture-Nonce"
DIGEST = "X-Culture-Content-SHA256"
SIGNATURE = "X-Culture-Signature"
CLOCK_SKEW = timedelta(minutes=5)


class SignatureError(Exception):
    """A request that must be refused; `code` names the reason for the sender's log."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, path: str, digest: str, timestamp: str, nonce: str) -> bytes:
    return "\n".join([method.upper(), path, digest, timestamp, nonce]).encode()


def signature(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(method: str, path: str, body: bytes, key_id: str, secret: str, *, now: float | None = None) -> dict:
    """Headers to send with a request (path includes the query string)."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = secrets.token_hex(16)
    digest = body_digest(body)
    return {
        KEY_ID: key_id,
        TIMESTAMP: timestamp,
        NONCE: nonce,
        DIGEST: digest,
        SIGNATURE: signature(secret, string_to_sign(method, path, digest, timestamp, nonce)),
    }


def verify(method: str, path: str, body: bytes, headers) -> object:
    """Check a request's signature in the current schema; returns the InboundKey that signed it.

    `headers` is any mapping with case-insensitive access for our header names (Django's
    request.headers, or a plain dict from the loopback transport).
    """
    from .models import InboundKey, SeenNonce

    def header(name):
        value = headers.get(name)
        if value is None:
            value = headers.get(name.lower())
        if not value:
            raise SignatureError("missing_header", f"missing header {name}")
        return str(value)

    key_id, timestamp, nonce, digest, given = (header(h) for h in (KEY_ID, TIMESTAMP, NONCE, DIGEST, SIGNATURE))
    key = InboundKey.objects.filter(key_id=key_id).first()
    if key is None:
        raise SignatureError("unknown_key", "unknown key id")
    if not key.usable():
        raise SignatureError("key_expired", "key revoked or expired (rotated)")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise SignatureError("bad_timestamp", "timestamp must be Unix seconds")
    skew = abs(time.time() - int(timestamp))
    if skew > CLOCK_SKEW.total_seconds():
        raise SignatureError("stale_timestamp", "timestamp outside the allowed clock skew")
    if not hmac.compare_digest(digest, body_digest(body)):
        raise SignatureError("bad_digest", "body does not match its digest")
    expected = signature(key.secret, string_to_sign(method, path, digest, timestamp, nonce))
    if not hmac.compare_digest(expected, given):
        raise SignatureError("bad_signature", "signature does not match")
    # The nonce is recorded only for requests that verified, so garbage cannot fill the table.
    cutoff = timezone.now() - 2 * CLOCK_SKEW
    SeenNonce.objects.filter(seen_at__lt=cutoff).delete()
    try:
        with transaction.atomic():
            SeenNonce.objects.create(key_id=key_id, nonce=nonce[:64])
    except IntegrityError:
        raise SignatureError("replayed_nonce", "nonce already used") from None
    return key
