"""`migrate_schemas` for many tenant schemas: the migration graph and states built once
(settings.GET_EXECUTOR_FUNCTION; docs/decisions/0024-migrations-across-schemas.md).

django-tenants runs Django's whole `migrate` command in every schema: it loads the migration
graph, builds the project state from every applied migration, renders it, applies the new
migrations and sends post_migrate (content types, permissions, Wagtail's handlers) once per
schema. With one new migration adding a column that cost ~0.84 s per schema (349 s at 416
tenants, bench/README.md), all of it Python; the `ALTER TABLE` itself takes milliseconds.

Here, for the tenant schemas of a plain upgrade (`migrate_schemas`, `--tenant`, `--schema X`):

1. One query (in chunks) reads a fingerprint of every schema's django_migrations; the rows of
   one schema per distinct fingerprint are read after. Schemas with nothing to apply are left
   alone (as before: a no-op upgrade touches no schema).
2. The migration graph is loaded once. Schemas are grouped by their applied set; per group the
   plan, the project state before it, and the state before and after every operation are built
   once (``_Group``).
3. Each schema of a group: `SET search_path` to it, every operation's `database_forwards` with
   the cached states, the django_migrations rows recorded, all in one transaction when every
   migration of the plan is atomic (a failure leaves that schema as it was). post_migrate is
   sent in the schema only when its handlers have work there (``_post_migrate_reason``).
4. A schema that fails is rolled back and reported; the other schemas are still migrated, and
   the command then fails (CommandError: exit status 1) naming every failed schema.

Anything unusual goes to django-tenants' own per-schema path (standard or multiprocessing,
as chosen), logged: a schema without django_migrations (a new schema), an applied set that is
not closed under dependencies or a partly applied squashed migration (Django reports those), a
plan of more than MAX_CACHED_OPERATIONS operations (the cached states would cost more memory
than they save), conflicting leaf migrations. The public schema keeps django-tenants' path
(only visited when behind). Anything other than a plain upgrade (an app label or migration
name, --fake, --fake-initial, --prune, --plan, --check, --run-syncdb) goes to every schema
through django-tenants as before.

`--executor=multiprocessing` (TENANT_MULTIPROCESSING_MAX_PROCESSES): the groups' schemas are
shared between that many forked worker processes, which inherit the states built here.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
import time
import weakref
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps as global_apps
from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal
from django.db import connections, transaction
from django.db.migrations import operations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ModelState, ProjectState
from django.db.models.signals import post_migrate
from django.utils.module_loading import module_has_submodule
from django_tenants.migration_executors import get_executor as tenants_get_executor
from django_tenants.signals import schema_migrated, schema_pre_migration

logger = logging.getLogger(__name__)

_NOT_PLAIN = ("app_label", "migration_name", "fake", "fake_initial", "prune", "plan", "check_unapplied", "run_syncdb")

# A plan longer than this (a schema hundreds of migrations behind, e.g. restored from an old
# backup) goes to the stock path: its cached states would be one project-state clone per operation.
MAX_CACHED_OPERATIONS = 200

# post_migrate receivers whose work is known (see _post_migrate_reason). Any other receiver
# (a project's own handler, a new library) makes post_migrate run in every schema, as Django does.
_KNOWN_POST_MIGRATE_RECEIVERS = {
    "django.contrib.contenttypes.management.create_contenttypes",
    "django.contrib.auth.management.create_permissions",
    "wagtail.snippets.models.create_extra_permissions",
    "wagtail.signal_handlers.connect_reference_index_signal_handlers",
}
# Operations after which content types or permissions may be missing: a model new to the state
# (CreateModel, RenameModel) or changed Meta permissions (AlterModelOptions).
_MODEL_OPERATIONS = (operations.CreateModel, operations.RenameModel, operations.AlterModelOptions)

_FINGERPRINT_CHUNK = 200


def get_executor(codename=None):
    base = tenants_get_executor(codename)

    class CachedStateExecutor(base):
        def run_migrations(self, tenants=None):
            tenants = list(tenants or [])
            if not tenants or any(self.options.get(option) for option in _NOT_PLAIN):
                return super().run_migrations(tenants=tenants)
            public = self.PUBLIC_SCHEMA_NAME
            if public in tenants:
                tenants.remove(public)
                from tenants.services import schemas_with_pending_migrations

                if schemas_with_pending_migrations([public]):
                    super().run_migrations(tenants=[public])
            if tenants:
                processes = 1
                if base.codename == "multiprocessing":
                    processes = max(1, int(getattr(settings, "TENANT_MULTIPROCESSING_MAX_PROCESSES", 2)))
                migrate_tenant_schemas(
                    tenants,
                    database=self.options.get("database") or self.TENANT_DB_ALIAS,
                    verbosity=int(self.options.get("verbosity", 1)),
                    interactive=self.options.get("interactive", False),
                    processes=processes,
                    stock=lambda schemas: base.run_migrations(self, tenants=list(schemas)),
                )
            return None

    CachedStateExecutor.__name__ = f"CachedState{base.__name__}"
    return CachedStateExecutor


@dataclass
class _Group:
    """Schemas with the same applied migrations: one plan, its states built once."""

    applied: frozenset
    plan: list  # Migration instances, in the order Django applies them
    schemas: list[str] = field(default_factory=list)
    steps: dict = field(default_factory=dict)  # migration key -> [(operation, from_state, to_state)]
    pre_state: ProjectState | None = None
    post_apps: object = None  # the post-migrate StateApps handed to post_migrate
    atomic: bool = True  # every migration of the plan atomic: one transaction per schema
    post_migrate_reason: str | None = None
    replacements: list = field(default_factory=list)  # squashed keys to record once complete

    @property
    def operation_count(self) -> int:
        return sum(len(migration.operations) for migration in self.plan)


@dataclass
class Outcome:
    migrated: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str, str]] = field(default_factory=list)  # schema, migration, error, state
    post_migrate_sent: int = 0


# Set in the parent before forking workers (--executor=multiprocessing): the children inherit it.
_RUN: dict = {}


def migrate_tenant_schemas(
    schemas: list[str],
    *,
    database: str = "default",
    verbosity: int = 1,
    interactive: bool = False,
    processes: int = 1,
    stock=None,
) -> Outcome:
    """Bring the given tenant schemas up to date, building the graph and states once per group.
    Raises CommandError after the run if any schema failed (the others are migrated)."""
    started = time.perf_counter()
    connection = connections[database]
    out = sys.stdout
    # As Django's migrate does: import each app's `management` module (registers signal handlers).
    for app_config in global_apps.get_app_configs():
        if module_has_submodule(app_config.module, "management"):
            import_module(".management", app_config.name)

    loader = MigrationLoader(None, ignore_no_migrations=True)
    if loader.detect_conflicts():
        logger.warning("conflicting migrations: every schema goes to django-tenants' executor (it reports them)")
        stock(schemas)
        return Outcome()
    full_plan = _full_plan(loader)
    groups, unusual, current = _group_schemas(connection, loader, full_plan, schemas)
    behind = sum(len(group.schemas) for group in groups.values()) + len(unusual)
    if verbosity >= 1 and current:
        out.write(f"{current} schema(s) already up to date, {behind} to migrate\n")
    for group in list(groups.values()):
        if group.operation_count > MAX_CACHED_OPERATIONS:
            unusual.update(dict.fromkeys(group.schemas, f"{group.operation_count} operations behind"))
            del groups[group.applied]
    for schema, reason in unusual.items():
        # A new schema is expected (the template, a tenant made by migrations); the rest is not.
        level = logging.INFO if reason.startswith("no django_migrations") else logging.WARNING
        logger.log(level, "schema %s: %s; migrated by django-tenants' executor", schema, reason)
        if verbosity >= 1:
            out.write(f"{schema}: {reason}; migrated by django-tenants' executor\n")

    outcome = Outcome()
    if groups:
        try:
            _prepare(connection, loader, full_plan, list(groups.values()), verbosity, interactive)
            _RUN.update(groups=list(groups.values()), database=database, verbosity=verbosity, interactive=interactive)
            work = [(index, schema) for index, group in enumerate(_RUN["groups"]) for schema in group.schemas]
            if processes > 1 and len(work) > 1 and not connection.in_atomic_block:
                _run_in_workers(connection, work, processes, outcome)
            else:
                results = [_migrate_one(item, len(work), position) for position, item in enumerate(work)]
                _record_outcomes(outcome, results)
            _finish_post_migrate(connection, outcome, verbosity, interactive)
        finally:
            _RUN.clear()
            connection.set_schema_to_public()
        seconds = time.perf_counter() - started
        attempted = len(outcome.migrated) + len(outcome.failed)
        if verbosity >= 1:
            out.write(
                f"{len(outcome.migrated)} schema(s) migrated in {seconds:.1f} s ({seconds / max(1, attempted):.3f} s"
                f" per schema; post_migrate sent in {outcome.post_migrate_sent})\n"
            )
        # Reported before the stock path runs: that one raises at its first failure.
        for schema, migration, error, left in outcome.failed:
            sys.stderr.write(f"schema {schema}: {migration} failed ({left}): {error}\n")
    if unusual:
        stock([schema for schema in schemas if schema in unusual])
    connection.set_schema_to_public()
    if outcome.failed:
        raise CommandError(
            f"{len(outcome.failed)} schema(s) failed to migrate (the others were migrated): "
            + ", ".join(failure[0] for failure in outcome.failed)
        )
    return outcome


def _full_plan(loader: MigrationLoader) -> list:
    """Every migration in the order Django applies them to an empty database."""
    seen: set = set()
    plan = []
    for leaf in loader.graph.leaf_nodes():
        for key in loader.graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                plan.append(loader.graph.nodes[key])
    return plan


def _group_schemas(connection, loader, full_plan, schemas):
    """(groups by applied set, {schema: why it goes to the stock path}, number already current)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relname = 'django_migrations' AND c.relkind IN ('r', 'p') AND n.nspname = ANY(%s)",
            [list(schemas)],
        )
        with_table = {row[0] for row in cursor.fetchall()}
        unusual = {
            schema: "no django_migrations table (a new schema)" for schema in schemas if schema not in with_table
        }
        ordered = [schema for schema in schemas if schema in with_table]
        fingerprints: dict[str, list[str]] = {}
        for start in range(0, len(ordered), _FINGERPRINT_CHUNK):
            chunk = ordered[start : start + _FINGERPRINT_CHUNK]
            cursor.execute(
                " UNION ALL ".join(
                    "SELECT %s, md5(coalesce(string_agg(app || '.' || name, ',' ORDER BY app, name), ''))"
                    f" FROM {connection.ops.quote_name(schema)}.django_migrations"
                    for schema in chunk
                ),
                chunk,
            )
            for schema, fingerprint in cursor.fetchall():
                fingerprints.setdefault(fingerprint, []).append(schema)
        groups: dict[frozenset, _Group] = {}
        current = 0
        for members in fingerprints.values():
            cursor.execute(f"SELECT app, name FROM {connection.ops.quote_name(members[0])}.django_migrations")
            rows = {(app, name) for app, name in cursor.fetchall()}
            applied, reason, replacements = _normalise(loader, rows)
            if reason:
                unusual.update(dict.fromkeys(members, reason))
                continue
            plan = [migration for migration in full_plan if (migration.app_label, migration.name) not in applied]
            if not plan and not replacements:
                current += len(members)
                continue
            group = groups.setdefault(applied, _Group(applied=applied, plan=plan, replacements=replacements))
            group.schemas.extend(members)
    # Keep the order the schemas were given in (django-tenants' TENANT_MIGRATION_ORDER).
    position = {schema: index for index, schema in enumerate(schemas)}
    for group in groups.values():
        group.schemas.sort(key=position.__getitem__)
    return groups, unusual, current


