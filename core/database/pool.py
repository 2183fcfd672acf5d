"""A bounded pool of psycopg2 connections shared by every thread of one process.

Under ASGI, Django runs each request's synchronous code in a thread of its own, and database
connections belong to the thread (more exactly: to the request's context). Persistent connections
(`CONN_MAX_AGE`) are therefore never reused by the next request: each concurrent request opened
one more connection, until PostgreSQL refused them ("too many clients already"). Django's own
pool needs psycopg 3; this is the same idea for psycopg2 (decision 0010):

* at most `size` connections exist at once; a thread that wants one while all are lent out
  waits up to `timeout` seconds, then gets `PoolTimeout` (the web request answers 503);
* a connection comes back when Django closes it (at the end of each request); it is rolled
  back if a transaction was left open, and lent again (newest first) after its search_path is
  reset: that one statement is also the health check, and a connection that fails it is replaced
  by a new one, so the pool recovers by itself after PostgreSQL restarts;
* a fork (django-tenants' multiprocessing migration executor) starts the child with empty
  pools: connections are never shared between processes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from django.db.utils import OperationalError
from psycopg2 import extensions

logger = logging.getLogger(__name__)


class PoolTimeout(OperationalError):
    """No connection became free within the pool's timeout."""


class ConnectionPool:
    def __init__(self, *, size: int, timeout: float, name: str = "default") -> None:
        if size < 1:
            raise ValueError("a connection pool needs at least one connection")
        self.size = size
        self.timeout = timeout
        self.name = name
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[extensions.connection] = []
        self._lock = threading.Lock()
        self.lent = 0
        self.peak_lent = 0
        self.opened = 0

    def acquire(self, connect: Callable[[], extensions.connection]) -> extensions.connection:
        """A healthy connection: an idle one, or a new one from `connect()`."""
        started = time.monotonic()
        if not self._slots.acquire(timeout=self.timeout):
            raise PoolTimeout(
                f"no database connection free within {self.timeout:g} s (pool '{self.name}' of {self.size})"
            )
        try:
            raw = self._take_idle_healthy()
            if raw is None:
                raw = connect()
                self.opened += 1
        except BaseException:
            self._slots.release()
            raise
        with self._lock:
            self.lent += 1
            self.peak_lent = max(self.peak_lent, self.lent)
        waited = time.monotonic() - started
        if waited > 1:
            logger.warning("waited %.1f s for a database connection (pool of %d)", waited, self.size)
        return raw

    def release(self, raw: extensions.connection) -> None:
        """Take a connection back; it is kept for the next borrower if it is still sound."""
        try:
            if self._reset(raw):
                with self._lock:
                    self._idle.append(raw)
            else:
                _close_quietly(raw)
        finally:
            with self._lock:
                self.lent -= 1
            self._slots.release()

    def close_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for raw in idle:
            _close_quietly(raw)

    def _take_idle_healthy(self) -> extensions.connection | None:
        while True:
            with self._lock:
                if not self._idle:
                    return None
                raw = self._idle.pop()
            if _healthy(raw):
                return raw
            # PostgreSQL restarted or dropped it: the others are probably gone too.
            _close_quietly(raw)
            self.close_idle()

    @staticmethod
    def _reset(raw: extensions.connection) -> bool:
        if raw.closed:
            return False
        try:
            if raw.get_transaction_status() != extensions.TRANSACTION_STATUS_IDLE:
                raw.rollback()
            if not raw.autocommit:
                raw.autocommit = True
            return True
        except Exception:  # a connection that cannot be reset is closed, not reused
            return False


def _healthy(raw: extensions.connection) -> bool:
    """Reset the connection's search_path on the way out of the pool; False if it fails.

    One round trip both proves the connection alive and makes sure no borrower ever gets one that
    still points at the previous borrower's tenant (django-tenants sets its own for a new
    connection; this is for anyone who would not)."""
    if raw.closed:
        return False
    try:
        with raw.cursor() as cursor:
            cursor.execute("RESET search_path")
        return True
    except Exception:
        return False


def _close_quietly(raw: extensions.connection) -> None:
    try:
        raw.close()
    except Exception:  # already broken: nothing to give back
        logger.debug("closing a broken pooled connection failed", exc_info=True)


# --- the process's pools ------------------------------------------------------------------
_enabled = False
_pools: dict[tuple, ConnectionPool] = {}
_pools_lock = threading.Lock()


def enable() -> None:
    """Lend connections from a pool in this process (the web server: core.admission)."""
    global _enabled
    _enabled = True


def shut_down() -> None:
    """Stop lending and close every idle pooled connection (the test session, before it drops
    its database: a connection given back to the pool is still a session on that database)."""
    global _enabled
    _enabled = False
    for each in all_pools():
        each.close_idle()


def is_enabled() -> bool:
    return _enabled


def pool_for(settings_dict: dict) -> ConnectionPool | None:
    """The pool of this database (one per server, database and user), if pooling is on here."""
    if not _enabled:
        return None
    key = (settings_dict.get("HOST"), settings_dict.get("PORT"), settings_dict.get("NAME"), settings_dict.get("USER"))
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ConnectionPool(
                size=int(settings_dict.get("POOL_SIZE", 20)),
                timeout=float(settings_dict.get("POOL_TIMEOUT", 10)),
                name=str(settings_dict.get("NAME")),
            )
        return pool


def all_pools() -> list[ConnectionPool]:
    with _pools_lock:
        return list(_pools.values())


_inherited: list[dict] = []


def _forget_pools_in_child() -> None:
    # The parent's sockets must not be used here, nor closed (closing sends PostgreSQL a
    # Terminate on the shared socket, ending the parent's session): kept, never touched.
    global _pools, _pools_lock
    _inherited.append(_pools)
    _pools = {}
    _pools_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pools_in_child)
