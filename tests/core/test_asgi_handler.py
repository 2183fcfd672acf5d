"""core.asgi_handler: the whole request in one thread hop, the connection handed back before the answer is written."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import SyncToAsync
from django.core import signals

from core.asgi_handler import OneHopASGIHandler
from tests.core import asgi_urls


@pytest.fixture
def handler(settings):
    # No middleware and a URL configuration without database: this is about the handler alone.
    settings.MIDDLEWARE = []
    settings.ROOT_URLCONF = "tests.core.asgi_urls"
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    asgi_urls.EVENTS.clear()

    def started(**kwargs):
        asgi_urls.EVENTS.append(("request_started", threading.get_ident()))

    def finished(**kwargs):
        asgi_urls.EVENTS.append(("request_finished", threading.get_ident()))

    signals.request_started.connect(started, dispatch_uid="test_asgi_handler_started")
    signals.request_finished.connect(finished, dispatch_uid="test_asgi_handler_finished")
    yield OneHopASGIHandler()
    signals.request_started.disconnect(dispatch_uid="test_asgi_handler_started")
    signals.request_finished.disconnect(dispatch_uid="test_asgi_handler_finished")


def serve(handler, path: str) -> tuple[int, bytes]:
    """One GET through the handler; the messages it sends are recorded among the events."""
    sent = []
    received = []

    async def receive():
        # The request once, then nothing until the client goes away (never, here), as a server does.
        if received:
            await asyncio.Event().wait()
        received.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        asgi_urls.EVENTS.append((message["type"], threading.get_ident()))
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": [],
        "server": ("testserver", 80),
    }
    asyncio.run(handler(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def names() -> list[str]:
    return [name for name, _ in asgi_urls.EVENTS]


def request_threads() -> set[int]:
    return {thread for name, thread in asgi_urls.EVENTS if not name.startswith("http.")}


def test_an_ordinary_answer_is_closed_before_it_is_written(handler):
    status, body = serve(handler, "/plain/")
    assert (status, body.decode()) == (200, "你好")
    # request_finished (the pool's hand-back) comes before the first byte goes to the client.
    assert names() == ["request_started", "view", "request_finished", "http.response.start", "http.response.body"]
    assert len(request_threads()) == 1, "the signals and the view run in one thread"


def test_the_whole_request_is_one_thread_hop(handler, monkeypatch):
    hops = []
    original = SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        hops.append(self.func)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    serve(handler, "/plain/")
    assert len(hops) == 1


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
def test_a_streaming_answer_is_closed_after_its_last_chunk(handler):
    status, body = serve(handler, "/streamed/")
    assert (status, body.decode()) == (200, "一二三")
    events = names()
    assert events.index("request_finished") > events.index("chunk 三")
    assert events.index("request_finished") > max(i for i, name in enumerate(events) if name == "http.response.body")
    assert events.count("request_started") == events.count("request_finished") == 1
    assert len(request_threads()) == 1, "the chunks are drawn in the request's thread"


def test_a_failing_view_answers_500_and_still_finishes_the_request(handler):
    status, _body = serve(handler, "/broken/")
    assert status == 500
    assert names().count("request_finished") == 1
