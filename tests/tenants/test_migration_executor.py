"""A new migration across tenant schemas: graph and states built once (tenants.migration_executor).

Each test adds a throw-away migration to the `feedback` app: its real migrations are copied into a
package under the test's tmp_path with one more, and MIGRATION_MODULES points there. The schemas
are the demo world's (template, national, zhejiang, sichuan, liaoning, dalian); everything runs
in the test's transaction and is rolled back with it.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django_tenants.management.commands import migrate_schemas as migrate_schemas_command
from django_tenants.migration_executors import get_executor as stock_get_executor

from tenants import migration_executor

pytestmark = pytest.mark.django_db

PROBE = "0099_probe"
ADD_COLUMNS = """
    operations = [
        migrations.AddField("rating", "probe", models.IntegerField(null=True)),
        migrations.AddField("rating", "probe_two", models.IntegerField(null=True)),
    ]
"""
CREATE_MODEL = """
    operations = [
        migrations.CreateModel(
            "ProbeThing",
            [("id", models.BigAutoField(primary_key=True)), ("label", models.CharField(max_length=20))],
        ),
    ]
"""
COUNT_EACH_SCHEMAS_PAGES = """
    def count_pages(apps, schema_editor):
        # Historical models from the cached state; the rows are the current schema's own.
        Page = apps.get_model("wagtailcore", "Page")
        apps.get_model("feedback", "ProbeThing").objects.create(label=str(Page.objects.count()))

    operations = [
        migrations.CreateModel(
            "ProbeThing",
            [("id", models.BigAutoField(primary_key=True)), ("label", models.CharField(max_length=20))],
        ),
        migrations.RunPython(count_pages, migrations.RunPython.noop),
    ]
"""


@pytest.fixture
def probe_migration(tmp_path, settings, monkeypatch):
    """Returns add(operations_source): feedback's migrations plus 0099_probe with those operations."""

    def add(body: str) -> str:
        package = f"probe_migrations_{uuid.uuid4().hex[:8]}"
        target = tmp_path / package
        source = Path(__file__).resolve().parents[2] / "feedback" / "migrations"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        leaf = sorted(p.stem for p in source.glob("0*.py"))[-1]
        (target / f"{PROBE}.py").write_text(
            "from django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            f"    dependencies = [('feedback', '{leaf}')]\n" + body
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        settings.MIGRATION_MODULES = {"feedback": package}
        return package

    return add


TENANTS = ["template", "national", "zhejiang", "sichuan", "liaoning", "dalian"]


def columns(schema: str, table: str = "feedback_rating") -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            [schema, table],
        )
        return {row[0] for row in cursor.fetchall()}


def probe_rows(schema: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{schema}".django_migrations WHERE app = %s AND name = %s', ["feedback", PROBE]
        )
        return cursor.fetchone()[0]


def mark_applied(*schemas: str) -> None:
    """Record the probe as applied (nothing else): these schemas are up to date."""
    with connection.cursor() as cursor:
        for schema in schemas:
            cursor.execute(
                f'INSERT INTO "{schema}".django_migrations (app, name, applied) VALUES (%s, %s, now())',
                ["feedback", PROBE],
            )


def migrate_tenants(**options) -> None:
    call_command("migrate_schemas", tenant=True, interactive=False, **options)


def test_every_schema_behind_gets_the_columns_once_and_a_second_run_is_a_no_op(probe_migration, capsys):
    probe_migration(ADD_COLUMNS)
    mark_applied("national")  # already up to date: must not be touched

    migrate_tenants()

    for schema in set(TENANTS) - {"national"}:
        assert {"probe", "probe_two"} <= columns(schema), schema
        assert probe_rows(schema) == 1, schema
    assert not {"probe", "probe_two"} & columns("national")
    assert probe_rows("national") == 1
    out = capsys.readouterr().out
    assert "1 schema(s) already up to date, 5 to migrate" in out
    assert "5 schema(s) migrated" in out

    migrate_tenants()

    assert "already up to date, 0 to migrate" in capsys.readouterr().out
    assert all(probe_rows(schema) == 1 for schema in TENANTS)


def test_a_schema_that_fails_is_rolled_back_and_reported_and_the_others_are_migrated(probe_migration, capsys):
    probe_migration(ADD_COLUMNS)
    with connection.cursor() as cursor:  # the first ADD COLUMN fails in sichuan
        cursor.execute("ALTER TABLE sichuan.feedback_rating ADD COLUMN probe integer")

    with pytest.raises(CommandError, match=r"1 schema\(s\) failed to migrate .*: sichuan"):
        migrate_tenants()

    assert "probe_two" not in columns("sichuan")  # nothing of the migration stayed
    assert probe_rows("sichuan") == 0
    for schema in set(TENANTS) - {"sichuan"}:
        assert {"probe", "probe_two"} <= columns(schema), schema
        assert probe_rows(schema) == 1
    err = capsys.readouterr().err
    assert "schema sichuan: feedback.0099_probe failed (rolled back, schema left as it was)" in err
    assert 'column "probe" of relation "feedback_rating" already exists' in err

    with connection.cursor() as cursor:  # fixed by hand: the next run migrates only sichuan
        cursor.execute("ALTER TABLE sichuan.feedback_rating DROP COLUMN probe")
    migrate_tenants()
    assert "5 schema(s) already up to date, 1 to migrate" in capsys.readouterr().out
    assert {"probe", "probe_two"} <= columns("sichuan")


