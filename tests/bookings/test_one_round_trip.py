"""The booking view's path: outside any transaction, book_seats is one round trip after its reads.

BEGIN, the session's lock, the count, the booking, its message and COMMIT go to PostgreSQL as one
batch (bookings.locking.commit_locked), so the lock is never held across a round trip. These tests
run as the view does — in autocommit, on committed rows (tests/bookings/live.py cleans them up) —
and check that every outcome leaves the connection idle, not inside a transaction.
"""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from psycopg2 import extensions

from accounts.models import User
from bookings import locking, services
from bookings.models import Booking
from notifications.models import Notification

from . import live


@pytest.fixture(scope="module")
def autocommit(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        yield
        live.cleanup()


@pytest.fixture
def tenant(autocommit):
    with schema_context(live.SCHEMA):
        yield
    assert not connection.in_atomic_block


def person(tag: str) -> User:
    [(user_id, _key)] = live.make_people(1, tag)
    return User.objects.get(pk=user_id)


def idle() -> bool:
    """The connection is outside any transaction (nothing left open, nothing left aborted)."""
    return connection.connection.get_transaction_status() == extensions.TRANSACTION_STATUS_IDLE


def test_a_booking_and_its_message_are_committed_in_one_round_trip(tenant):
    booker = person("rt_ok")
    session_id = live.make_session(2)
    with CaptureQueriesContext(connection) as queries:
        booking = services.book_seats(session_id, booker, 1, idempotency_key="rt-ok")
    batch = [q["sql"] for q in queries.captured_queries if "pg_advisory_xact_lock" in q["sql"]]
    assert len(batch) == 1 and batch[0].startswith("BEGIN;") and "COMMIT;" in batch[0]
    assert len(queries.captured_queries) <= 3  # the session's read, the batch (and search_path)
    assert idle()
    stored = Booking.objects.get(pk=booking.pk)
    assert (stored.status, stored.order_number) == ("confirmed", booking.order_number)
    assert Notification.objects.get(recipient=booker).title.startswith("预约成功")


def test_a_full_session_puts_people_on_the_waiting_list_or_tells_them_it_is_full(tenant):
    first, second, third = person("rt_full_a"), person("rt_full_b"), person("rt_full_c")
    session_id = live.make_session(1)
    services.book_seats(session_id, first, 1)
    waiting = services.book_seats(session_id, second, 1, join_waiting_list=True)
    assert waiting.status == "waiting"
    with pytest.raises(ValidationError, match="已约满"):
        services.book_seats(session_id, third, 1)
    assert idle()
    assert not Booking.objects.filter(user=third).exists() and not Notification.objects.filter(recipient=third).exists()


def test_the_same_idempotency_key_returns_the_same_order(tenant):
    booker = person("rt_twin")
    session_id = live.make_session(5)
    first = services.book_seats(session_id, booker, 1, idempotency_key="rt-twice")
    again = services.book_seats(session_id, booker, 1, idempotency_key="rt-twice")
    assert again.pk == first.pk and Booking.objects.filter(user=booker).count() == 1
    assert idle()


def test_a_clashing_order_number_is_rolled_back_and_drawn_again(tenant, monkeypatch):
    a, b = person("rt_clash_a"), person("rt_clash_b")
    session_id = live.make_session(5)
    taken = services.book_seats(session_id, a, 1)
    numbers = iter([taken.order_number, "2099010112345670"])
    monkeypatch.setattr(services, "_new_order_number", lambda model: next(numbers))
    booking = services.book_seats(session_id, b, 1)
    assert booking.order_number == "2099010112345670" and idle()
    assert Notification.objects.filter(recipient=b).count() == 1  # none left by the clashing attempt


def test_a_lock_held_too_long_elsewhere_is_a_busy_refusal_that_changes_nothing(tenant, monkeypatch):
    booker = person("rt_busy")
    session_id = live.make_session(5)
    monkeypatch.setattr(locking, "LOCK_TIMEOUT", "200ms")
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock():
        # Another request booking the same session, slowly: its own connection, the same lock.
        with schema_context(live.SCHEMA):
            other = connections["default"]
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [locking._schema_key("session"), session_id])
                holding.set()
                release.wait(10)
                cursor.execute("ROLLBACK")
            other.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(ValidationError) as refused:
            services.book_seats(session_id, booker, 1)
    finally:
        release.set()
        holder.join()
    assert "预约人数较多" in str(refused.value) and idle()
    assert not Booking.objects.filter(user=booker).exists()
