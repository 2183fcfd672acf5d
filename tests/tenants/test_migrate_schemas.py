"""`migrate_schemas` only visits the schemas that are behind (tenants.migration_executor)."""

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.migration_executors import base

pytestmark = pytest.mark.django_db


@pytest.fixture
def migrated(monkeypatch):
    """Records which schemas django-tenants would run Django's migrate command in (instead of running it)."""
    visited = []
    monkeypatch.setattr(
        base, "run_migrations", lambda args, options, codename, schema_name, **kw: visited.append(schema_name)
    )
    from django_tenants.migration_executors import standard

    monkeypatch.setattr(
        standard, "run_migrations", lambda args, options, codename, schema_name, **kw: visited.append(schema_name)
    )
    return visited


def test_a_no_op_upgrade_visits_no_schema(migrated, capsys):
    call_command("migrate_schemas", interactive=False)
    assert migrated == []
    assert "already up to date, 0 to migrate" in capsys.readouterr().out


def test_only_the_schema_behind_is_migrated(migrated):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sichuan.django_migrations WHERE app = 'cms_pages' AND name = '0001_initial'")
    call_command("migrate_schemas", interactive=False)
    assert migrated == ["sichuan"]


def test_an_explicit_request_still_goes_to_every_schema(migrated):
    call_command("migrate_schemas", "cms_pages", interactive=False)
    assert {"public", "zhejiang", "sichuan", "national"} <= set(migrated)
