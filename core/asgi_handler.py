"""Django's ASGI handler, with the whole middleware chain and the view run in one thread hop.

Django's own `ASGIHandler` builds the middleware chain in async mode: each sync-only middleware
gets its inner handler adapted, so a chain that mixes async-capable middleware (Django's, most
third-party ones) with sync-only ones (ours) hops between the event loop and the request's thread
several times per request — into the thread for the chain, back to the loop at its end
(`async_to_sync`), into the thread again for each `process_view` (CSRF, the write transaction)
and once more for the view. Every hop is a future, a lock handshake and a context copy: measured
with py-spy under bench/bookings.py, about a tenth of a served request's CPU.

Every HTTP view of this project is synchronous, so this handler loads the chain in sync mode
— exactly the chain Django's test client and a WSGI server run — and calls it with one
`sync_to_async` per request. The request's thread is the same one as before (thread-sensitive,
one per request through `ThreadSensitiveContext`), so the database connection, the
`request_started` / `request_finished` receivers and the pool's hand-back are unchanged. An
async view would still work (Django adapts it with `async_to_sync`), only with its own hops.

`handle` goes further than the chain: Django's own sends `request_started` to its (sync)
receivers in a hop of its own, then the chain, then closes the response — which sends
`request_finished` — in a third hop after the response went out, and races each request
against a task listening for the client's disconnect (which can only cancel an async view).
Here the signal, the chain and, for an ordinary (not streaming) response, the close all run in
the one hop: the request's database connection goes back to the pool before the answer is
written to the socket instead of after. A streaming response is closed after its last chunk,
as Django does, since its iterator may still need the request's thread and connection.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix

# Idle request threads kept for reuse; past this many (a burst above the admission bound: the
# health check and the other unqueued paths), the extra ones are shut down.
IDLE_THREADS_KEPT = 64


class OneHopASGIHandler(ASGIHandler):
    def __init__(self):
        super().__init__()
        self._idle_executors: list[ThreadPoolExecutor] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)  # Django's own refusal
        executor = (
            self._idle_executors.pop()
            if self._idle_executors
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")
        )
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            if len(self._idle_executors) < IDLE_THREADS_KEPT:
                self._idle_executors.append(executor)
            else:
                executor.shutdown(wait=False)

    def load_middleware(self, is_async=False):
        # ASGIHandler.__init__ asks for the async chain; ours is built like WSGI's.
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while the answer was being written
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def _respond(self, scope, body_file):
        """In the request's thread: `request_started`, the request, and the close of an ordinary response."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size  # the server does the low-level chunking
        if not response.streaming:
            response.close()  # sends request_finished: the connection goes back to the pool now
        return response


def get_asgi_application() -> OneHopASGIHandler:
    """`django.core.asgi.get_asgi_application` with this handler, warmed up (core.warmup)."""
    import django

    django.setup(set_prefix=False)
    handler = OneHopASGIHandler()

    from core import warmup

    warmup.warm()
    warmup.freeze_start_up_objects()
    return handler
