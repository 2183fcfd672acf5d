"""The statistics roll-up, queued in every tenant once a minute by the worker (core.scheduled)."""

from django_tasks import task

from . import national, services


@task()
def statistics_rollup_task() -> dict:
    """Drain buffered page views, roll up what is due, then report daily totals to the national site."""
    result = services.run_rollup()
    result["report"] = national.report_if_due()
    return result
