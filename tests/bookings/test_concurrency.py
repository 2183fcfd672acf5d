"""Never oversold, never double-booked: parallel HTTP requests against live daphne servers.

The first test switches the lock off and shows the session *is* oversold then, so the second,
with the lock, means something (pretix's concurrency tests do the same). BOOKINGS_TEST_RACE_DELAY
widens the window between counting and inserting in both runs, so the race shows on every run.
"""

import pytest
from django.db import connection

from bookings.models import Booking

from . import live

SEATS = 50
CLIENTS = 200
# The platform's defaults: the web server's bounded connection pool and front door
# (docs/decisions/0010-bounded-connections-psycopg2-pool.md) queue what exceeds the pool.
BASE_ENV: dict[str, str] = {}
SERVERS = 1  # one daphne: its requests run in parallel threads (see tests/bookings/live.py)


@pytest.fixture(scope="module")
def db_name(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        yield connection.settings_dict["NAME"]
        live.cleanup()


def _book_everyone(db_name, django_db_blocker, env, label):
    with django_db_blocker.unblock():
        people = live.make_people(CLIENTS, label)
        session_id = live.make_session(SEATS)
    with live.servers(db_name, SERVERS, env, label) as servers:
        outcome = live.fire(servers, people, f"/bookings/sessions/{session_id}/", {"quantity": "1"})
        logs = "\n".join(s.log()[-3000:] for s in servers)
    with django_db_blocker.unblock():
        held = live.seats_held(session_id)
    return outcome, held, logs


def test_without_the_lock_the_session_is_oversold(db_name, django_db_blocker):
    env = {**BASE_ENV, "BOOKINGS_LOCKING": "false", "BOOKINGS_TEST_RACE_DELAY": "0.05"}
    outcome, held, logs = _book_everyone(db_name, django_db_blocker, env, "nolock")
    assert not any(s >= 500 for s in outcome.statuses), logs
    assert held > SEATS, f"expected the unguarded race to oversell, got {held} seats for {SEATS}"


def test_with_the_lock_exactly_the_seats_are_confirmed_and_the_rest_told_sold_out(db_name, django_db_blocker):
    env = {**BASE_ENV, "BOOKINGS_TEST_RACE_DELAY": "0.05"}
    outcome, held, logs = _book_everyone(db_name, django_db_blocker, env, "lock")
    assert not any(s >= 500 for s in outcome.statuses), logs
    assert held == SEATS
    assert outcome.count(302) == SEATS and outcome.count(409) == CLIENTS - SEATS, outcome.statuses


def test_parallel_room_bookings_of_one_slot_exactly_one_wins(db_name, django_db_blocker):
    with django_db_blocker.unblock():
        people = live.make_people(20, "room")
        room_id = live.first_room_id()
        start = live.tomorrow_slot(room_id, hour=15)
    with live.servers(db_name, SERVERS, BASE_ENV, "room") as servers:
        outcome = live.fire(
            servers, people, f"/bookings/rooms/{room_id}/", {"start": start, "slots": "1", "purpose": "排练"}
        )
    assert not any(s >= 500 for s in outcome.statuses)
    assert outcome.count(302) == 1 and outcome.count(409) == 19, outcome.statuses


def test_resubmitting_with_the_same_key_returns_the_same_order(db_name, django_db_blocker):
    with django_db_blocker.unblock():
        [person] = live.make_people(1, "idem")
        session_id = live.make_session(5)
    with live.servers(db_name, 1, BASE_ENV, "idem") as servers:
        form = {"quantity": "1", "idempotency_key": "same-key-twice"}
        first = live.fire(servers, [person, person], f"/bookings/sessions/{session_id}/", form, threads=2)
    assert first.statuses == [302, 302] and first.locations[0] == first.locations[1]
    with django_db_blocker.unblock():
        from django_tenants.utils import schema_context

        with schema_context(live.SCHEMA):
            assert Booking.objects.filter(session_id=session_id).count() == 1
