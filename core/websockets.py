"""Websockets on tenant hosts: Host → tenant in the ASGI scope, and database work inside it.

django-tenants resolves the tenant in Django's HTTP middleware only. A websocket connection
never passes through it, so `TenantWebsocketMiddleware` does the same lookup for the
handshake and puts the tenant in `scope["tenant"]`; an unknown host, the platform host or a
closed site is refused before any consumer runs.

Consumers share one database thread (`database_sync_to_async` is thread-sensitive), so the
schema set for one consumer would be the schema the next one reads: every database call goes
through `in_tenant(scope)`, which enters the consumer's tenant for that call only.
Channel-layer group names start with the tenant's schema (`tenant_group`), so a group of one
tenant can never be joined or addressed from another.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import connection
from django_tenants.utils import get_public_schema_name, tenant_context

MAX_GROUP_NAME = 99  # channels' own limit is 100 characters


def _host_from_scope(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return value.decode("latin-1").split(":")[0].strip().lower().rstrip(".")
    return ""


def _origin_host(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            from urllib.parse import urlsplit

            return (urlsplit(value.decode("latin-1")).hostname or "").lower()
    return None


def _tenant_for_host(hostname: str):
    from django.core.cache import cache

    from core.middleware import _host_key
    from tenants.models import Domain

    connection.set_schema_to_public()
    tenant = cache.get(_host_key(hostname))
    if tenant is None:
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        if domain is None:
            return None
        tenant = domain.tenant
    if tenant.schema_name == get_public_schema_name() or not tenant.is_served or not tenant.is_active:
        return None
    return tenant


class TenantWebsocketMiddleware:
    """ASGI middleware: `scope["tenant"]` from the Host header; anything else is refused."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        hostname = _host_from_scope(scope)
        origin = _origin_host(scope)
        # A page of another site must not open a socket with this site's cookie (cross-site
        # websocket hijacking): a browser always sends Origin, and it must be this very host.
        tenant = None
        if origin is None or origin == hostname:
            tenant = await database_sync_to_async(_tenant_for_host)(hostname)
        if tenant is None:
            # Refuse the handshake: the client sees the connection closed (HTTP 403).
            await receive()
            await send({"type": "websocket.close", "code": 4404})
            return None
        return await self.inner({**scope, "tenant": tenant}, receive, send)


def tenant_group(scope_or_schema, *parts: object) -> str:
    """A channel-layer group name of the scope's tenant: `<schema>.<part>.<part>`."""
    schema = scope_or_schema if isinstance(scope_or_schema, str) else scope_or_schema["tenant"].schema_name
    name = ".".join([schema, *(str(part) for part in parts)])
    if len(name) > MAX_GROUP_NAME:
        raise ValueError(f"group name too long: {name!r}")
    return name


def in_tenant(scope) -> Callable:
    """Decorator: run a sync function in the database thread, inside the scope's tenant.

    @in_tenant(self.scope)
    def load():
        return Page.objects.get(pk=...)
    page = await load()
    """

    def decorate(func: Callable[..., Any]):
        @functools.wraps(func)
        def run(*args, **kwargs):
            with tenant_context(scope["tenant"]):
                return func(*args, **kwargs)

        return database_sync_to_async(run)

    return decorate


def group_event(event_type: str, frame: dict) -> dict:
    """A channel-layer group message carrying `frame` already serialised: a comment reaching
    1,000 viewers is encoded once, where it is sent, not once per recipient (the consumers'
    handlers send `event["text"]` as it is)."""
    return {"type": event_type, "text": json.dumps(frame, ensure_ascii=False)}


class TenantConsumer(AsyncWebsocketConsumer):
    """The base of the tenant sites' websocket consumers.

    channels' `dispatch` hops to the database thread before every message to close stale
    connections — for a group message that is one hop per recipient, all through the single
    shared database thread: 1,000 viewers meant 1,000 hops per comment, the bulk of a
    fan-out's cost (bench/ws_fanout.py). Here every database call already goes through
    `in_tenant` (`database_sync_to_async`), which closes stale connections on both sides of
    the call in the database thread, so messages are dispatched without the extra hop.
    """

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_event_text(self, event: dict) -> None:
        """Send a group message made by `group_event` (or, from an older process during a
        deploy, one carrying the frame unserialised)."""
        text = event.get("text")
        if text is None:
            text = json.dumps(event["frame"], ensure_ascii=False)
        await self.send(text_data=text)
