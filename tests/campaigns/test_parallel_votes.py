"""Votes under parallel requests against a live daphne server: exact counts, the limit held.

The first test switches the guard off (CULTURE_CAMPAIGN_VOTE_GUARD=0 on a second server) and
shows that the race is real: the same person's parallel requests then get more votes than the
daily limit. With the guard on, the database's slots allow exactly the limit.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import websockets
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django_tenants.utils import schema_context

from tests.live_server import running_server
from tests.websocket_helpers import ZHEJIANG, hours

# No django_db mark: these tests commit (through django_db_blocker) so the servers see the data.

PARALLEL_SAME_PERSON = 40
PARALLEL_VOTERS = 200
CLIENTS = 32  # parallel connections: within PostgreSQL's 100 whatever the server's pool does


def _db_name(django_db_blocker) -> str:
    with django_db_blocker.unblock():
        return connection.settings_dict["NAME"]


@pytest.fixture(scope="module")
def guarded(django_db_setup, django_db_blocker):
    with running_server(_db_name(django_db_blocker), label="votes-guarded") as server:
        yield server


@pytest.fixture
def unguarded(django_db_setup, django_db_blocker):
    """A server with the guard off, for the one test that shows the race (stopped after it)."""
    # The delay widens the gap between counting and saving, so the race shows on every run (it
    # depended on how slowly the server answered before web processes warmed up before listening).
    env = {"CULTURE_CAMPAIGN_VOTE_GUARD": "0", "CULTURE_CAMPAIGN_TEST_RACE_DELAY": "0.05"}
    with running_server(_db_name(django_db_blocker), env=env, label="votes-unguarded") as server:
        yield server


@pytest.fixture
def committed_campaign(django_db_blocker):
    """A campaign with two entries and voters, committed (the servers see only committed data)."""
    from django_tasks_db.models import DBTaskResult

    from campaigns.models import CampaignEntry
    from cms_pages.models import CampaignPage, HomePage

    created_users = []
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        tasks_before = set(DBTaskResult.objects.values_list("id", flat=True))
        with schema_context("zhejiang"):
            home = HomePage.objects.filter(depth=2).first()
            page = CampaignPage(
                title="并发投票测试",
                slug=f"race-{uuid.uuid4().hex[:8]}",
                start=hours(-1),
                end=hours(2),
                daily_vote_limit=2,
            )
            home.add_child(instance=page)
            page.save_revision().publish()
            entries = [
                CampaignEntry.objects.create(campaign=page, number=n, title=f"作品{n}", author="测试") for n in (1, 2)
            ]

        def voters(count: int) -> list[str]:
            connection.set_schema_to_public()
            User = get_user_model()
            users = User.objects.bulk_create(
                [User(username=f"voter-{uuid.uuid4().hex[:12]}", password="!") for _ in range(count)]
            )
            created_users.extend(users)
            cookies = []
            for user in users:
                session = SessionStore()
                session["_auth_user_id"] = str(user.pk)
                session["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[0]
                session["_auth_user_hash"] = user.get_session_auth_hash()
                session.create()
                cookies.append(session.session_key)
            return cookies

        yield page, entries, voters
        with schema_context("zhejiang"):
            page.delete()
        with schema_context("zhejiang"):  # their votes and memberships live in zhejiang's schema
            get_user_model().objects.filter(pk__in=[u.pk for u in created_users]).delete()
        # The search-index tasks these pages and entries queued would find nothing to index now.
        connection.set_schema_to_public()
        DBTaskResult.objects.exclude(id__in=tasks_before).delete()


def _post_vote(server, page_id: int, entry_id: int, session_key: str) -> int:
    token = secrets.token_hex(16)
    response = requests.post(
        server.url(f"/campaigns/{page_id}/vote/"),
        data={"entry": entry_id},
        headers={**server.headers(ZHEJIANG), "Accept": "application/json", "X-CSRFToken": token},
        cookies={settings.SESSION_COOKIE_NAME: session_key, settings.CSRF_COOKIE_NAME: token},
        timeout=60,
    )
    return response.status_code


def _votes(page) -> tuple[int, int]:
    from campaigns.models import Vote

    with schema_context("zhejiang"):
        votes = Vote.objects.filter(campaign_id=page.pk)
        return votes.count(), votes.values("voter").distinct().count()


def _same_person_in_parallel(server, page, entries, session_key) -> list[int]:
    jobs = [(entries[i % 2].pk) for i in range(PARALLEL_SAME_PERSON)]
    with ThreadPoolExecutor(max_workers=PARALLEL_SAME_PERSON) as pool:
        return list(pool.map(lambda entry_id: _post_vote(server, page.pk, entry_id, session_key), jobs))


def test_without_the_guard_one_person_gets_more_votes_than_the_daily_limit(
    unguarded, committed_campaign, django_db_blocker
):
    page, entries, voters = committed_campaign
    with django_db_blocker.unblock():
        (session_key,) = voters(1)
    statuses = _same_person_in_parallel(unguarded, page, entries, session_key)
    assert 500 not in statuses, unguarded.log()[-3000:]
    with django_db_blocker.unblock():
        total, _ = _votes(page)
    assert total > 2, f"the race did not show ({total} votes, answers {statuses}): the guard test would prove nothing"


def test_with_the_guard_one_person_gets_exactly_the_daily_limit(guarded, committed_campaign, django_db_blocker):
    page, entries, voters = committed_campaign
    with django_db_blocker.unblock():
        (session_key,) = voters(1)
    statuses = _same_person_in_parallel(guarded, page, entries, session_key)
    assert sorted(set(statuses)) == [200, 409], guarded.log()[-3000:]
    assert statuses.count(200) == 2
    with django_db_blocker.unblock():
        assert _votes(page) == (2, 1)


def test_many_voters_at_once_are_all_counted_and_the_tally_is_pushed(guarded, committed_campaign, django_db_blocker):
    page, entries, voters = committed_campaign
    with django_db_blocker.unblock():
        keys = voters(PARALLEL_VOTERS)
    seen: list[dict] = []

    async def watch_and_vote():
        # The tenant's name in the URI (the Host header), the connection to 127.0.0.1 (Python's
        # resolver does not resolve *.localhost).
        uri = f"ws://{guarded.host(ZHEJIANG)}/ws/campaign/{page.pk}/"
        async with websockets.connect(uri, host="127.0.0.1", port=guarded.port) as socket:
            seen.append(json.loads(await socket.recv()))
            loop = asyncio.get_running_loop()
            with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
                statuses = await asyncio.gather(
                    *[loop.run_in_executor(pool, _post_vote, guarded, page.pk, entries[0].pk, key) for key in keys]
                )
            assert statuses.count(200) == PARALLEL_VOTERS, (statuses, guarded.log()[-3000:])
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
                seen.append(frame)
                if {row["id"]: row["public"] for row in frame["rows"]}[entries[0].pk] == PARALLEL_VOTERS:
                    break

    asyncio.run(watch_and_vote())
    with django_db_blocker.unblock():
        assert _votes(page) == (PARALLEL_VOTERS, PARALLEL_VOTERS)  # none lost, none doubled
    assert {row["id"]: row["public"] for row in seen[0]["rows"]}[entries[0].pk] == 0
