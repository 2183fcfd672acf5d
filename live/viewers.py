"""Who is watching a live stream right now, shared by every web process (Redis sorted sets).

Each open websocket is a member scored with the time it was last seen; browsers ping every
PING_SECONDS, so a connection that vanished without closing (a phone losing signal, a killed
process) drops out of the count after STALE_SECONDS. Keys name the tenant's schema.
"""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as redis

PING_SECONDS = 25
STALE_SECONDS = 70
# Viewer counts go to every viewer at most this often (1,000 people joining must not send a
# million frames); a client that pings gets the exact count in the answer.
BROADCAST_EVERY_MS = 2000

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


async def may_broadcast(schema: str, page_id: int) -> bool:
    """True for one caller per BROADCAST_EVERY_MS and stream, across processes."""
    return bool(await _client().set(f"{_key(schema, page_id)}:broadcast", 1, nx=True, px=BROADCAST_EVERY_MS))
