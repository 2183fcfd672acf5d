"""Test fixtures: a real PostgreSQL (embedded, or DATABASE_URL) holding the demo world.

The session starts from a freshly migrated test database and provisions the demo
world once (platform row, migrated template, national/zhejiang/sichuan/liaoning/
dalian cloned from it). Tests marked `django_db` run inside a rolled-back
transaction; tests that create tenants (DDL, which must not run inside a
transaction) use the `committed_db` fixture, which removes whatever they created.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import get_public_schema_name


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker, django_db_keepdb):
    """Always create the test database (pytest-django would skip it when only `committed_db` tests run)."""
    from django.test.utils import setup_databases, teardown_databases

    from tenants.demo import provision_demo

    with django_db_blocker.unblock():
        db_cfg = setup_databases(verbosity=0, interactive=False, keepdb=django_db_keepdb, aliases={"default"})
        provision_demo()
        connection.set_schema_to_public()
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        if not django_db_keepdb:
            from core.database import pool

            # Tests that load core.asgi turn pooling on in this process: this session's own
            # connection would go back to the pool on close, and DROP DATABASE would wait on it.
            connection.close()
            pool.shut_down()
            _end_other_sessions()
            _drop_with_force(connection)
        teardown_databases(db_cfg, verbosity=0, keepdb=django_db_keepdb)


def _drop_with_force(conn) -> None:
    """DROP DATABASE … WITH (FORCE) (PostgreSQL 13+) for the session's teardown: a server or
    worker a test started may still reconnect between the sessions ending and the drop."""
    creation = conn.creation

    force = " WITH (FORCE)" if conn.pg_version >= 130000 else ""

    def destroy(test_database_name, verbosity):
        with creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE {conn.ops.quote_name(test_database_name)}{force}")

    creation._destroy_test_db = destroy


def _end_other_sessions(wait_seconds: float = 15) -> None:
    """Live servers and their pooled connections may still be closing when the session ends;
    DROP DATABASE refuses while any session is connected, so end them first (test database only)."""
    import time

    from django.db import DatabaseError

    assert connection.settings_dict["NAME"].startswith("test_")
    query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    deadline = time.monotonic() + wait_seconds
    try:
        with connection.cursor() as cursor:
            while True:
                cursor.execute(query)
                pids = [row[0] for row in cursor.fetchall()]
                if not pids:
                    return
                if time.monotonic() > deadline:
                    cursor.execute(
                        "SELECT pid, application_name, state, left(query, 120) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                    print(f"sessions still on the test database: {cursor.fetchall()}")
                    return
                for pid in pids:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                time.sleep(0.2)
    except DatabaseError:
        pass  # not allowed on this server: the drop says what is still connected


@pytest.fixture(autouse=True)
def _public_schema_between_tests():
    yield
    connection.set_schema_to_public()
    from core.urls_util import forget_public_addresses

    # A test's rolled-back change of a primary domain must not linger in this process's memory.
    forget_public_addresses()


@pytest.fixture(autouse=True)
def _oai_answers_validate(monkeypatch):
    """Every OAI-PMH answer produced in this process (each verb, each error) must validate against
    the official OAI-PMH, oai_dc, oai-identifier and the culture schemas (tests/oai_schema.py)."""
    from federation import oai
    from tests.oai_schema import validate

    render, serve = oai.render, oai.serve

    def render_and_validate(*args, **kwargs):
        answer = render(*args, **kwargs)
        validate(answer.xml)
        return answer

    def serve_and_validate(*args, **kwargs):  # answers from the cache too
        xml = serve(*args, **kwargs)
        validate(xml)
        return xml

    monkeypatch.setattr(oai, "render", render_and_validate)
    monkeypatch.setattr(oai, "serve", serve_and_validate)


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counters():
    """Every test starts with no requests counted (the shared Redis outlives a test's transaction)."""
    from django.core.cache import caches

    caches["shared"].clear()
    yield


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Real commits, outside any test transaction; tenants and schemas created here are removed after."""
    from tenants.models import CultureSite, Domain

    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_"), "committed_db must never touch a real database"
        connection.set_schema_to_public()
        sites_before = set(CultureSite.objects.values_list("pk", flat=True))
        domains_before = set(Domain.objects.values_list("pk", flat=True))
        schemas_before = _schemas()
        yield
        connection.set_schema_to_public()
        Domain.objects.exclude(pk__in=domains_before).delete()
        for site in CultureSite.objects.exclude(pk__in=sites_before).order_by("-pk"):
            site.delete()  # newest first: a county before the city it belongs to (`parent` is PROTECT)
        with connection.cursor() as cursor:
            for schema in _schemas() - schemas_before:
                cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def public_schema():
    connection.set_schema_to_public()
    return get_public_schema_name()
