"""Our schema clone (tenants/clone.py): a copy identical to the template, a tenant that works,
nothing left by a failure, and the template's structure read once per migration state."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context, schema_exists

from tenants import clone, services
from tenants.models import CultureSite, Domain

TEMPLATE = services.TEMPLATE_SCHEMA


def describe(schema: str) -> dict[str, list]:
    """Everything a schema holds that a clone must reproduce, in comparable form.

    Read with the search_path set to `schema` alone, so definitions name its own objects without
    the schema (and any other schema's with it): two schemas with the same content describe equal.
    Catalog queries only, independent of how tenants/clone.py builds a schema.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('search_path', quote_ident(%s), true), %s::regnamespace::oid", [schema, schema]
        )
        nsp = cursor.fetchone()[1]

        def rows(sql: str, *params, first=None) -> list:
            cursor.execute(sql, [*([first] if first else []), nsp, *params])
            return sorted(cursor.fetchall(), key=repr)

        found = {
            # Not relhastriggers: PostgreSQL clears it only at VACUUM, so a template table whose
            # triggers were dropped (decision 0026) keeps it set; the triggers are compared below.
            "relations": rows(
                "SELECT relname, relkind, relpersistence, reloptions, relhasindex FROM pg_class WHERE relnamespace = %s"
            ),
            # Columns by position among the live ones (dropped columns leave gaps in attnum).
            "columns": rows(
                "SELECT c.relname, row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum), a.attname,"
                " format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, a.attgenerated,"
                " pg_get_expr(d.adbin, d.adrelid), a.attcollation::regcollation::text"
                " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                " LEFT JOIN pg_attrdef d ON (d.adrelid, d.adnum) = (a.attrelid, a.attnum)"
                " WHERE c.relnamespace = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"
            ),
            "constraints": rows(
                "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid),"
                " condeferrable, condeferred, convalidated, conindid::regclass::text"
                " FROM pg_constraint WHERE connamespace = %s"
            ),
            "indexes": rows(
                "SELECT i.indexrelid::regclass::text,"
                " replace(pg_get_indexdef(i.indexrelid), ' ON ' || quote_ident(%s) || '.', ' ON '), i.indisunique,"
                " i.indisprimary, i.indisexclusion, i.indimmediate, i.indisvalid, i.indisready"
                " FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = %s",
                first=schema,
            ),
            "sequences": rows(
                "SELECT s.seqrelid::regclass::text, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,"
                " s.seqmin, s.seqmax, s.seqcache, s.seqcycle, pg_sequence_last_value(s.seqrelid),"
                " (SELECT d.refobjid::regclass::text || '.' || a.attname || ' ' || d.deptype::text FROM pg_depend d"
                "  JOIN pg_attribute a ON (a.attrelid, a.attnum) = (d.refobjid, d.refobjsubid)"
                "  WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i'))"
                " FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = %s"
            ),
            # Foreign keys' own triggers are named after oids: compared by what they do.
            "triggers": rows(
                "SELECT t.tgrelid::regclass::text, (SELECT conname FROM pg_constraint WHERE oid = t.tgconstraint),"
                " CASE WHEN t.tgisinternal THEN t.tgfoid::regproc::text"
                "  ELSE replace(pg_get_triggerdef(t.oid), ' ON ' || quote_ident(%s) || '.', ' ON ') END,"
                " t.tgtype, t.tgenabled, t.tgdeferrable, t.tginitdeferred"
                " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = %s",
                first=schema,
            ),
            "other objects": rows(
                "SELECT 'function', proname FROM pg_proc WHERE pronamespace = %s"
                " UNION ALL SELECT 'type', typname FROM pg_type WHERE typnamespace = %s"
                " UNION ALL SELECT 'comment', obj_description(oid, 'pg_class') FROM pg_class"
                "  WHERE relnamespace = %s AND obj_description(oid, 'pg_class') IS NOT NULL",
                nsp,
                nsp,
            ),
        }
        # The rows themselves: a digest of each table's content.
        contents = []
        for (table,) in rows("SELECT quote_ident(relname) FROM pg_class WHERE relnamespace = %s AND relkind = 'r'"):
            cursor.execute(f"SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t")
            contents.append((table, *cursor.fetchone()))
        found["rows"] = sorted(contents)
    return found


@pytest.fixture
def template_described(committed_db):
    services.ensure_template()
    return describe(TEMPLATE)