def _normalise(loader, rows):
    """The applied set as Django's loader would see it, or why this schema is unusual.

    The graph was built without a database, so every squashed migration stands for the ones it
    replaces: a schema that has all of them applied has the squash applied; one that has only
    some is left to Django (it then uses the replaced migrations)."""
    graph = loader.graph
    applied = {key for key in rows if key in graph.nodes}
    replacements = []
    for key, migration in loader.replacements.items():
        done = [target in rows for target in migration.replaces]
        if all(done):
            applied.add(key)
            if key not in rows:  # Django's check_replacements records it on the next migrate
                replacements.append(key)
        elif any(done):
            return None, f"squashed migration {key[0]}.{key[1]} partly applied", []
        elif key in rows:
            return None, f"squashed migration {key[0]}.{key[1]} recorded without the migrations it replaces", []
    for key in applied:
        for parent in graph.node_map[key].parents:
            if parent.key not in applied:
                return None, f"{key[0]}.{key[1]} applied before its dependency {parent.key[0]}.{parent.key[1]}", []
    return frozenset(applied), None, replacements


def _prepare(connection, loader, full_plan, groups, verbosity, interactive):
    """Per group: the states before and after each operation, built once. pre_migrate is sent
    once, before the operations are read: contenttypes' handler inserts a RenameContentType
    after each RenameModel into the (shared) migration objects, which must happen only once."""
    union, seen = [], set()
    for group in groups:
        group.pre_state = _state_with(loader, full_plan, group.applied)
        _ = group.pre_state.apps  # render once -- every clone below inherits the rendered models
    for migration in full_plan:
        if any(migration in group.plan for group in groups) and migration not in seen:
            seen.add(migration)
            union.append((migration, False))
    connection.set_schema(groups[0].schemas[0])
    emit_pre_migrate_signal(
        verbosity, interactive, connection.alias, stdout=sys.stdout, apps=groups[0].pre_state.apps, plan=union
    )
    post_reason_for_all = _unknown_post_migrate_receivers()
    for group in groups:
        state = group.pre_state.clone()
        for migration in group.plan:
            steps = []
            for operation in migration.operations:
                before = state.clone()
                operation.state_forwards(migration.app_label, state)
                steps.append([operation, before, None])
            group.steps[(migration.app_label, migration.name)] = steps
        # Each operation's to-state is the next one's from-state; the last one's is `state`.
        flat = [step for migration in group.plan for step in group.steps[(migration.app_label, migration.name)]]
        for position, step in enumerate(flat):
            step[2] = flat[position + 1][1] if position + 1 < len(flat) else state
        group.atomic = all(migration.atomic for migration in group.plan)
        group.post_migrate_reason = post_reason_for_all or _post_migrate_reason(group.plan)
        group.post_apps = _post_migrate_apps(state.clone())


