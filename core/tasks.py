"""Tenant-aware background tasks on django-tasks' database backend (ARCHITECTURE §4).

Every task, Wagtail's own included (`update_reference_index_task(app_label,
model_name, pk)` carries no tenant), records the schema it was enqueued from
and runs inside that schema. A task enqueued without a tenant fails loudly,
unless it is a platform task listed in settings.CULTURE_PLATFORM_TASKS.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import normalize_json
from django_tenants.utils import get_public_schema_name, schema_context

TENANT_KEY = "tenant"


class TaskWithoutTenant(RuntimeError):
    """A tenant task was enqueued or found with no tenant schema recorded."""


def _is_platform_task(task_path: str) -> bool:
    return task_path in settings.CULTURE_PLATFORM_TASKS


class TenantDatabaseBackend(DatabaseBackend):
    def _schema_for(self, task) -> str:
        schema = getattr(connection, "schema_name", get_public_schema_name())
        if schema == get_public_schema_name() and not _is_platform_task(task.module_path):
            raise TaskWithoutTenant(
                f"Task {task.module_path} was enqueued outside any tenant; "
                "enqueue it inside tenant_context()/a tenant request."
            )
        return schema

    def _task_to_db_task(self, task, args, kwargs):
        from django_tasks_db.models import DBTaskResult

        # The schema is recorded beside the arguments so the worker can enter it.
        schema = self._schema_for(task)
        return DBTaskResult.objects.create(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs, TENANT_KEY: schema}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        )

    async def _atask_to_db_task(self, task, args, kwargs):
        from asgiref.sync import sync_to_async

        return await sync_to_async(self._task_to_db_task)(task, args, kwargs)


def schema_of(db_task_result: Any) -> str | None:
    return (db_task_result.args_kwargs or {}).get(TENANT_KEY)


def run_in_recorded_tenant(db_task_result: Any, run) -> None:
    """Run `run(db_task_result)` inside the schema recorded at enqueue time."""
    schema = schema_of(db_task_result)
    if schema is None or (schema == get_public_schema_name() and not _is_platform_task(db_task_result.task_path)):
        db_task_result.set_failed(
            TaskWithoutTenant(f"Task {db_task_result.task_path} has no tenant recorded; refusing to run it.")
        )
        return
    with schema_context(schema):
        run(db_task_result)


class WorkerStopped(RuntimeError):
    """The worker running a task stopped (killed, crashed, lost its database) before it finished."""


def _worker_is_alive(worker_id: str | None, alive: set[str]) -> bool:
    return worker_id is not None and worker_id in alive


def recover_interrupted_tasks() -> dict[str, list[str]]:
    """Tasks left RUNNING by a worker that is gone: run them again, or mark them failed.

    A worker is gone when its heartbeat is older than WORKER_HEARTBEAT_MAX_AGE (or it has none:
    it stopped cleanly or never beat). Its unfinished tasks listed in CULTURE_RERUNNABLE_TASKS
    (idempotent: federation delivery and pulls upsert by uid and version, reference indexing
    rebuilds rows, notification delivery skips the channels already sent) go back to the queue;
    any other task (a tenant being created) is
    marked failed with WorkerStopped rather than risk doing it twice. Rows are locked with
    SKIP LOCKED, so two workers recovering at once never handle the same task.
    Returns the ids requeued and failed.
    """
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from core.models import WorkerHeartbeat

    fresh_since = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
    alive = set(WorkerHeartbeat.objects.filter(last_seen__gte=fresh_since).values_list("worker_id", flat=True))
    requeued: list[str] = []
    failed: list[str] = []
    with transaction.atomic():
        running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).select_for_update(skip_locked=True)
        for row in running:
            worker_id = row.worker_ids[-1] if row.worker_ids else None
            if _worker_is_alive(worker_id, alive):
                continue
            if row.task_path in settings.CULTURE_RERUNNABLE_TASKS:
                row.status = TaskResultStatus.READY
                row.started_at = None
                row.save(update_fields=["status", "started_at"])
                requeued.append(str(row.id))
            else:
                row.set_failed(
                    WorkerStopped(
                        f"worker {worker_id} stopped while running this task; it is not run again "
                        "automatically because running it twice could repeat its effect"
                    )
                )
                failed.append(str(row.id))
    return {"requeued": requeued, "failed": failed}