@pytest.mark.parametrize("connections", [1, 4])
def test_a_clone_is_identical_to_the_template(template_described, connections):
    """The template is built by migrations: a clone must not differ from it in anything."""
    clone.clone_schema(TEMPLATE, "clonecheck", index_connections=connections)

    described = describe("clonecheck")
    for part, expected in template_described.items():
        assert described[part] == expected, part
    # What it compared (a description of nothing would be equal too).
    assert len(described["relations"]) > 500
    assert any(row[2] == "x" for row in described["constraints"])  # the room-slot exclusion
    assert sum(row[2] == "f" for row in described["constraints"]) > 100
    assert sum(row[8] is not None for row in described["sequences"]) > 10  # sequences in use
    assert sum(row[1] > 0 for row in described["rows"]) > 20  # tables with rows


def _without(kind: str):
    """A clone that leaves out one kind of statement (to show the comparison notices)."""
    original = clone._read_template

    def broken(cursor, template, key):
        plan = original(cursor, template, key)
        if kind == "sequence positions":
            return dataclasses.replace(plan, sequences=())
        if kind == "rows of one table":
            copy = ";\n".join(s for s in plan.copy_data.split(";\n") if "django_migrations" not in s)
            return dataclasses.replace(plan, copy_data=copy)
        if kind == "foreign keys":
            return dataclasses.replace(plan, after_data="SELECT 1")
        marker = {"indexes": "CREATE INDEX ", "exclusion": " EXCLUDE USING "}[kind]
        groups = [(n, ";\n".join(s for s in sql.split(";\n") if marker not in s)) for n, sql in plan.index_groups]
        return dataclasses.replace(plan, index_groups=tuple(groups))

    return broken


@pytest.mark.parametrize(
    ("kind", "part"),
    [
        ("foreign keys", "constraints"),
        ("indexes", "indexes"),
        ("exclusion", "constraints"),
        ("sequence positions", "sequences"),
        ("rows of one table", "rows"),
    ],
)
def test_the_comparison_notices_a_clone_missing_something(template_described, monkeypatch, kind, part):
    clone.forget_plans()
    monkeypatch.setattr(clone, "_read_template", _without(kind))
    try:
        clone.clone_schema(TEMPLATE, "clonebroken")
    finally:
        clone.forget_plans()

    assert describe("clonebroken")[part] != template_described[part]


def hangzhou() -> services.NewSite:
    return services.NewSite(
        slug="hangzhou", name="杭州文化云", kind="city", region_code="330100", parent_slug="zhejiang"
    )


def test_a_cloned_tenant_works(committed_db, client):
    from psycopg2.extras import DateTimeTZRange

    from bookings.models import RoomBooking
    from cms_pages.models import HomePage, VenuePage, VenueRoom
    from tests.bookings import factories

    services.create_culture_site(hangzhou())
    assert client.get("/", HTTP_HOST="hangzhou.culture.localhost").status_code == 200

    booker = factories.person("clone_booker")
    with schema_context("hangzhou"):
        # Inserting works: each sequence continues past the rows copied from the template.
        home = HomePage.objects.get()
        venue = VenuePage(title="杭州图书馆", slug="library", address="杭州市")
        venue.rooms = [VenueRoom(name="多功能厅")]
        home.add_child(instance=venue)
        venue.save_revision().publish()
        room = VenueRoom.objects.get(page=venue)

        # The room-slot exclusion constraint holds in the clone.
        start = DateTimeTZRange("2030-01-07 10:00+08", "2030-01-07 12:00+08")
        overlapping = DateTimeTZRange("2030-01-07 11:00+08", "2030-01-07 13:00+08")
        fields = dict(room=room, user=booker, purpose="读书会", status="confirmed")
        RoomBooking.objects.create(order_number="C1", during=start, **fields)
        with pytest.raises(DatabaseError, match="bookings_room_no_overlap"), transaction.atomic():
            RoomBooking.objects.create(order_number="C2", during=overlapping, **fields)
    assert client.get("/library/", HTTP_HOST="hangzhou.culture.localhost").status_code == 200


def _state():
    return (
        sorted(CultureSite.objects.values_list("schema_name", flat=True)),
        sorted(Domain.objects.values_list("domain", flat=True)),
        schema_exists("hangzhou"),
    )


