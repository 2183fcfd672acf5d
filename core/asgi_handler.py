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
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler

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


def get_asgi_application() -> OneHopASGIHandler:
    """`django.core.asgi.get_asgi_application` with this handler."""
    import django

    django.setup(set_prefix=False)
    return OneHopASGIHandler()
