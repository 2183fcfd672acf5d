"""Who is watching a live stream right now, shared by every web process (Redis sorted sets).

Each open websocket is a member scored with the time it was last seen; browsers ping every
PING_SECONDS, so a connection that vanished without closing (a phone losing signal, a killed
process) drops out of the count after STALE_SECONDS. Keys name the tenant's schema.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as redis

PING_SECONDS = 25
STALE_SECONDS = 70
# Viewer counts go to every viewer at most once per BROADCAST_EVERY_MS and stream, across
# processes (1,000 people joining must not send a million frames), and the last change is
# always announced (see `announce`); a client that pings gets the exact count in the answer.
BROADCAST_EVERY_MS = 1000

_clients: dict[int, redis.Redis] = {}


def _client() -> redis.Redis:
    # One client per event loop: an asyncio connection belongs to the loop that opened it.
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None:
        from core.embedded_redis import redis_url

        client = _clients[id(loop)] = redis.Redis.from_url(redis_url())
    return client


def _key(schema: str, page_id: int) -> str:
    return f"culture:{schema}:live:{page_id}:viewers"


async def _touch(schema: str, page_id: int, channel: str) -> int:
    now = time.time()
    key = _key(schema, page_id)
    async with _client().pipeline(transaction=True) as pipe:
        pipe.zadd(key, {channel: now})
        pipe.zremrangebyscore(key, 0, now - STALE_SECONDS)
        pipe.expire(key, STALE_SECONDS * 2)
        pipe.zcard(key)
        result = await pipe.execute()
    return int(result[-1])


# A new viewer and a ping do the same: (re)score the connection, drop the stale ones, count.
joined = seen = _touch


async def left(schema: str, page_id: int, channel: str) -> int:
    key = _key(schema, page_id)
    async with _client().pipeline(transaction=True) as pipe:
        pipe.zrem(key, channel)
        pipe.zremrangebyscore(key, 0, time.time() - STALE_SECONDS)
        pipe.zcard(key)
        result = await pipe.execute()
    return int(result[-1])


async def count(schema: str, page_id: int) -> int:
    key = _key(schema, page_id)
    await _client().zremrangebyscore(key, 0, time.time() - STALE_SECONDS)
    return int(await _client().zcard(key))


async def _gate(schema: str, page_id: int) -> int:
    """0 when this caller may broadcast now (and the gate closes for BROADCAST_EVERY_MS, for
    every process); otherwise how many milliseconds until it opens."""
    key = f"{_key(schema, page_id)}:broadcast"
    if await _client().set(key, 1, nx=True, px=BROADCAST_EVERY_MS):
        return 0
    return max(1, int(await _client().pttl(key)))


# Per process: the announcement already due for a stream (at most one waits per stream).
_due: dict[tuple[str, int], asyncio.Task] = {}


async def announce(schema: str, page_id: int, known_count: int, send: Callable[[int], Awaitable[None]]) -> None:
    """Tell a stream's viewers how many they are, coalesced: the first change after a quiet
    second is sent at once (`send(count)`), later ones are folded into one announcement when
    the gate opens again, which reads the count then — so the number shown always ends at
    the true count, however many people came and went in between."""
    loop = asyncio.get_running_loop()
    due = _due.get((schema, page_id))
    if due is not None and not due.done() and due.get_loop() is loop:
        return  # an announcement is due; it will read the count when it goes out
    if await _gate(schema, page_id) == 0:
        await send(known_count)
        return
    _due[(schema, page_id)] = loop.create_task(_announce_later(schema, page_id, send))


async def _announce_later(schema: str, page_id: int, send: Callable[[int], Awaitable[None]]) -> None:
    try:
        while (wait_ms := await _gate(schema, page_id)) > 0:
            await asyncio.sleep(wait_ms / 1000)
    finally:
        # Leave before counting: a change from now on schedules its own announcement.
        if _due.get((schema, page_id)) is asyncio.current_task():
            del _due[(schema, page_id)]
    await send(await count(schema, page_id))
