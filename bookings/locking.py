"""The lock that keeps a session from being oversold (pretix's advisory-lock pattern, ARCHITECTURE §6).

Every change to a session's seats (booking, cancelling, rejecting, passing holds on) takes
`lock_session(session_id)` first, inside the transaction that writes: a PostgreSQL transaction
advisory lock, released by COMMIT/ROLLBACK. Two requests for the same session therefore count the
free seats and insert one after the other, in any number of server processes; requests for
different sessions never wait for each other.

* Keys: (a 32-bit hash of "bookings:<schema>", session id). Advisory locks are database-wide, not
  per schema: the tenant is part of the key, so 浙江's session 5 and 四川's session 5 do not queue
  behind each other (a hash collision could only make them wait, never oversell).
* A lock wait longer than LOCK_TIMEOUT raises SessionBusy instead of piling up requests.
* settings.BOOKINGS_LOCKING = False switches the lock off. It exists for one reason: the
  concurrency test shows that without it the session *is* oversold, so the test with it means
  something (tests/bookings/test_concurrency.py). Never turn it off in production.
"""

from __future__ import annotations

import json
import zlib

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection

LOCK_TIMEOUT = "5s"
SAVEPOINT = "bookings_session_lock"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's error code for a lock_timeout that ran out
# Where commit_locked keeps its statement's row until the batch's last statement reads it back.
RESULT_SETTING = "culture.locked_result"


class SessionBusy(Exception):
    """The session's lock could not be had within LOCK_TIMEOUT."""


def _schema_key(namespace: str) -> int:
    value = zlib.crc32(f"bookings:{namespace}:{connection.schema_name}".encode())
    return value - (1 << 32) if value >= (1 << 31) else value  # PostgreSQL's int4 is signed


def lock_session(session_id: int, namespace: str = "session", *, then: tuple[str, dict] | None = None):
    """Hold the session's advisory lock until the surrounding transaction ends.

    One round trip: the savepoint, the time limit, the lock and the limit's reset go to PostgreSQL
    as one batch (this runs on every booking request). When the wait runs out, the savepoint is
    rolled back, so the caller's transaction stays usable (it still renders its refusal page).

    `then` — a statement and its named parameters — goes in the same batch right after the lock,
    and its first row is returned: the booking's count of seats costs no round trip of its own.
    It is a statement of its own, so its snapshot is taken once the lock is granted and sees
    every booking committed before (a count in the statement that takes the lock would not).
    """
    locking = getattr(settings, "BOOKINGS_LOCKING", True)
    if locking and not connection.in_atomic_block:
        raise RuntimeError("lock_session must run inside a transaction (the lock ends with it)")
    statement, params = then or ("", {})
    with connection.cursor() as cursor:
        if not locking:
            if not then:
                return None
            cursor.execute(statement, params)
            return cursor.fetchone()
        batch = (
            f"SAVEPOINT {SAVEPOINT}; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';"
            " SELECT pg_advisory_xact_lock(%(lock_namespace)s, %(lock_id)s);"
            f" SET LOCAL lock_timeout = DEFAULT; RELEASE SAVEPOINT {SAVEPOINT}"
        )
        try:
            cursor.execute(
                f"{batch}; {statement}" if then else batch,
                {**params, "lock_namespace": _schema_key(namespace), "lock_id": int(session_id)},
            )
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
                raise
            cursor.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}")
            raise SessionBusy(str(exc)) from exc
        return cursor.fetchone() if then else None


def commit_locked(
    session_id: int, with_clause: str, columns: str, source: str, params: dict, namespace: str = "session"
):
    """BEGIN, the session's lock, one statement, COMMIT — sent to PostgreSQL as one batch.

    The lock is then held only while PostgreSQL runs the statement, never across a round trip to
    this process: under load each round trip meant waiting for the GIL again among the process's
    other request threads, and every booking of the session waited for that (docs/bookings.md,
    "Speed"). For a caller outside any transaction (the booking view); inside one, `lock_session`.

    The statement is `{with_clause} SELECT {columns} FROM {source}` and must give one row, which is
    returned (as JSON values: numbers, text, None). psycopg2 returns only a batch's last result and
    the last statement is the COMMIT, so the row is kept in a session setting and read back by a
    final SELECT. A lock wait past LOCK_TIMEOUT raises SessionBusy; any error rolls everything back.
    """
    if connection.in_atomic_block:
        raise RuntimeError("commit_locked runs its own transaction: call it outside one (or use lock_session)")
    lock = (
        f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; SELECT pg_advisory_xact_lock(%(lock_namespace)s, %(lock_id)s);"
        if getattr(settings, "BOOKINGS_LOCKING", True)
        else ""
    )
    # The setting is emptied first: a row never read back is an error, never the previous booking's
    # row (the pooled connection serves other requests and other tenants between bookings).
    batch = (
        f"BEGIN; SELECT set_config('{RESULT_SETTING}', '', false); {lock} {with_clause}"
        f" SELECT set_config('{RESULT_SETTING}', json_build_array({columns})::text, false) FROM {source};"
        f" COMMIT; SELECT current_setting('{RESULT_SETTING}')"
    )
    with connection.cursor() as cursor:
        try:
            cursor.execute(batch, {**params, "lock_namespace": _schema_key(namespace), "lock_id": int(session_id)})
        except DatabaseError as exc:
            cursor.execute("ROLLBACK")
            if getattr(exc.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE:
                raise SessionBusy(str(exc)) from exc
            raise
        [result] = cursor.fetchone()
    if not result:
        raise RuntimeError("commit_locked: the statement gave no row")
    return tuple(json.loads(result))