def _state_with(loader, full_plan, applied) -> ProjectState:
    """The project state after the applied migrations (MigrationExecutor._create_project_state)."""
    state = ProjectState(real_apps=loader.unmigrated_apps)
    for migration in full_plan:
        if (migration.app_label, migration.name) in applied:
            migration.mutate_state(state, preserve=False)
    return state


def _post_migrate_apps(state: ProjectState):
    """The apps Django's migrate hands post_migrate (migrate.Command.handle, after migrating)."""
    state.clear_delayed_apps_cache()
    post_apps = state.apps
    with post_apps.bulk_update():
        model_keys = []
        for model_state in post_apps.real_models:
            model_key = model_state.app_label, model_state.name_lower
            model_keys.append(model_key)
            post_apps.unregister_model(*model_key)
    post_apps.render_multiple([ModelState.from_model(global_apps.get_model(*model)) for model in model_keys])
    return post_apps


def _unknown_post_migrate_receivers() -> str | None:
    unknown = []
    for entry in post_migrate.receivers:
        receiver = entry[1]
        if isinstance(receiver, weakref.ReferenceType):
            receiver = receiver()
        if receiver is None:
            continue
        name = f"{getattr(receiver, '__module__', '?')}.{getattr(receiver, '__qualname__', repr(receiver))}"
        if name not in _KNOWN_POST_MIGRATE_RECEIVERS:
            unknown.append(name)
    return f"post_migrate receiver(s) {', '.join(sorted(unknown))}" if unknown else None


