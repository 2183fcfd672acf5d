"""How a node reaches another: signed HTTP between deployments, loopback inside one.

Both go through the same signing and the same receiving code (`federation.inbox.dispatch`); the
loopback transport only skips the network, entering the national tenant's schema instead.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import requests
from django_tenants.utils import get_tenant_model, schema_context

from . import signing

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30


class TransportError(Exception):
    """The request did not get a usable answer. `retryable` says whether trying later may help."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True, retry_after=None):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass
class Response:
    status: int
    data: dict = field(default_factory=dict)


def _check(status: int, data: dict, retry_after=None) -> Response:
    if status < 300:
        return Response(status, data)
    message = f"HTTP {status}: {data.get('error', '')}".strip()
    # 408/425/429 and 5xx are worth another try; 401 too (a key being rotated or fixed by an
    # operator); other 4xx are the request's own fault and will never succeed.
    retryable = status in (401, 408, 425, 429) or status >= 500
    raise TransportError(message, status=status, retryable=retryable, retry_after=retry_after)


def national_schema() -> str:
    site = get_tenant_model().objects.filter(kind="national").only("schema_name").first()
    if site is None:
        raise TransportError("no national site in this deployment", retryable=True)
    return site.schema_name


class LoopbackTransport:
    def __init__(self, peer):
        self.peer = peer

    def request(self, method: str, path: str, payload: dict | None = None) -> Response:
        from . import inbox

        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        headers = signing.sign(method, path, body, self.peer.key_id, self.peer.secret)
        with schema_context(national_schema()):
            status, data = inbox.dispatch(method, path, headers, body)
        return _check(status, data)


class HttpTransport:
    def __init__(self, peer, session: requests.Session | None = None):
        self.peer = peer
        self.session = session or requests.Session()

    def request(self, method: str, path: str, payload: dict | None = None) -> Response:
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        headers = signing.sign(method, path, body, self.peer.key_id, self.peer.secret)
        headers["Content-Type"] = "application/json"
        url = self.peer.base_url.rstrip("/") + path
        try:
            answer = self.session.request(
                method, url, data=body, headers=headers, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False
            )
        except requests.Timeout:
            raise TransportError(f"timeout: {url}") from None
        except requests.ConnectionError as exc:
            raise TransportError(f"connection failed: {url}: {exc.__class__.__name__}") from None
        try:
            data = answer.json()
        except (ValueError, RecursionError):
            data = {"error": answer.text[:200]}
        if not isinstance(data, dict):
            data = {"error": "answer is not a JSON object"}
        return _check(answer.status_code, data, answer.headers.get("Retry-After"))


def for_peer(peer):
    return LoopbackTransport(peer) if peer.is_loopback else HttpTransport(peer)


def monotonic_ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)
