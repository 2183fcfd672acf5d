"""What went wrong with the database during the current web request, for core.admission.

The admission layer (ASGI) puts a fresh `RequestDatabaseState` in a context variable before it
hands a request to Django; Django runs the request's synchronous code in a thread with a copy of
that context, so the backend (core.database.base) marks the very same object when it cannot get a
connection. A 500 answer of a request marked this way is turned into a 503 page with Retry-After
(the person is told to come back, not that the site is broken).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

# Why a request could not be served: the pool had no free connection in time ("busy") or the
# database server could not be reached or dropped the connection ("database").
BUSY = "busy"
DATABASE_DOWN = "database"


@dataclass
class RequestDatabaseState:
    problem: str | None = None


_current: contextvars.ContextVar[RequestDatabaseState | None] = contextvars.ContextVar(
    "culture_request_database_state", default=None
)


def start_request() -> tuple[RequestDatabaseState, contextvars.Token]:
    state = RequestDatabaseState()
    return state, _current.set(state)


def end_request(token: contextvars.Token) -> None:
    _current.reset(token)


def report(problem: str) -> None:
    """Record a database problem on the current request (nothing outside a web request)."""
    state = _current.get()
    if state is not None and state.problem is None:
        state.problem = problem