def _post_migrate_reason(plan) -> str | None:
    """Why post_migrate must be sent in every schema of this plan, or None.

    Skipping it is safe otherwise: every schema here was migrated before, and each of those runs
    sent post_migrate, so the rows its handlers create already exist for every model the schema
    had. The known handlers only add rows and only for: content types of models in the migrated
    state (create_contenttypes), default and Meta permissions of those models (create_permissions)
    and Wagtail's extra permissions of snippet models (publish, lock, ...; from the code's mixins,
    create_extra_permissions). So only a new or renamed model, changed Meta options, or a change
    to a snippet model (the migration that comes with a new mixin) can give them work. Wagtail's
    reference-index handler only reconnects signal handlers in this process, so post_migrate is
    still sent once at the end of the run (_finish_post_migrate). An unknown receiver makes it
    run in every schema (_unknown_post_migrate_receivers)."""
    snippets = _snippet_models()
    for migration in plan:
        for operation in migration.operations:
            if isinstance(operation, _MODEL_OPERATIONS):
                return f"{migration.app_label}.{migration.name}: {operation.describe()}"
            model_name = getattr(operation, "model_name_lower", None) or getattr(operation, "name_lower", None)
            if (migration.app_label, model_name) in snippets:
                return f"{migration.app_label}.{migration.name} changes snippet model {model_name}"
    return None