def _catalog_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class")
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("connections", "step"),
    [(1, "foreign keys"), (4, "foreign keys"), (4, "an index build")],
)
def test_a_clone_failing_midway_leaves_no_schema_and_no_rows(committed_db, monkeypatch, connections, step):
    services.ensure_template()
    before = _state()
    catalog_before = _catalog_size()
    original = clone._read_template

    def failing_after_the_rows(cursor, template, key):
        # The tables and their rows are in by then; a step after them fails (a table not there).
        plan = original(cursor, template, key)
        failing = ";\nALTER TABLE nowhere ADD x int"
        if step == "foreign keys":
            return dataclasses.replace(plan, after_data=plan.after_data + failing)
        (count, sql), *others = plan.index_groups
        return dataclasses.replace(plan, index_groups=((count, sql + failing), *others))

    clone.forget_plans()
    monkeypatch.setattr(clone, "_read_template", failing_after_the_rows)
    monkeypatch.setattr(clone, "INDEX_CONNECTIONS", connections)
    try:
        with pytest.raises(DatabaseError, match="nowhere"):
            services.create_culture_site(hangzhou())
    finally:
        clone.forget_plans()
    assert _state() == (*before[:2], False)
    assert _catalog_size() == catalog_before  # not one table, index or sequence left


def test_the_template_is_read_once_per_migration_state(committed_db):
    services.ensure_template()
    clone.forget_plans()
    with CaptureQueriesContext(connection) as first:
        clone.clone_schema(TEMPLATE, "cloneone")
    with CaptureQueriesContext(connection) as second:
        clone.clone_schema(TEMPLATE, "clonetwo")
    # The second clone replays. This connection: the clone's lock; BEGIN, SET LOCAL, the key
    # (namespace, migrations), the tables, the rows, the sequences, COMMIT; BEGIN, SET LOCAL, the
    # foreign keys, COMMIT; the lock released. (The indexes are built in connections of their own.)
    assert len(second) == 14 < len(first)

    with connection.cursor() as cursor:  # a migration applied to the template: read it again
        cursor.execute(f"INSERT INTO {TEMPLATE}.django_migrations (app, name, applied) VALUES ('x', 'y', now())")
    try:
        with CaptureQueriesContext(connection) as third:
            clone.clone_schema(TEMPLATE, "clonethree")
        assert len(third) > len(second) + 5  # the catalog queries again
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TEMPLATE}.django_migrations WHERE app = 'x'")
            cursor.execute("DROP SCHEMA cloneone, clonetwo, clonethree CASCADE")


def test_a_template_with_objects_the_clone_does_not_copy_is_refused(committed_db):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE SCHEMA clonetmpl; CREATE TABLE clonetmpl.django_migrations (id int, name text);"
            " CREATE VIEW clonetmpl.names AS SELECT name FROM clonetmpl.django_migrations"
        )
    with pytest.raises(clone.UnsupportedTemplate, match="does not copy"):
        clone.clone_schema("clonetmpl", "clonenew")
    assert not schema_exists("clonenew")


def _die_midway_cloning(slug: str) -> int:
    """A process cloning the template that dies between the rows and the indexes, as a
    `kill -9` or a crashed host would leave it. Returns its exit status."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    if os.environ.get("DATABASE_URL"):
        pytest.skip("runs a second process on the embedded test database")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "core.settings.test",
        "CULTURE_DB_NAME": connection.settings_dict["NAME"],
    }
    child = (
        "import os, django; django.setup()\n"
        "from tenants import clone\n"
        "clone._build_indexes = lambda *args: os._exit(9)\n"
        f"clone.clone_schema({TEMPLATE!r}, {slug!r}, index_connections=4)\n"
    )
    repo = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-c", child], env=env, cwd=repo, timeout=120, check=False).returncode  # noqa: S603


def test_a_schema_left_by_a_clone_that_died_is_removed_by_the_next_attempt(committed_db, client):
    services.ensure_template()
    assert _die_midway_cloning("hangzhou") == 9
    assert schema_exists("hangzhou") and not CultureSite.objects.filter(schema_name="hangzhou").exists()

    services.create_culture_site(hangzhou())  # used to fail: 站点标识“hangzhou”已被使用

    assert client.get("/", HTTP_HOST="hangzhou.culture.localhost").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description('hangzhou'::regnamespace, 'pg_namespace')")
        assert cursor.fetchone()[0] is None, "a finished clone is no longer marked unfinished"


def test_a_clone_still_running_elsewhere_is_not_taken_for_a_dead_one(committed_db):
    import psycopg2

    services.ensure_template()
    assert _die_midway_cloning("hangzhou") == 9
    # Another process holds the clone's lock: its clone is running, not abandoned.
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", ["culture-clone:hangzhou"])
        with pytest.raises(services.ProvisioningError, match="已被使用"):
            services.create_culture_site(hangzhou())
        assert schema_exists("hangzhou")
    finally:
        other.close()
    assert clone.drop_interrupted("hangzhou") is True
    assert not schema_exists("hangzhou")
    # A schema that is not an unfinished clone is never dropped this way.
    assert clone.drop_interrupted(TEMPLATE) is False and schema_exists(TEMPLATE)
