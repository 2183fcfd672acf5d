"""Many signed-in people booking at once over HTTP against live daphne servers (tests and bench/bookings.py).

Django's ASGI handler runs each request's sync view in a thread of its own (one
ThreadSensitiveContext per request), so requests to one daphne process do race. The clients are
capped (`threads`) so the run measures the booking code, not the front door's queue (decision 0010).
"""

from __future__ import annotations

import http.client
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.live_server import running_server

HOST = "zhejiang.culture.localhost"
SCHEMA = "zhejiang"
CSRF = "b" * 32  # any 32-character secret works when the cookie and the form field agree
PREFIX = "livebook_"


@dataclass
class Outcome:
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def count(self, status: int) -> int:
        return sum(1 for s in self.statuses if s == status)

    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[int(len(ordered) * 0.95) - 1] if ordered else 0.0


@contextmanager
def servers(db_name: str, count: int, env: dict[str, str], label: str):
    with ExitStack() as stack:
        yield [stack.enter_context(running_server(db_name, env=env, label=f"{label}-{i}")) for i in range(count)]


def make_people(count: int, tag: str) -> list[tuple[int, str]]:
    """`count` accounts with real-name data, each with a signed-in session: [(user id, session key)]."""
    from accounts.services import ensure_account, set_personal_data
    from tests.bookings.factories import id_number

    people = []
    for index in range(count):
        user = ensure_account(f"{PREFIX}{tag}_{index}", "unused-password-1")
        if not user.id_number:
            set_personal_data(
                user, real_name="测试用户", id_number=id_number(5_000_000 + 1000 * (sum(map(ord, tag)) % 997) + index)
            )
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store["_auth_user_backend"] = "accounts.backends.AccountBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        people.append((user.pk, store.session_key))
    return people


def make_session(capacity: int, *, schema: str = SCHEMA, **fields) -> int:
    from tests.bookings.factories import session

    with schema_context(schema):
        return session(capacity=capacity, per_person_limit=1, **fields).pk


def fire(live_servers, people, path, form: dict, *, threads: int = 40, host: str = HOST) -> Outcome:
    """POST `form` to `path` once per person, all at once, spread over the servers.

    `path` and the form's values may be callables of the person's index (each their own session...).
    Each client thread keeps its HTTP connection open between requests (as a browser does), and
    the requests are sent with http.client: the clients share the machine with the server, so
    they should cost it as little as possible (no connection set-up per request, no requests
    library on the hot path)."""
    outcome = Outcome()
    local = threading.local()

    def connection_to(server) -> http.client.HTTPConnection:
        connections = local.__dict__.setdefault("connections", {})
        if server.port not in connections:
            connections[server.port] = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        return connections[server.port]

    def one(index_person):
        index, (_user_id, session_key) = index_person
        server = live_servers[index % len(live_servers)]
        data = {"csrfmiddlewaretoken": CSRF, **{k: (v(index) if callable(v) else v) for k, v in form.items()}}
        body = urlencode(data).encode()
        headers = {
            **server.headers(host),
            "Cookie": f"sessionid={session_key}; csrftoken={CSRF}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        url = path(index) if callable(path) else path
        started = time.perf_counter()
        for attempt in (1, 2):  # a kept-alive connection the server has closed meanwhile: once more
            conn = connection_to(server)
            try:
                conn.request("POST", url, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                if attempt == 2:
                    raise
        return response.status, time.perf_counter() - started, response.getheader("Location", "")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for status, latency, location in pool.map(one, enumerate(people)):
            outcome.statuses.append(status)
            outcome.latencies.append(latency)
            outcome.locations.append(location)
    outcome.elapsed = time.perf_counter() - started
    for conn in getattr(local, "connections", {}).values():
        conn.close()
    return outcome


def seats_held(session_id: int, schema: str = SCHEMA) -> int:
    from bookings import services
    from bookings.models import Session

    with schema_context(schema):
        return services.seats_taken(Session.objects.get(pk=session_id))


def tomorrow_slot(room_id: int, hour: int = 10, schema: str = SCHEMA):
    from datetime import datetime, time

    from bookings.models import RoomSettings

    with schema_context(schema):
        settings, _ = RoomSettings.objects.update_or_create(
            room_id=room_id, defaults={"bookable": True, "closed_weekdays": "", "closed_dates": ""}
        )
    day = timezone.localdate() + timedelta(days=2)
    return timezone.make_aware(datetime.combine(day, time(hour, 0))).isoformat()


def first_room_id(schema: str = SCHEMA) -> int:
    from cms_pages.models import VenueRoom

    with schema_context(schema):
        return VenueRoom.objects.filter(page__locale__language_code="zh-hans").order_by("pk").first().pk


def cleanup(schema: str = SCHEMA) -> None:
    """Remove what the live runs committed (people, their bookings, messages, sessions)."""

    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from accounts.models import AccountSession, User
    from bookings.models import Booking, RoomBooking, Session
    from notifications.models import Notification

    users = list(User.objects.filter(username__startswith=PREFIX).values_list("pk", flat=True))
    with schema_context(schema):  # the users' cascade reaches tenant tables (roles), present here
        session_ids = set(Booking.objects.filter(user_id__in=users).values_list("session_id", flat=True))
        Booking.objects.filter(session_id__in=session_ids).delete()
        Session.objects.filter(pk__in=session_ids).delete()
        # The index updates Wagtail queued for those sessions would now fail in a later test that
        # runs every queued task (tests/core/test_tasks.py): they go too.
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY,
            args_kwargs__args__0="bookings",
            args_kwargs__args__1="session",
            args_kwargs__args__2__in=[str(pk) for pk in session_ids],
        ).delete()
        RoomBooking.objects.filter(user_id__in=users).delete()
        Notification.objects.filter(recipient_id__in=users).delete()
        AccountSession.objects.filter(user_id__in=users).delete()
        User.objects.filter(pk__in=users).delete()  # a queryset delete: test accounts only


def idempotency_key(index: int) -> str:
    return f"live-{index}-{secrets.token_hex(4)}"
