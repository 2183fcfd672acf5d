"""Background delivery of messages (email, SMS): run in the tenant that sent them (core.tasks)."""

from django_tasks import task

from . import services


@task()
def deliver_notification_task(notification_id: int) -> None:
    services.deliver(notification_id)
