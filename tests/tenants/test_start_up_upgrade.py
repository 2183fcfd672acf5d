"""`make run` on a database a release behind: the start-up check migrates before it reads.

A new release with a migration of a tenant model (here: the English site name of the branding
settings) met an existing install's template schema behind: the start-up check set up the
template's site content — reading that model — before migrating it, and `make run` stopped with
"column … does not exist".
"""

from __future__ import annotations

from django.db import connection

from tenants.management.commands.run_platform import Command
from tenants.services import TEMPLATE_SCHEMA


def _columns(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'themes_branding'",
            [schema],
        )
        return {row[0] for row in cursor.fetchall()}


def test_the_start_up_check_migrates_the_template_before_reading_it(committed_db):
    connection.set_schema_to_public()
    with connection.cursor() as cursor:  # the template as a release behind left it
        cursor.execute(f'ALTER TABLE "{TEMPLATE_SCHEMA}".themes_branding DROP COLUMN site_name_en')
        cursor.execute(
            f'DELETE FROM "{TEMPLATE_SCHEMA}".django_migrations WHERE app = %s AND name = %s',
            ["themes", "0003_branding_site_name_en"],
        )
    try:
        Command().migrate_what_is_behind()
    finally:
        connection.set_schema_to_public()
    assert "site_name_en" in _columns(TEMPLATE_SCHEMA)
