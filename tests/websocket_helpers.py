"""Helpers for websocket tests: the real ASGI stack (core.asgi) through channels' communicators.

Tests call `run(scenario())` from ordinary (sync) test functions: `async_to_sync` runs the
consumers' database calls in this thread, so they see the test's own (rolled-back) data, and
the channel layer is the real Redis one (core.channel_layer on the embedded Redis).
"""

from __future__ import annotations

import datetime
import json
import uuid

from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

run = async_to_sync

ZHEJIANG = "zhejiang.culture.localhost"
SICHUAN = "sichuan.culture.localhost"


def application():
    from core.asgi import application as app

    return app


# The platform session cookie of each signed-in test user: one cookie serves every tenant host
# under the platform domain. Made before a scenario starts (the ORM is sync-only).
_COOKIES: dict[int, str] = {}


def sign_in(user, host: str = ZHEJIANG) -> str:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    _COOKIES[user.pk] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return _COOKIES[user.pk]


def make_user(name: str | None = None, *, signed_in: bool = True, **fields):
    name = name or f"u{uuid.uuid4().hex[:10]}"
    first_name = fields.pop("first_name", name)
    user = get_user_model().objects.create_user(
        username=name, password="Pass-2026-word", first_name=first_name, **fields
    )
    if signed_in:
        sign_in(user)
    return user


def communicator(path: str, *, host: str = ZHEJIANG, user=None, origin: str | None = "same") -> WebsocketCommunicator:
    headers = [(b"host", host.encode())]
    if origin == "same":
        headers.append((b"origin", f"http://{host}".encode()))
    elif origin:
        headers.append((b"origin", origin.encode()))
    if user is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={_COOKIES[user.pk]}".encode()))
    return WebsocketCommunicator(application(), path, headers=headers)


async def receive(comm: WebsocketCommunicator, timeout: float = 3) -> dict:
    return json.loads(await comm.receive_from(timeout=timeout))


async def receive_type(comm: WebsocketCommunicator, frame_type: str, timeout: float = 3) -> dict:
    """The next frame of this type (viewer counts and the like may come first)."""
    while True:
        frame = await receive(comm, timeout)
        if frame["type"] == frame_type:
            return frame


def publish_under_home(schema: str, page):
    from cms_pages.models import HomePage

    with schema_context(schema):
        home = HomePage.objects.filter(depth=2).first()
        home.add_child(instance=page)
        page.save_revision().publish()
        return page


def hours(n: float):
    return timezone.now() + datetime.timedelta(hours=n)


def keep_test_connection(monkeypatch) -> None:
    """channels closes "old" connections around every database_sync_to_async call; inside a
    test's (rolled-back) transaction Django counts the test's own connection as obsolete and
    would close it. The consumers' queries still run for real, on the test's connection."""
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


def move_page_ids_past(schema: str, other: str = "zhejiang") -> None:
    """Make the next page id of `schema` one that is no page in `other` (forward only: sequences
    ignore rollbacks, so moving one back would hand out ids committed rows already use)."""
    from django.db import connection

    with schema_context(other), connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM wagtailcore_page")
        beyond = cursor.fetchone()[0] + 1000
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('wagtailcore_page', 'id'), "
            "GREATEST(%s, (SELECT last_value FROM wagtailcore_page_id_seq) + 1), false)",
            [beyond],
        )
