"""Background upkeep of bookings, queued for every tenant by the worker (core.scheduled)."""

from dataclasses import asdict

from django_tasks import task

from . import services


@task()
def bookings_upkeep_task() -> dict:
    """Pass unconfirmed waiting-list holds on, expire stale requests, record no-shows, send reminders."""
    return asdict(services.run_upkeep())
