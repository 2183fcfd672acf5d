"""Real commits: forked workers (--executor=multiprocessing), a non-atomic migration failing.

Not in a test transaction (a transaction keeps the executor in one process and turns any failure
into an aborted transaction), so the columns and rows added are removed at the end.
"""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.db import connection

from tenants import migration_executor

from .test_migration_executor import (
    ADD_COLUMNS,
    NON_ATOMIC,
    PROBE,
    TENANTS,
    columns,
    migrate_tenants,
    probe_migration,  # noqa: F401 (fixture)
    probe_rows,
)


@pytest.fixture
def forks(monkeypatch):
    """How many worker processes each run used."""
    used = []
    run_in_workers = migration_executor._run_in_workers

    def recording(connection, work, processes, outcome):
        used.append(processes)
        return run_in_workers(connection, work, processes, outcome)

    monkeypatch.setattr(migration_executor, "_run_in_workers", recording)
    return used


def test_forked_workers_migrate_the_schemas_and_the_parent_reports_a_failure(
    probe_migration,  # noqa: F811
    committed_db,
    settings,
    forks,
    capsys,
):
    probe_migration(ADD_COLUMNS)
    settings.TENANT_MULTIPROCESSING_MAX_PROCESSES = 2
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE sichuan.feedback_rating ADD COLUMN probe integer")
    try:
        with pytest.raises(CommandError, match=r"1 schema\(s\) failed to migrate .*: sichuan"):
            migrate_tenants(executor="multiprocessing")
        assert forks == [2]
        assert "probe_two" not in columns("sichuan")
        assert probe_rows("sichuan") == 0
        for schema in set(TENANTS) - {"sichuan"}:
            assert {"probe", "probe_two"} <= columns(schema), schema
            assert probe_rows(schema) == 1
        assert "schema sichuan: feedback.0099_probe failed" in capsys.readouterr().err
    finally:
        remove_probes()


def test_a_non_atomic_migration_that_fails_keeps_what_ran_before_and_is_reported(
    probe_migration,  # noqa: F811
    committed_db,
    capsys,
):
    probe_migration(NON_ATOMIC)
    with connection.cursor() as cursor:  # the second ADD COLUMN fails in dalian
        cursor.execute("ALTER TABLE dalian.feedback_rating ADD COLUMN probe_two integer")
    try:
        with pytest.raises(CommandError, match=r"1 schema\(s\) failed to migrate .*: dalian"):
            migrate_tenants()
        for schema in set(TENANTS) - {"dalian"}:
            assert {"probe", "probe_two"} <= columns(schema), schema
            assert probe_rows(schema) == 1
        # No transaction around a non-atomic migration: what ran before the failure stays, unrecorded.
        assert "probe" in columns("dalian")
        assert probe_rows("dalian") == 0
        err = capsys.readouterr().err
        assert "schema dalian: feedback.0099_probe failed (migrations before it stay applied)" in err
    finally:
        remove_probes()


def remove_probes() -> None:
    """Take the probe columns and the probe migration's records out of every tenant schema."""
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        for schema in TENANTS:
            cursor.execute(f'ALTER TABLE "{schema}".feedback_rating DROP COLUMN IF EXISTS probe')
            cursor.execute(f'ALTER TABLE "{schema}".feedback_rating DROP COLUMN IF EXISTS probe_two')
            cursor.execute(
                f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', ["feedback", PROBE]
            )
