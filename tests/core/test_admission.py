"""The web server's front door (core.admission): a queue with a time limit, then a Chinese 503."""

from __future__ import annotations

import asyncio
import json

import pytest

from core.admission import AdmissionControl
from core.database import availability


class SlowDjango:
    """Stands for Django: each request holds its slot until `release` is set."""

    def __init__(self):
        self.release = asyncio.Event()
        self.started = 0

    async def __call__(self, scope, receive, send):
        self.started += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


class FailingDjango:
    """Stands for Django answering 500, after the backend reported `problem` (or nothing)."""

    def __init__(self, problem):
        self.problem = problem

    async def __call__(self, scope, receive, send):
        if self.problem:
            availability.report(self.problem)
        await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"Server Error", "more_body": True})
        await send({"type": "http.response.body", "body": b""})


async def request(app, path="/news/"):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
    await app(scope, receive, send)
    start = sent[0]
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_past_the_bound_requests_queue_then_get_a_chinese_503_with_retry_after(settings):
    settings.RETRY_AFTER_SECONDS = 7

    async def scenario():
        django = SlowDjango()
        app = AdmissionControl(django, capacity=2, queue_seconds=0.3)
        inside = [asyncio.create_task(request(app)) for _ in range(2)]
        await asyncio.sleep(0.05)
        queued = asyncio.create_task(request(app))  # waits: both slots are taken
        await asyncio.sleep(0.1)
        assert django.started == 2 and app.waiting == 1
        status, headers, body = await queued  # no slot within 0.3 s
        django.release.set()
        served = [await task for task in inside]
        after = await request(app)  # slots are given back
        return status, headers, body, served, after, django.started

    status, headers, body, served, after, started = asyncio.run(scenario())
    assert status == 503
    assert headers[b"retry-after"] == b"7"
    assert "访问人数较多" in body.decode()
    assert [s[0] for s in served] == [200, 200] and after[0] == 200
    assert started == 3  # the turned-away request never reached Django


def test_a_queued_request_is_served_when_a_slot_frees_in_time():
    async def scenario():
        django = SlowDjango()
        app = AdmissionControl(django, capacity=1, queue_seconds=5)
        first = asyncio.create_task(request(app))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(request(app))
        await asyncio.sleep(0.1)
        django.release.set()
        return (await first)[0], (await second)[0]

    assert asyncio.run(scenario()) == (200, 200)


@pytest.mark.parametrize(
    ("problem", "text"),
    [(availability.DATABASE_DOWN, "服务暂时不可用"), (availability.BUSY, "访问人数较多")],
)
def test_a_500_caused_by_the_database_becomes_a_503_page(problem, text):
    status, headers, body = asyncio.run(request(AdmissionControl(FailingDjango(problem), capacity=1)))
    assert status == 503 and headers[b"retry-after"]
    assert text in body.decode() and b"Server Error" not in body


def test_healthz_says_the_database_is_down_in_json():
    status, headers, body = asyncio.run(
        request(AdmissionControl(FailingDjango(availability.DATABASE_DOWN), capacity=1), "/healthz")
    )
    assert status == 503 and headers[b"content-type"] == b"application/json"
    assert json.loads(body)["checks"]["database"].startswith("error")


def test_a_500_of_a_bug_stays_a_500():
    """Only database trouble is dressed as "come back later": a real error must stay visible."""
    status, _, body = asyncio.run(request(AdmissionControl(FailingDjango(None), capacity=1)))
    assert (status, body) == (500, b"Server Error")
