"""Scheduled publishing (定时发布) for every tenant, run by the task worker once a minute.

Wagtail publishes and expires scheduled revisions with its `publish_scheduled` command,
which works on the current schema only; the worker runs it inside each tenant's schema.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

logger = logging.getLogger(__name__)


def publish_scheduled_everywhere() -> list[str]:
    """Publish due and unpublish expired content in every tenant; returns the schemas visited."""
    skip = {get_public_schema_name(), settings.TENANT_BASE_SCHEMA}
    schemas = [s for s in get_tenant_model().objects.values_list("schema_name", flat=True) if s not in skip]
    for schema in schemas:
        try:
            # One transaction per tenant: each publish and its federation outbox row land together.
            with schema_context(schema), transaction.atomic():
                call_command("publish_scheduled", stdout=io.StringIO())
        except Exception:  # one tenant's failure must not stop the others; Sentry/logs get it
            logger.exception("scheduled publishing failed in %s", schema)
    return schemas


def federation_sync_everywhere() -> list[str]:
    """Queue one federation sync (push delivery, then pulls) per tenant; returns the schemas queued.

    The worker runs the queued tasks in its main loop, so slow peers never hold up the heartbeat.
    A tenant whose previous sync is still waiting in the queue is not queued twice.
    """
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from federation.tasks import federation_sync_task  # feature app, imported only when scheduling

    skip = {get_public_schema_name(), settings.TENANT_BASE_SCHEMA}
    schemas = [s for s in get_tenant_model().objects.values_list("schema_name", flat=True) if s not in skip]
    # A run that started long ago belongs to a worker that died: it no longer blocks a new one.
    recent = timezone.now() - timedelta(minutes=30)
    waiting = set(
        DBTaskResult.objects.filter(task_path=federation_sync_task.module_path)
        .filter(Q(status=TaskResultStatus.READY) | Q(status=TaskResultStatus.RUNNING, started_at__gte=recent))
        .values_list("args_kwargs__tenant", flat=True)
    )
    queued = []
    for schema in schemas:
        if schema in waiting:
            continue
        try:
            with schema_context(schema):
                federation_sync_task.enqueue()
            queued.append(schema)
        except Exception:  # one tenant's failure must not stop the others
            logger.exception("queueing the federation sync failed in %s", schema)
    return queued


def enqueue_periodic_everywhere() -> list[tuple[str, str]]:
    """Queue each task of settings.CULTURE_PERIODIC_TENANT_TASKS once per tenant; returns (schema, task) pairs.

    Feature apps name their periodic tasks in that setting (dotted paths), so core imports none
    of them. A tenant whose previous run of a task still waits in the queue is not queued twice.
    """
    from django.utils.module_loading import import_string
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    skip = {get_public_schema_name(), settings.TENANT_BASE_SCHEMA}
    schemas = [s for s in get_tenant_model().objects.values_list("schema_name", flat=True) if s not in skip]
    recent = timezone.now() - timedelta(minutes=30)
    queued = []
    for path in getattr(settings, "CULTURE_PERIODIC_TENANT_TASKS", []):
        task = import_string(path)
        waiting = set(
            DBTaskResult.objects.filter(task_path=task.module_path)
            .filter(Q(status=TaskResultStatus.READY) | Q(status=TaskResultStatus.RUNNING, started_at__gte=recent))
            .values_list("args_kwargs__tenant", flat=True)
        )
        for schema in schemas:
            if schema in waiting:
                continue
            try:
                with schema_context(schema):
                    task.enqueue()
                queued.append((schema, path))
            except Exception:  # one tenant's failure must not stop the others
                logger.exception("queueing %s failed in %s", path, schema)
    return queued
