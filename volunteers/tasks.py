"""Background work of volunteers, queued for every tenant by the worker (core.scheduled)."""

from django_tasks import task

from . import services


@task()
def volunteer_reminders_task() -> int:
    """Remind confirmed volunteers of their shifts starting within a day (once per shift)."""
    return services.send_shift_reminders()
