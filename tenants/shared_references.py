"""Tenant tables refer to shared (public-schema) tables without database foreign keys.

docs/decisions/0026-no-foreign-keys-into-the-public-schema.md. A foreign key makes PostgreSQL
add two triggers to the table it references. The template has ~54 keys to `public.accounts_user`
(our models' and Wagtail's: page owners, revisions, log entries, bookings, hours...), so every
tenant added ~108 triggers to that one table: 35,000 at 324 tenants, ~108,000 at 1,000. Each new
key made PostgreSQL rebuild the table's cache entry with all of them (40–73 ms per key, most of a
clone at scale), every connection paid that rebuild on its first use of the table after a tenant
was created, and every `UPDATE` of an account (a sign-in's `last_login`) walked the list.

Accounts are never deleted (accounts.models.User.delete refuses; they are deactivated), so such a
key guarded nothing a service could break. The columns, their indexes and Django's relations
stay; only the constraints go, in every tenant schema (the template included, so clones never
get them): once by the migration `roles.0003`, and after every migration of a schema (a later
release of Wagtail or of our apps adding such a key) by the `schema_migrated` receiver below.
Keys within a tenant's own schema and within the public schema are untouched.
"""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name

# Keys from a schema's tables to a table of the public schema, as (table, constraint) quoted.
# The schema's tables are found through pg_depend (indexed by the object depended on), not by
# pg_class.relnamespace or pg_constraint.connamespace, which no index leads with: with ~1,000
# schemas those scans took ~160 ms per schema, 0.14 s of every schema's migration.
_KEYS_INTO_PUBLIC = """
SELECT quote_ident(rel.relname), quote_ident(con.conname)
  FROM pg_depend dep
  JOIN pg_class rel ON rel.oid = dep.objid
  JOIN pg_constraint con ON con.conrelid = rel.oid
  JOIN pg_class ref ON ref.oid = con.confrelid
 WHERE dep.refclassid = 'pg_namespace'::regclass AND dep.refobjid = to_regnamespace(%s)
   AND dep.classid = 'pg_class'::regclass AND dep.deptype = 'n'
   AND con.contype = 'f' AND ref.relnamespace = to_regnamespace(%s)
 ORDER BY 1, 2
"""


def keys_into_public(schema: str) -> list[tuple[str, str]]:
    """The foreign keys of `schema`'s tables that reference a table of the public schema."""
    with connection.cursor() as cursor:
        cursor.execute(_KEYS_INTO_PUBLIC, [schema, get_public_schema_name()])
        return cursor.fetchall()


def drop_keys_into_public(schema: str) -> int:
    """Drop the foreign keys from `schema` into the public schema; how many there were."""
    if schema == get_public_schema_name():
        return 0
    keys = keys_into_public(schema)
    by_table: dict[str, list[str]] = {}
    for table, constraint in keys:
        by_table.setdefault(table, []).append(constraint)
    quoted_schema = connection.ops.quote_name(schema)
    with connection.cursor() as cursor:
        for table, constraints in by_table.items():
            drops = ", ".join(f"DROP CONSTRAINT {name}" for name in constraints)
            cursor.execute(f"ALTER TABLE {quoted_schema}.{table} {drops}")
    return len(keys)


def after_schema_migrated(sender, schema_name, **kwargs) -> None:
    """django-tenants' `schema_migrated` (its executors and ours send it after each schema)."""
    if schema_name == get_public_schema_name():
        return
    previous = connection.schema_name
    connection.set_schema(schema_name)
    try:
        drop_keys_into_public(schema_name)
    finally:
        connection.set_schema(previous)
