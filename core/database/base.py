"""django-tenants' PostgreSQL backend, lending connections from core.database.pool when the
process has pooling on (the web server), and reporting unreachable databases to core.admission."""

from __future__ import annotations

import os
import time
import weakref

from django.db.backends.postgresql.psycopg_any import IsolationLevel
from django.db.utils import DatabaseErrorWrapper
from django.utils.functional import cached_property
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from psycopg2 import OperationalError as DriverOperationalError
from psycopg2 import extras

from . import availability, pool


class _ReportingErrorWrapper(DatabaseErrorWrapper):
    def __exit__(self, exc_type, exc_value, traceback):
        raw = self.wrapper.connection
        if exc_type is not None and raw is not None and raw.closed:
            # The server went away under us (stopped, restarted, network): not a bug of the page.
            availability.report(availability.DATABASE_DOWN)
        return super().__exit__(exc_type, exc_value, traceback)


class DatabaseWrapper(TenantDatabaseWrapper):
    _pool_return = None

    @cached_property
    def wrap_database_errors(self):
        return _ReportingErrorWrapper(self)

    def get_new_connection(self, conn_params):
        shared = pool.pool_for(self.settings_dict) if self.alias != "__no_db__" else None
        try:
            if shared is None:
                return super().get_new_connection(conn_params)
            # Named, so an operator (and bench/load.py) can count the web server's connections.
            conn_params = {"application_name": f"culture-web-{os.getpid()}", **conn_params}
            raw = shared.acquire(lambda: super(DatabaseWrapper, self).get_new_connection(conn_params))
        except pool.PoolTimeout:
            availability.report(availability.BUSY)
            raise
        except DriverOperationalError:
            availability.report(availability.DATABASE_DOWN)
            raise
        # As Django's get_new_connection does for a connection it opens itself.
        self.isolation_level = IsolationLevel.READ_COMMITTED
        extras.register_default_jsonb(conn_or_curs=raw, loads=lambda x: x)
        # Should this wrapper be dropped without closing (a request thread abandoned after the
        # client went away), the connection still goes back when the wrapper is collected.
        self._pool_return = weakref.finalize(self, shared.release, raw)
        return raw

    def connect(self):
        super().connect()
        if self._pool_return is not None and self._pool_return.alive:
            # A lent connection goes back at the end of each request, whatever CONN_MAX_AGE says:
            # kept by the request's context it would never serve anyone else.
            self.close_at = time.monotonic()

    def _close(self):
        if self._pool_return is not None and self._pool_return.alive:
            raw, self.connection = self.connection, None
            with self.wrap_database_errors:
                self._pool_return()  # release() once; the finalizer is spent
            # Given back: even when Django closes inside an atomic block (where it keeps the
            # attribute), this wrapper must never touch it again; another thread may have it.
            del raw
            return None
        return super()._close()
