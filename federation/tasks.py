"""Background delivery: tenant tasks (they run in the schema that enqueued them)."""

from django_tasks import task

from . import services


@task()
def deliver_outbox_task() -> dict:
    return services.deliver_pending()


@task()
def push_existing_task(kinds: list[str]) -> int:
    queued = services.push_existing(kinds)
    services.deliver_pending()
    return queued
