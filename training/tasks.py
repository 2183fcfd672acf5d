"""Background work of online training, queued in every tenant by the worker (core.scheduled)."""

from django_tasks import task

from . import services


@task()
def training_reminders_task() -> int:
    """Due-date reminders of courses with a due date (each person once per reminder)."""
    return services.send_due_reminders()
