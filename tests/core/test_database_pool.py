"""The web server's bounded connection pool (core.database.pool), on the real PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg2
import pytest
from django.db import connection

from core.database.pool import ConnectionPool, PoolTimeout

pytestmark = pytest.mark.django_db


@pytest.fixture
def connect():
    """Opens real connections to the test database, named so the test can count them."""
    params = connection.get_connection_params()
    name = f"pool-test-{uuid.uuid4().hex[:8]}"
    opened = []

    def open_one():
        raw = psycopg2.connect(**{**params, "application_name": name})
        raw.autocommit = True
        opened.append(raw)
        return raw

    open_one.application_name = name
    yield open_one
    for raw in opened:
        raw.close()


def server_connections(application_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [application_name])
        return cursor.fetchone()[0]


def busy_clients(borrow, clients: int, connect) -> int:
    """`clients` threads each do a short query at once; returns the most connections seen on the server."""
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, server_connections(connect.application_name))
            time.sleep(0.005)

    def client():
        borrow(lambda raw: raw.cursor().execute("SELECT pg_sleep(0.05)"))

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    sampler.join()
    return peak


def test_without_a_pool_every_concurrent_client_opens_a_connection(connect):
    """The failure the pool exists for: connections grow with the number of clients."""

    def borrow(work):
        raw = connect()
        work(raw)

    assert busy_clients(borrow, 12, connect) > 3


def test_the_pool_never_opens_more_than_its_size_and_everyone_is_served(connect):
    pool = ConnectionPool(size=3, timeout=30)
    served = []

    def borrow(work):
        raw = pool.acquire(connect)
        try:
            work(raw)
            served.append(1)
        finally:
            pool.release(raw)

    assert busy_clients(borrow, 12, connect) <= 3
    assert len(served) == 12  # the other nine waited for a connection instead of failing
    assert pool.peak_lent == 3 and pool.opened == 3


def test_a_borrower_waits_for_a_connection_then_gives_up_after_the_timeout(connect):
    pool = ConnectionPool(size=1, timeout=0.3)
    held = pool.acquire(connect)
    with pytest.raises(PoolTimeout):
        pool.acquire(connect)
    got = []
    waiter = threading.Thread(target=lambda: got.append(pool.acquire(connect)))
    pool.timeout = 10
    waiter.start()
    time.sleep(0.1)
    assert not got  # still waiting
    pool.release(held)
    waiter.join(5)
    assert got == [held]  # the same connection, handed over


def test_a_returned_connection_comes_back_clean(connect):
    pool = ConnectionPool(size=1, timeout=1)
    raw = pool.acquire(connect)
    raw.autocommit = False
    with raw.cursor() as cursor:
        cursor.execute("SET search_path = zhejiang, public")
        cursor.execute("CREATE TEMPORARY TABLE left_behind (id int)")
        with pytest.raises(psycopg2.Error):
            cursor.execute("SELECT * FROM no_such_table")
    pool.release(raw)  # in a failed transaction
    again = pool.acquire(connect)
    assert again is raw and again.autocommit
    with again.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert "zhejiang" not in cursor.fetchone()[0]
        cursor.execute("SELECT to_regclass('left_behind')")
        assert cursor.fetchone()[0] is None  # the failed transaction was rolled back
    pool.release(again)


def test_a_connection_the_server_dropped_is_replaced(connect):
    pool = ConnectionPool(size=2, timeout=1)
    first = pool.acquire(connect)
    with first.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    pool.release(first)
    with connection.cursor() as cursor:  # as if PostgreSQL had restarted
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.1)
    fresh = pool.acquire(connect)
    assert fresh is not first
    with fresh.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    pool.release(fresh)


@pytest.fixture
def pooled_wrapper(monkeypatch):
    """A second Django connection to the test database, lending from a pool as the web server does."""
    from django.db import connections

    from core.database import pool

    monkeypatch.setattr(pool, "_enabled", True)
    monkeypatch.setattr(pool, "_pools", {})
    wrapper = connections.create_connection("default")
    yield wrapper
    wrapper.in_atomic_block = False
    wrapper.close()
    for shared in pool.all_pools():
        shared.close_idle()


def test_the_backend_gives_the_connection_back_and_lets_go_of_it(pooled_wrapper):
    from core.database import pool

    pooled_wrapper.set_schema("zhejiang")
    with pooled_wrapper.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert cursor.fetchone()[0].startswith("zhejiang")
    raw = pooled_wrapper.connection
    (shared,) = pool.all_pools()
    assert shared.lent == 1
    pooled_wrapper.in_atomic_block = True  # Django keeps its attribute when closing inside atomic()
    pooled_wrapper.close()
    assert pooled_wrapper.connection is None  # never used again by this wrapper...
    assert shared.lent == 0 and shared.acquire(lambda: None) is raw  # ...and the next borrower gets it
    with raw.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert "zhejiang" not in cursor.fetchone()[0]
    shared.release(raw)
