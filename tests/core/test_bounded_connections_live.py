"""A live daphne under concurrent uncached requests: every request served, connections bounded."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests.live_server import daphne_server, live_server_env  # noqa: F401

POOL_SIZE = 3
ZJ = "zhejiang.culture.localhost"


@pytest.fixture(scope="module")
def live_server_env():  # noqa: F811
    return {"DB_POOL_SIZE": str(POOL_SIZE), "REQUEST_QUEUE_SECONDS": "120"}


def _cmdline(proc: Path) -> list[str]:
    try:
        return (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def test_concurrent_uncached_requests_wait_for_a_pooled_connection(daphne_server, django_db_blocker):  # noqa: F811
    import requests

    with django_db_blocker.unblock():
        params = connection.get_connection_params()
    # This module's server only (another live server of the session has a pool of its own).
    server_pid = next(
        int(proc.name)
        for proc in Path("/proc").iterdir()
        if proc.name.isdigit() and _cmdline(proc)[5:7] == ["-p", str(daphne_server.port)]
    )
    monitor = psycopg2.connect(**params)
    monitor.autocommit = True
    peak, done = 0, threading.Event()

    def sample():
        nonlocal peak
        with monitor.cursor() as cursor:
            while not done.is_set():
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
                    [f"culture-web-{server_pid}"],
                )
                peak = max(peak, cursor.fetchone()[0])
                time.sleep(0.01)

    def fetch(i):
        # A session cookie keeps the full-page cache out of the way: every request renders.
        headers = {**daphne_server.headers(ZJ), "Cookie": f"sessionid=none-{i}"}
        return requests.get(daphne_server.url("/"), headers=headers, timeout=120).status_code

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(max_workers=24) as pool:
            statuses = list(pool.map(fetch, range(48)))
    finally:
        done.set()
        sampler.join()
        monitor.close()
    assert statuses == [200] * 48, daphne_server.log()[-3000:]
    assert 1 <= peak <= POOL_SIZE
