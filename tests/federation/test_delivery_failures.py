"""Delivery when the other side misbehaves: 5xx, 429, timeouts, refusals, an open circuit breaker.

The uplink is pointed at a real HTTP server in a thread that answers as each test scripts it.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from federation import services, transport
from federation.models import DeliveryAttempt, OutboxEntry, Peer

from .conftest import national_record, new_resource

pytestmark = pytest.mark.django_db


class ScriptedNode:
    """A stand-in national node: answers the next requests from a script of (status, body, delay)."""

    def __init__(self):
        self.script: list[tuple[int, dict, float, dict]] = []
        self.requests: list[dict] = []
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                node.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, data, delay, headers = node.script.pop(0) if node.script else (500, {}, 0, {})
                if delay:
                    time.sleep(delay)
                if data == "echo-accepted":
                    envelopes = json.loads(body)["envelopes"]
                    data = {
                        "results": [
                            {"uid": e["uid"], "version": e["version"], "outcome": "accepted", "catalogue_id": "urn:x"}
                            for e in envelopes
                        ]
                    }
                payload = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, status, data=None, delay=0.0, headers=None):
        self.script.append((status, data if data is not None else {}, delay, headers or {}))


@pytest.fixture
def node(zhejiang):
    stub = ScriptedNode()
    Peer.objects.filter(is_uplink=True).update(base_url=stub.url)
    yield stub
    stub.server.shutdown()


def _pending(n=1):
    return [new_resource(f"故障测试资源 {i}") for i in range(n)]


def test_server_error_is_retried_later_with_backoff_and_nothing_lost(node):
    node.answer(503, {"error": "maintenance"})
    _pending()
    before = timezone.now()
    counts = services.deliver_pending()
    assert counts == {"delivered": 0, "retry": 1, "dead": 0, "skipped": 0}
    entry = OutboxEntry.objects.get()
    assert entry.state == "pending" and entry.attempts == 1 and "503" in entry.last_error
    # Attempt 1 waits between BACKOFF_BASE/2 and BACKOFF_BASE seconds (full jitter).
    wait = (entry.next_attempt_at - before).total_seconds()
    assert services.BACKOFF_BASE / 2 - 1 <= wait <= services.BACKOFF_BASE + 1
    assert services.deliver_pending()["delivered"] == 0  # not due yet: no request sent
    assert len(node.requests) == 1

    OutboxEntry.objects.update(next_attempt_at=timezone.now())
    node.answer(200, "echo-accepted")
    assert services.deliver_pending()["delivered"] == 1
    assert [a.outcome for a in DeliveryAttempt.objects.order_by("pk")] == ["retry", "accepted"]


def test_backoff_grows_and_is_capped():
    bounds = [services.backoff_delay(n) for n in (1, 2, 3, 4)]
    assert all(
        services.BACKOFF_BASE * 2 ** (n - 1) / 2 <= b <= services.BACKOFF_BASE * 2 ** (n - 1)
        for n, b in zip((1, 2, 3, 4), bounds, strict=True)
    )
    assert services.backoff_delay(40) <= services.BACKOFF_CAP


def test_429_honours_retry_after(node):
    node.answer(429, {"error": "slow down"}, headers={"Retry-After": "120"})
    _pending()
    before = timezone.now()
    services.deliver_pending()
    entry = OutboxEntry.objects.get()
    assert entry.state == "pending"
    assert 119 <= (entry.next_attempt_at - before).total_seconds() <= 122


def test_timeout_is_retried(node, monkeypatch):
    monkeypatch.setattr(transport, "READ_TIMEOUT", 0.5)
    node.answer(200, "echo-accepted", delay=2)
    _pending()
    counts = services.deliver_pending()
    assert counts["retry"] == 1
    assert "timeout" in OutboxEntry.objects.get().last_error


def test_permanent_refusal_goes_to_dead_letters_and_can_be_retried(node):
    node.answer(400, {"error": "envelopes: a list is required"})
    _pending()
    assert services.deliver_pending()["dead"] == 1
    entry = OutboxEntry.objects.get()
    assert entry.state == "dead" and "400" in entry.last_error
    assert services.retry_dead_letters() == 1
    node.answer(200, "echo-accepted")
    assert services.deliver_pending()["delivered"] == 1


def test_item_rejected_by_the_receiver_is_a_dead_letter_while_the_rest_land(node):
    pages = _pending(2)
    node.answer(
        200,
        {
            "results": [
                {"uid": str(pages[0].uid), "version": 1, "outcome": "accepted", "catalogue_id": "urn:a"},
                {"uid": str(pages[1].uid), "version": 1, "outcome": "rejected", "message": "kind: unknown"},
            ]
        },
    )
    counts = services.deliver_pending()
    assert (counts["delivered"], counts["dead"]) == (1, 1)
    dead = OutboxEntry.objects.get(state="dead")
    assert dead.record.uid == pages[1].uid and dead.last_error == "kind: unknown"


def test_circuit_breaker_opens_after_repeated_failures_and_closes_after_success(node):
    _pending()
    for _ in range(services.BREAKER_THRESHOLD):
        node.answer(502)
        OutboxEntry.objects.update(next_attempt_at=timezone.now())
        services.deliver_pending()
    peer = Peer.objects.get(is_uplink=True)
    assert peer.consecutive_failures == services.BREAKER_THRESHOLD and peer.open_until > timezone.now()
    sent = len(node.requests)
    OutboxEntry.objects.update(next_attempt_at=timezone.now())
    assert services.deliver_pending()["skipped"] == 1
    assert len(node.requests) == sent  # the open breaker sends nothing

    Peer.objects.filter(pk=peer.pk).update(open_until=timezone.now() - timedelta(seconds=1))
    node.answer(200, "echo-accepted")
    assert services.deliver_pending()["delivered"] == 1
    peer.refresh_from_db()
    assert peer.consecutive_failures == 0 and peer.open_until is None


def test_gives_up_after_max_attempts(node):
    _pending()
    OutboxEntry.objects.update(attempts=services.MAX_ATTEMPTS - 1)
    node.answer(500)
    assert services.deliver_pending()["dead"] == 1


def test_requests_are_signed_and_nothing_reaches_the_local_national_site(node):
    page = _pending()[0]
    node.answer(200, "echo-accepted")
    services.deliver_pending()
    headers = {k.lower(): v for k, v in node.requests[0]["headers"].items()}
    assert headers["x-culture-key-id"] == Peer.objects.get().key_id
    assert len(headers["x-culture-signature"]) == 64
    assert national_record(page.uid) is None  # it went to the stub, not through loopback
