"""Parallel sign-ups against a live daphne server never exceed a shift's capacity.

The first test switches the guard off (CULTURE_VOLUNTEERS_SIGNUP_LOCKING=0) and shows that the
race is real: the same burst then over-fills the shift. Only then does the second test, with
the guard on, mean something (pretix's concurrency tests do the same).

The server is another process: it sees committed data only, so this module commits what it
needs (in zhejiang) and removes it afterwards.
"""

from __future__ import annotations

import datetime
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.live_server import running_server

ZJ = "zhejiang.culture.localhost"
PEOPLE = 40
CAPACITY = 5
CSRF = "c" * 32  # an unmasked CSRF secret is accepted as the token when cookie and header agree
# Past the connection pool, requests queue (core.admission); on a loaded machine the whole burst
# must queue rather than meet the 503 page, which is not what this test is about.
PATIENT = {"REQUEST_QUEUE_SECONDS": "300", "DB_POOL_TIMEOUT": "300"}
# Widens the gap between counting the places and taking one, in both tests, so the unguarded race
# shows on every run: without it the race depended on how slowly a freshly started server answered
# its first burst (once web processes warmed up before listening, the burst no longer overlapped).
RACE_WINDOW = {"CULTURE_VOLUNTEERS_TEST_RACE_DELAY": "0.05"}


@pytest.fixture(scope="module")
def crowd(django_db_setup, django_db_blocker):
    """PEOPLE approved volunteers of zhejiang, each with a signed-in session; one opportunity."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session

    from volunteers.models import OpportunityPage, Volunteer

    from .factories import opportunity

    User = get_user_model()
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        run = uuid.uuid4().hex[:8]
        users = [User.objects.create_user(username=f"race_{run}_{i}") for i in range(PEOPLE)]
        sessions = []
        for user in users:
            client = Client()
            client.force_login(user)
            sessions.append(client.cookies["sessionid"].value)
        page = opportunity(title="并发报名测试项目")
        with schema_context("zhejiang"):
            for i, user in enumerate(users):
                Volunteer.objects.create(
                    user=user,
                    status="approved",
                    number=f"RACE-{run}-{i:03d}",
                    real_name="并发测试",
                    emergency_contact_name="测试联系人",
                    emergency_contact_phone="13800000000",
                    consented_at=timezone.now(),
                )
        yield page, sessions
        connection.set_schema_to_public()
        with schema_context("zhejiang"):
            from volunteers.models import Shift, SignUp

            SignUp.objects.filter(shift__opportunity=page).delete()
            Shift.objects.filter(opportunity=page).delete()
            Volunteer.objects.filter(user__in=users).delete()
            OpportunityPage.objects.get(pk=page.pk).delete()
        connection.set_schema_to_public()
        Session.objects.filter(session_key__in=sessions).delete()
        # Accounts are deactivated, never deleted (their role tables live in every tenant schema).
        User.objects.filter(pk__in=[u.pk for u in users]).update(is_active=False)


def _new_shift(page, django_db_blocker):
    from volunteers.models import Shift

    starts = timezone.now() + datetime.timedelta(days=2)
    with django_db_blocker.unblock(), schema_context("zhejiang"):
        return Shift.objects.create(
            opportunity=page,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=2),
            place="并发测试地点",
            capacity=CAPACITY,
        )


def _burst(server, shift_id: int, sessions: list[str]) -> list[int]:
    """Every session posts the sign-up at the same moment."""
    import requests

    barrier = threading.Barrier(len(sessions))

    def one(session_key: str) -> int:
        http = requests.Session()
        http.headers.update({**server.headers(ZJ), "X-CSRFToken": CSRF})
        http.cookies.set("sessionid", session_key)
        http.cookies.set("csrftoken", CSRF)
        barrier.wait()
        response = http.post(server.url(f"/volunteers/shifts/{shift_id}/sign-up/"), allow_redirects=False, timeout=120)
        return response.status_code

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        return list(pool.map(one, sessions))


def _held(shift_id: int, django_db_blocker) -> int:
    from volunteers.models import SignUp

    with django_db_blocker.unblock(), schema_context("zhejiang"):
        return SignUp.objects.filter(shift_id=shift_id, status__in=["pending", "confirmed"]).count()


def test_without_the_guard_parallel_sign_ups_overfill_the_shift(crowd, django_db_blocker):
    page, sessions = crowd
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    shift = _new_shift(page, django_db_blocker)
    with running_server(
        db_name,
        env={**PATIENT, **RACE_WINDOW, "CULTURE_VOLUNTEERS_SIGNUP_LOCKING": "0"},
        label="volunteers-race-unguarded",
    ) as server:
        statuses = _burst(server, shift.pk, sessions)
        assert set(statuses) <= {302, 303}, server.log()[-3000:]
    held = _held(shift.pk, django_db_blocker)
    print(f"unguarded: {held} places taken of {CAPACITY}")
    assert held > CAPACITY, f"the race did not show: {held} places taken of {CAPACITY}"


def test_with_the_guard_parallel_sign_ups_fill_the_shift_exactly(crowd, django_db_blocker):
    page, sessions = crowd
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    shift = _new_shift(page, django_db_blocker)
    with running_server(db_name, env={**PATIENT, **RACE_WINDOW}, label="volunteers-race-guarded") as server:
        statuses = _burst(server, shift.pk, sessions)
        assert set(statuses) <= {302, 303}, server.log()[-3000:]
    assert _held(shift.pk, django_db_blocker) == CAPACITY
