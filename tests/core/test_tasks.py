"""Every task runs in the schema that enqueued it; a task without a tenant fails loudly."""

import pytest
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context
from wagtail.tasks import update_reference_index_task

from core.management.commands.run_worker import TenantWorker
from core.tasks import TaskWithoutTenant
from tests.core.sample_tasks import report_schema

pytestmark = pytest.mark.django_db


def run(result_id) -> DBTaskResult:
    """Run one queued task as the worker does, starting from the public schema."""
    connection.set_schema_to_public()
    worker = TenantWorker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    db_result = DBTaskResult.objects.get(id=result_id)
    worker.run_task(db_result)
    db_result.refresh_from_db()
    return db_result


def test_task_runs_in_the_tenant_that_enqueued_it():
    with schema_context("zhejiang"):
        zhejiang_result = report_schema.enqueue()
    with schema_context("sichuan"):
        sichuan_result = report_schema.enqueue()
    assert run(zhejiang_result.id).return_value == "zhejiang"
    assert run(sichuan_result.id).return_value == "sichuan"


def test_wagtail_reference_index_task_runs_in_the_enqueuing_schema():
    """The page exists only in sichuan: run anywhere else, Wagtail's task would fail with DoesNotExist."""
    from cms_pages.models import HomePage

    with schema_context("sichuan"):
        home = HomePage.objects.get()
        child = home.add_child(instance=HomePage(title="只在四川", slug="only-sichuan"))
        result = update_reference_index_task.enqueue("cms_pages", "homepage", child.pk)
    with schema_context("zhejiang"):
        assert not HomePage.objects.filter(pk=child.pk).exists()
    db_result = run(result.id)
    assert db_result.status == TaskResultStatus.SUCCESSFUL, db_result.traceback


def test_enqueue_without_tenant_fails_loudly():
    connection.set_schema_to_public()
    with pytest.raises(TaskWithoutTenant):
        report_schema.enqueue()
    assert not DBTaskResult.objects.filter(task_path__endswith="report_schema").exists()


def test_queued_task_without_recorded_tenant_is_refused():
    with schema_context("zhejiang"):
        result = report_schema.enqueue()
    row = DBTaskResult.objects.get(id=result.id)
    row.args_kwargs.pop("tenant")
    row.save()
    db_result = run(result.id)
    assert db_result.status == TaskResultStatus.FAILED
    assert db_result.exception_class_path == "core.tasks.TaskWithoutTenant"


def test_platform_task_may_run_without_tenant(monkeypatch, settings):
    settings.CULTURE_PLATFORM_TASKS = {"tests.core.sample_tasks.report_schema"}
    connection.set_schema_to_public()
    result = report_schema.enqueue()
    assert run(result.id).return_value == "public"


def test_every_task_queued_by_provisioning_succeeds_in_its_tenant():
    """Provisioning the demo world queues Wagtail's search and reference-index tasks in six schemas."""
    queued = DBTaskResult.objects.ready()
    schemas = {row.args_kwargs["tenant"] for row in queued}
    assert {"template", "zhejiang", "sichuan", "dalian"} <= schemas
    for _round in range(5):  # a task may queue follow-ups (a published translation is indexed)
        waiting = list(DBTaskResult.objects.ready().values_list("id", flat=True))
        if not waiting:
            break
        for result_id in waiting:
            run(result_id)
    failed = DBTaskResult.objects.filter(status=TaskResultStatus.FAILED)
    assert [(r.task_path, r.args_kwargs, r.traceback) for r in failed] == []
    assert not DBTaskResult.objects.ready().exists()
