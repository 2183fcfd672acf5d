"""What a broadcast costs per viewer, and viewer counts under many joins (bench/ws_fanout.py
measures the same at 1,000 viewers against a running server)."""

from __future__ import annotations

import asyncio
import json
import math
import time

import pytest
from django.db import connection

from tests.websocket_helpers import communicator, make_user, receive, receive_type, run

pytestmark = pytest.mark.django_db


class _Tally:
    """Counts the database queries of the test's connection (where the consumers' database calls
    run in tests) and the trips from the event loop to sync code (`sync_to_async`, which
    `database_sync_to_async` and channels' closing of stale connections go through); changes
    neither."""

    def __init__(self):
        self.queries = 0
        self.hops = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def counting(self, call):
        async def counted(*args, **kwargs):
            self.hops += 1
            return await call(*args, **kwargs)

        return counted

    def snapshot(self) -> tuple[int, int]:
        return self.queries, self.hops


async def _deliver_one_comment(page, speaker_user, viewers: int, tally: _Tally) -> tuple[int, int]:
    """Connect `viewers` anonymous viewers and a speaker; return (queries, hops) from sending
    one comment to every viewer having it."""
    watchers = [communicator(f"/ws/live/{page.pk}/") for _ in range(viewers)]
    speaker = communicator(f"/ws/live/{page.pk}/", user=speaker_user)
    for comm in [*watchers, speaker]:
        assert (await comm.connect())[0]
        await receive_type(comm, "hello")
    before = tally.snapshot()
    await speaker.send_to(text_data=json.dumps({"type": "comment", "body": f"{viewers} 位观众"}))
    for comm in [*watchers, speaker]:
        assert (await receive_type(comm, "comment"))["comment"]["body"] == f"{viewers} 位观众"
    after = tally.snapshot()
    for comm in [*watchers, speaker]:
        await comm.disconnect()
    return after[0] - before[0], after[1] - before[1]


def test_a_comment_costs_the_same_database_work_for_one_viewer_or_twenty(live_page_in, monkeypatch):
    warm, small, large = live_page_in(), live_page_in(), live_page_in()
    carol, alice, bob = make_user(), make_user(), make_user()
    tally = _Tally()
    from asgiref.sync import SyncToAsync

    monkeypatch.setattr(SyncToAsync, "__call__", tally.counting(SyncToAsync.__call__))

    async def scenario():
        await _deliver_one_comment(warm, carol, 1, tally)  # per-process caches (the tenant's word list)
        return (
            await _deliver_one_comment(small, alice, 1, tally),
            await _deliver_one_comment(large, bob, 20, tally),
        )

    with connection.execute_wrapper(tally):
        (one_queries, one_hops), (twenty_queries, twenty_hops) = run(scenario)()
    # Storing the comment: the counters do see the consumers' queries and trips.
    assert one_queries > 0 and one_hops > 0
    # Storing is the only database work: nothing per recipient, not even a trip to the
    # database thread (channels' dispatch used to make one per viewer and message).
    assert twenty_queries == one_queries
    assert twenty_hops == one_hops


def test_viewer_counts_are_coalesced_and_end_at_the_true_count(live_page_in):
    from live import viewers

    page = live_page_in()
    interval = viewers.BROADCAST_EVERY_MS / 1000

    async def counts_until(comm, expected: int) -> list[int]:
        """The viewer counts `comm` is sent until one says `expected` (then a quiet interval
        and a half: nothing else may follow)."""
        counts: list[int] = []
        while not counts or counts[-1] != expected:
            frame = await receive(comm, timeout=interval * 4)
            if frame["type"] == "viewers":
                counts.append(frame["count"])
        assert await comm.receive_nothing(timeout=interval * 1.5)
        return counts

    async def scenario():
        watcher = communicator(f"/ws/live/{page.pk}/")
        assert (await watcher.connect())[0]
        assert (await receive_type(watcher, "hello"))["viewers"] == 1
        assert await counts_until(watcher, 1) == [1]  # the first change goes out at once
        started = time.monotonic()
        others = [communicator(f"/ws/live/{page.pk}/") for _ in range(8)]
        for comm in others:
            assert (await comm.connect())[0]
        counts = await counts_until(watcher, 9)
        # Eight joins, but at most one count per interval (plus the one at the start).
        windows = math.ceil((time.monotonic() - started) / interval)
        assert len(counts) <= min(8, windows + 1), counts
        for comm in others[:5]:
            await comm.disconnect()
        await asyncio.sleep(0)
        assert (await counts_until(watcher, 4))[-1] == 4
        for comm in [watcher, *others[5:]]:
            await comm.disconnect()

    run(scenario)()
