"""One Redis client per process, however many cache objects Django builds (core.embedded_redis).

Under ASGI Django builds its cache objects per request context; with a client (and a connection
pool) each, every request opened and pinged a new Redis connection.
"""

from __future__ import annotations

import threading

from django.core.cache import caches

from core import embedded_redis


def cache_built_in_another_thread(alias: str):
    built = []
    thread = threading.Thread(target=lambda: built.append(caches.create_connection(alias)))
    thread.start()
    thread.join()
    return built[0]


def test_cache_objects_of_one_process_share_one_client_and_its_connections(monkeypatch):
    first, second = caches.create_connection("shared"), cache_built_in_another_thread("shared")
    assert first is not second  # Django's objects are per context...
    first.set("redis-clients-probe", 1, 30)
    assert second.get("redis-clients-probe") == 1
    assert first._cache is second._cache  # ...the client, and so its connection pool, is not
    # nor is the redis.Redis object each operation talks through (one per pool, not per call)
    assert first._cache.get_client() is second._cache.get_client(write=True)
    (pool,) = first._cache._pools.values()
    connections_before = pool._created_connections
    # Later cache objects do not start, ping or connect anew.
    started = []
    monkeypatch.setattr(embedded_redis, "ensure_embedded_redis", lambda: started.append(1))
    for _ in range(20):
        assert cache_built_in_another_thread("shared").get("redis-clients-probe") == 1
    assert pool._created_connections == connections_before
    assert started == []


def test_the_embedded_server_is_checked_again_after_a_while(monkeypatch):
    checks = []
    real = embedded_redis.redis_url
    monkeypatch.setattr(embedded_redis, "redis_url", lambda: checks.append(1) or real())
    monkeypatch.setattr(embedded_redis, "_embedded_checked_at", 0.0)
    caches.create_connection("shared").get("redis-clients-probe")
    caches.create_connection("shared").get("redis-clients-probe")
    assert checks == [1]  # once, then not again within EMBEDDED_CHECK_SECONDS
