"""The web server's front door: a bounded number of requests inside Django, a queue with a time
limit in front of it, and a Chinese 503 page with Retry-After instead of an error (decision 0010).

`AdmissionControl` wraps the whole ASGI application (after the full-page cache, so cached pages
never wait and keep being served while the database is away):

* at most `DB_POOL_SIZE` HTTP requests run inside Django at once, one database connection each
  (core.database.pool lends them); the others wait here, on the event loop, for at most
  `REQUEST_QUEUE_SECONDS`, then get the "busy" page;
* a request that fails because no connection came free in time, or because PostgreSQL cannot
  be reached (stopped, restarting, dropped the connection), is answered with a 503 page instead
  of Django's 500 (core.database.availability tells which requests); `/healthz` gets JSON;
* nothing is kept between requests: when PostgreSQL is back, the next request simply connects.
"""

from __future__ import annotations

import asyncio
import json
from functools import cache

from django.conf import settings

from core.database import availability
from core.security_headers import headers_for_responses_outside_django

# Probes must see the truth at once, not wait behind a queue of page requests.
UNQUEUED_PATHS = ("/healthz",)


@cache
def _page(problem: str) -> bytes:
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("core/unavailable.html", {"busy": problem == availability.BUSY}).encode()


def _healthz_body(problem: str) -> bytes:
    check = "no connection free in time" if problem == availability.BUSY else "error: database unavailable"
    return json.dumps({"status": "fail", "checks": {"database": check}}).encode()


async def send_unavailable(send, path: str, problem: str) -> None:
    if path.startswith(UNQUEUED_PATHS):
        body, content_type = _healthz_body(problem), b"application/json"
    else:
        body, content_type = _page(problem), b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(settings.RETRY_AFTER_SECONDS).encode()),
                (b"cache-control", b"no-store"),
                *headers_for_responses_outside_django(),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AdmissionControl:
    def __init__(self, application, *, capacity: int | None = None, queue_seconds: float | None = None):
        self.application = application
        self.capacity = capacity or settings.DATABASES["default"].get("POOL_SIZE", 20)
        self.queue_seconds = settings.REQUEST_QUEUE_SECONDS if queue_seconds is None else queue_seconds
        self._slots: asyncio.Semaphore | None = None
        self.waiting = 0
        self.turned_away = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.application(scope, receive, send)
        path = scope.get("path", "")
        if path.startswith(UNQUEUED_PATHS):
            return await self._serve(scope, receive, send)
        if self._slots is None:  # created on the server's event loop
            self._slots = asyncio.Semaphore(self.capacity)
        self.waiting += 1
        try:
            async with asyncio.timeout(self.queue_seconds):
                await self._slots.acquire()
        except TimeoutError:
            self.turned_away += 1
            return await send_unavailable(send, path, availability.BUSY)
        finally:
            self.waiting -= 1
        try:
            await self._serve(scope, receive, send)
        finally:
            self._slots.release()

    async def _serve(self, scope, receive, send):
        state, token = availability.start_request()
        replaced = False

        async def guarded_send(message):
            nonlocal replaced
            if replaced:
                return
            if message["type"] == "http.response.start" and message["status"] == 500 and state.problem:
                replaced = True
                await send_unavailable(send, scope.get("path", ""), state.problem)
                return
            await send(message)

        try:
            await self.application(scope, receive, guarded_send)
        finally:
            availability.end_request(token)