def executor_options(monkeypatch) -> tuple:
    """The (args, options) migrate_schemas hands its executor for a plain `--tenant` upgrade."""
    captured = {}

    class Capture:
        def __init__(self, args, options):
            captured.update(args=args, options=options)

        def run_migrations(self, tenants=None):
            pass

    with monkeypatch.context() as patch:
        patch.setattr(migrate_schemas_command, "GET_EXECUTOR_FUNCTION", lambda codename=None: Capture)
        migrate_tenants(verbosity=0)
    return captured["args"], captured["options"]


class BuildCounter:
    """How often the migration graph is loaded and a model is added to a project state
    (every project state built from the migrations adds each model once)."""

    def __init__(self, monkeypatch, get_executor):
        self.graphs = self.models = 0
        self.executor = get_executor("standard")(*executor_options(monkeypatch))
        build_graph, add_model = MigrationLoader.build_graph, ProjectState.add_model

        def counting_build_graph(loader):
            self.graphs += 1
            return build_graph(loader)

        def counting_add_model(state, model_state):
            self.models += 1
            return add_model(state, model_state)

        monkeypatch.setattr(MigrationLoader, "build_graph", counting_build_graph)
        monkeypatch.setattr(ProjectState, "add_model", counting_add_model)

    def migrating(self, schemas: list[str]) -> tuple[int, int]:
        graphs, models = self.graphs, self.models
        self.executor.run_migrations(tenants=list(schemas))
        assert all(probe_rows(schema) == 1 for schema in schemas)
        return self.graphs - graphs, self.models - models


def test_the_graph_and_states_are_built_once_however_many_schemas_are_behind(probe_migration, monkeypatch):
    probe_migration(ADD_COLUMNS)
    counter = BuildCounter(monkeypatch, migration_executor.get_executor)
    one = counter.migrating(["zhejiang"])
    four = counter.migrating(["sichuan", "liaoning", "dalian", "national"])
    assert one == four
    assert one[0] == 1  # the graph loaded once
    assert {"probe", "probe_two"} <= columns("dalian")


def test_the_stock_executor_builds_them_in_every_schema(probe_migration, monkeypatch):
    """The counter above sees the difference: django-tenants' executor runs Django's migrate in
    every schema (this project replaces it through settings.GET_EXECUTOR_FUNCTION)."""
    probe_migration(ADD_COLUMNS)
    counter = BuildCounter(monkeypatch, stock_get_executor)
    one = counter.migrating(["zhejiang"])
    two = counter.migrating(["sichuan", "liaoning"])
    assert two[0] == 2 * one[0] and two[1] > one[1]


def test_post_migrate_runs_once_for_added_columns_and_in_every_schema_for_a_new_model(probe_migration, monkeypatch):
    sent = []
    emit = migration_executor.emit_post_migrate_signal

    def counting_emit(*args, **kwargs):
        sent.append(connection.schema_name)
        return emit(*args, **kwargs)

    monkeypatch.setattr(migration_executor, "emit_post_migrate_signal", counting_emit)
    probe_migration(ADD_COLUMNS)
    migrate_tenants(verbosity=0)
    assert len(sent) == 1  # once at the end (Wagtail's handlers reconnected), not per schema

    sent.clear()
    mark_applied(*TENANTS)  # the next probe module has its own 0099 with a new model instead
    with connection.cursor() as cursor:
        for schema in TENANTS:
            cursor.execute(
                f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', ["feedback", PROBE]
            )
    probe_migration(CREATE_MODEL)
    migrate_tenants(verbosity=0)
    assert sorted(sent) == sorted(TENANTS)
    for schema in TENANTS:
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT count(*) FROM "{schema}".django_content_type ct'
                f' JOIN "{schema}".auth_permission p ON p.content_type_id = ct.id'
                " WHERE ct.app_label = 'feedback' AND ct.model = 'probething'"
            )
            assert cursor.fetchone()[0] == 4, schema  # add, change, delete, view


def test_run_python_runs_in_each_schema_with_its_own_rows(probe_migration):
    probe_migration(COUNT_EACH_SCHEMAS_PAGES)
    pages = {}
    with connection.cursor() as cursor:
        for schema in TENANTS:
            cursor.execute(f'SELECT count(*) FROM "{schema}".wagtailcore_page')
            pages[schema] = str(cursor.fetchone()[0])
    assert len(set(pages.values())) > 1  # the schemas differ, so a shared answer would show

    migrate_tenants(verbosity=0)

    with connection.cursor() as cursor:
        for schema in TENANTS:
            cursor.execute(f'SELECT label FROM "{schema}".feedback_probething')
            assert [row[0] for row in cursor.fetchall()] == [pages[schema]], schema


NON_ATOMIC = """
    atomic = False

    def fill(apps, schema_editor):
        apps.get_model("feedback", "Rating").objects.update(probe=7)
        schema_editor.execute("COMMENT ON COLUMN feedback_rating.probe IS 'seen by RunPython'")

    operations = [
        migrations.AddField("rating", "probe", models.IntegerField(null=True)),
        migrations.RunPython(fill, migrations.RunPython.noop, atomic=True),
        migrations.AddField("rating", "probe_two", models.IntegerField(null=True)),
    ]
"""


def test_a_non_atomic_migration_is_applied_with_its_atomic_run_python(probe_migration):
    probe_migration(NON_ATOMIC)

    migrate_tenants(verbosity=0)

    for schema in TENANTS:
        assert {"probe", "probe_two"} <= columns(schema), schema
        assert probe_rows(schema) == 1
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT col_description(attrelid, attnum) FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attname = 'probe'",
                [f'"{schema}".feedback_rating'],
            )
            assert cursor.fetchone()[0] == "seen by RunPython", schema