def _snippet_models() -> set[tuple[str, str]]:
    try:
        from wagtail.snippets.models import get_snippet_models
    except ImportError:  # pragma: no cover - Wagtail is always installed here
        return set()
    return {(model._meta.app_label, model._meta.model_name) for model in get_snippet_models()}


def _migrate_one(item, total: int, position: int):
    """Apply a group's plan to one schema. Returns (schema, None, sent_post_migrate) or
    (schema, (migration, error), False)."""
    index, schema = item
    group: _Group = _RUN["groups"][index]
    database, verbosity = _RUN["database"], _RUN["verbosity"]
    connection = connections[database]
    schema_pre_migration.send(migrate_tenant_schemas, schema_name=schema)
    connection.set_schema(schema)
    current = ["(before the first migration)"]
    sent = False
    try:
        if group.atomic:
            with transaction.atomic(using=database):
                sent = _apply_plan(connection, group, current)
        else:
            sent = _apply_plan(connection, group, current)
    except Exception as exc:
        logger.exception("schema %s: %s failed", schema, current[0])
        if verbosity >= 1:
            sys.stdout.write(f"[{position + 1}/{total} {schema}] FAILED at {current[0]}\n")
        left = "rolled back, schema left as it was" if group.atomic else "migrations before it stay applied"
        return schema, (current[0], f"{exc.__class__.__name__}: {exc}".strip(), left), False
    finally:
        connection.set_schema_to_public()
    if verbosity >= 1:
        names = ", ".join(f"{m.app_label}.{m.name}" for m in group.plan) if verbosity >= 2 else f"{len(group.plan)}"
        sys.stdout.write(f"[{position + 1}/{total} {schema}] applied {names} migration(s)\n")
    schema_migrated.send(migrate_tenant_schemas, schema_name=schema)
    return schema, None, sent


def _apply_plan(connection, group: _Group, current: list) -> bool:
    """MigrationExecutor.apply_migration and Migration.apply with the cached states."""
    recorder = MigrationRecorder(connection)
    for migration in group.plan:
        current[0] = f"{migration.app_label}.{migration.name}"
        recorded = False
        with connection.schema_editor(atomic=migration.atomic) as editor:
            for operation, before, after in group.steps[(migration.app_label, migration.name)]:
                if isinstance(operation, operations.RunPython):
                    # Historical ContentType managers cache rows per database alias, and these
                    # states serve every schema: a cached row would be another schema's.
                    _forget_content_types(before, after)
                atomic_operation = operation.atomic or (migration.atomic and operation.atomic is not False)
                if not editor.atomic_migration and atomic_operation:
                    with transaction.atomic(connection.alias):
                        operation.database_forwards(migration.app_label, editor, before, after)
                else:
                    operation.database_forwards(migration.app_label, editor, before, after)
            if not editor.deferred_sql:
                _record(recorder, migration)
                recorded = True
        if not recorded:
            _record(recorder, migration)
    current[0] = "(after the last migration)"
    for app_label, name in group.replacements:
        recorder.record_applied(app_label, name)
    if group.post_migrate_reason:
        current[0] = "post_migrate"
        _send_post_migrate(connection, group)
        return True
    return False


