"""The worker's roll-up task, reporting that backs off when the national site cannot be reached,
and satisfaction / demand counted from the feedback app's tables."""

from datetime import timedelta

import pytest
from django.db.models import Count, Sum
from django.utils import timezone
from django_tenants.utils import schema_context

from feedback.models import DemandRequest, Rating
from stats import national, services
from stats.models import DailyCount, ReportState, RolledDay

pytestmark = pytest.mark.django_db


def test_the_periodic_task_rolls_up_today_and_is_listed_for_the_worker(settings):
    from stats.tasks import statistics_rollup_task

    assert "stats.tasks.statistics_rollup_task" in settings.CULTURE_PERIODIC_TENANT_TASKS
    assert "stats.tasks.statistics_rollup_task" in settings.CULTURE_RERUNNABLE_TASKS
    with schema_context("sichuan"):
        result = statistics_rollup_task.call()
        today = services.today()
        assert today.isoformat() in result["days"]
        assert RolledDay.objects.filter(day=today).exists()


def test_reporting_backs_off_when_the_national_site_is_unreachable(monkeypatch):
    from federation.transport import TransportError

    class Broken:
        def __init__(self, peer):
            pass

        def request(self, *args, **kwargs):
            raise TransportError("connection failed", retryable=True)

    monkeypatch.setattr("federation.transport.for_peer", Broken)
    with schema_context("zhejiang"):
        day = services.today() - timedelta(days=500)
        RolledDay.objects.create(day=day, rolled_at=timezone.now())
        assert national.report_if_due()["sent"] == 0
        state = ReportState.objects.get()
        assert (
            state.failures == 1 and state.next_attempt_at > timezone.now() and "connection failed" in state.last_error
        )
        assert national.report_if_due()["reason"] == "backing off"  # not tried again before its time
        assert RolledDay.objects.get(day=day).reported_at is None  # still pending


def test_satisfaction_and_demand_come_from_the_feedback_tables():
    with schema_context("zhejiang"):
        rating = Rating.objects.order_by("pk").first()
        demand = DemandRequest.objects.order_by("pk").first()
        assert rating and demand, "the demo world seeds ratings and demand requests"
        for created in (rating.created_at, demand.created_at):
            day = timezone.localtime(created).date()
            services.rollup_day(day)
            start, end = services.day_bounds(day)
            rated = Rating.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
                n=Count("id"), s=Sum("score")
            )
            row = DailyCount.objects.filter(day=day, metric="ratings", subject="").first()
            assert (row.count if row else 0) == rated["n"]
            if rated["n"]:
                assert row.amount == rated["s"]
            asked = DemandRequest.objects.filter(created_at__gte=start, created_at__lt=end).count()
            total = DailyCount.objects.filter(day=day, metric="demands", subject="").first()
            assert (total.count if total else 0) == asked
            by_category = sum(
                DailyCount.objects.filter(day=day, metric="demands").exclude(subject="").values_list("count", flat=True)
            )
            assert by_category == asked
