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

import zlib

from django.conf import settings
from django.db import OperationalError, connection

LOCK_TIMEOUT = "5s"
SAVEPOINT = "bookings_session_lock"


class SessionBusy(Exception):
    """The session's lock could not be had within LOCK_TIMEOUT."""


def _schema_key(namespace: str) -> int:
    value = zlib.crc32(f"bookings:{namespace}:{connection.schema_name}".encode())
    return value - (1 << 32) if value >= (1 << 31) else value  # PostgreSQL's int4 is signed


def lock_session(session_id: int, namespace: str = "session") -> None:
    """Hold the session's advisory lock until the surrounding transaction ends.

    One round trip: the savepoint, the time limit, the lock and the limit's reset go to PostgreSQL
    as one batch (this runs on every booking request). When the wait runs out, the savepoint is
    rolled back, so the caller's transaction stays usable (it still renders its refusal page).
    """
    if not getattr(settings, "BOOKINGS_LOCKING", True):
        return
    if not connection.in_atomic_block:
        raise RuntimeError("lock_session must run inside a transaction (the lock ends with it)")
    key = _schema_key(namespace)
    with connection.cursor() as cursor:
        try:
            cursor.execute(
                f"SAVEPOINT {SAVEPOINT}; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';"
                " SELECT pg_advisory_xact_lock(%s, %s);"
                f" SET LOCAL lock_timeout = DEFAULT; RELEASE SAVEPOINT {SAVEPOINT}",
                [key, int(session_id)],
            )
        except OperationalError as exc:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}")
            raise SessionBusy(str(exc)) from exc