def _record(recorder: MigrationRecorder, migration) -> None:
    """MigrationExecutor.record_migration; a squashed migration is also recorded under its own
    name at once (Django's check_replacements does that at the end of the same run)."""
    for app_label, name in migration.replaces or []:
        recorder.migration_qs.create(app=app_label, name=name)
    recorder.migration_qs.create(app=migration.app_label, name=migration.name)


def _forget_content_types(*states) -> None:
    for state in states:
        try:
            state.apps.get_model("contenttypes", "ContentType").objects.clear_cache()
        except LookupError:
            pass


def _send_post_migrate(connection, group: _Group) -> None:
    emit_post_migrate_signal(
        0 if _RUN.get("verbosity", 1) < 2 else _RUN["verbosity"],
        _RUN.get("interactive", False),
        connection.alias,
        stdout=sys.stdout,
        apps=group.post_apps,
        plan=[(migration, False) for migration in group.plan],
    )


def _record_outcomes(outcome: Outcome, results) -> None:
    for schema, failure, sent in results:
        if failure:
            outcome.failed.append((schema, *failure))
        else:
            outcome.migrated.append(schema)
            outcome.post_migrate_sent += int(sent)


def _worker_init() -> None:
    # The parent's connection was closed before forking; each worker opens its own.
    for conn in connections.all(initialized_only=True):
        conn.connection = None


def _migrate_in_worker(args):
    item, total, position = args
    return _migrate_one(item, total, position)


def _run_in_workers(connection, work, processes: int, outcome: Outcome) -> None:
    """Share the schemas between forked workers; they inherit _RUN (the states built here)."""
    _RUN["forked"] = True
    connection.close()
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    chunk = max(1, min(20, len(work) // (processes * 4) or 1))
    pool = context.Pool(processes=min(processes, len(work)), initializer=_worker_init)
    try:
        results = pool.map(
            _migrate_in_worker, [(item, len(work), position) for position, item in enumerate(work)], chunk
        )
    finally:
        pool.close()
        pool.join()
    _record_outcomes(outcome, results)


def _finish_post_migrate(connection, outcome: Outcome, verbosity: int, interactive: bool) -> None:
    """pre_migrate was sent once, so post_migrate is sent at least once: Wagtail's pre_migrate
    handler disconnects its reference-index signal handlers in this process and its post_migrate
    handler reconnects them (`make run` goes on serving from this process). Sent in the last
    schema migrated, where the handlers find nothing to do (no model-changing operations)."""
    if outcome.post_migrate_sent and not _RUN.get("forked"):
        return  # already sent in this process
    groups = _RUN["groups"]
    migrated = set(outcome.migrated)
    target = next(
        ((group, schema) for group in reversed(groups) for schema in reversed(group.schemas) if schema in migrated),
        None,
    )
    if target is None:  # nothing migrated: the states before the plan, in the first schema
        group, schema = groups[0], groups[0].schemas[0]
        apps, plan = group.pre_state.apps, []
    else:
        group, schema = target
        apps, plan = group.post_apps, [(migration, False) for migration in group.plan]
    connection.set_schema(schema)
    try:
        emit_post_migrate_signal(
            verbosity if verbosity >= 2 else 0,
            interactive,
            connection.alias,
            stdout=sys.stdout,
            apps=apps,
            plan=plan,
        )
    finally:
        connection.set_schema_to_public()
