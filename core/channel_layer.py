"""The websocket channel layer: channels-redis on REDIS_URL, or on the embedded Redis.

Never the in-memory layer, in tests too: with more than one process serving websockets (and
`make run` has daphne plus the worker publishing), only a shared layer reaches everyone.
The embedded server is started on first use, not at import (settings are read by commands
that never open a websocket).
"""

from __future__ import annotations

from channels_redis.pubsub import RedisPubSubChannelLayer


class SharedRedisChannelLayer(RedisPubSubChannelLayer):
    """Redis pub/sub: a group message is published once and each process hands it to its own
    members (the list-based layer pushed one copy per member and popped them one by one: 1,000
    viewers of a live stream meant ~0.8 s per comment, bench/ws_fanout.py)."""

    def __init__(self, hosts=None, **kwargs):
        if not hosts:
            from core.embedded_redis import redis_url

            hosts = [redis_url()]
        super().__init__(hosts=hosts, **kwargs)
