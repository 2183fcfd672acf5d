"""Background work of feedback/, queued for every tenant by the worker (core.scheduled)."""

from django_tasks import task

from . import services


@task()
def rating_invitations_task() -> int:
    """Ask people to rate what they took part in during the last week (once per thing)."""
    return services.send_rating_invitations()
