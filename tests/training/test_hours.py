"""The 学时 arithmetic: 公需/专业 split against the target, year boundaries, the 10,000-person report's queries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from training import services
from training.models import Course, HoursCredit, TrainingGroup, TrainingSettings

from .factories import trainee

pytestmark = pytest.mark.django_db


def credit(user, year, hours, kind, day=None):
    return HoursCredit.objects.create(
        user=user,
        year=year,
        earned_on=day or datetime.date(year, 6, 1),
        hours=Decimal(hours),
        kind=kind,
        source=HoursCredit.Source.OFFLINE,
        title="线下培训",
    )


def test_target_needs_two_thirds_specialist():
    with schema_context("zhejiang"):
        user = trainee()
        credit(user, 2026, "50", Course.HoursKind.GENERAL)
        credit(user, 2026, "50", Course.HoursKind.SPECIALIST)
        summary = services.year_summary(user, 2026)
        assert summary.total == 100 and summary.specialist_target == Decimal("60.0") and not summary.met
        credit(user, 2026, "10", Course.HoursKind.SPECIALIST)
        assert services.year_summary(user, 2026).met


def test_years_are_separate_and_the_target_is_the_sites():
    with schema_context("zhejiang"):
        user = trainee()
        credit(user, 2025, "90", Course.HoursKind.SPECIALIST, datetime.date(2025, 12, 31))
        assert services.year_summary(user, 2026).total == 0
        TrainingSettings.objects.create(yearly_target_hours=Decimal("72"))
        summary = services.year_summary(user, 2025)
        assert summary.target == 72 and summary.specialist_target == Decimal("48.0") and summary.met


def test_yearly_report_takes_the_same_queries_for_many_people():
    with schema_context("zhejiang"):
        group = TrainingGroup.objects.create(name="查询预算")
        for i in range(3):
            user = trainee(f"budget_{i}")
            group.members.add(user)
            credit(user, 2026, "5", Course.HoursKind.GENERAL)
        with CaptureQueriesContext(connection) as few:
            services.yearly_report(2026)
        for i in range(3, 30):
            user = trainee(f"budget_{i}")
            group.members.add(user)
            credit(user, 2026, "5", Course.HoursKind.SPECIALIST)
        with CaptureQueriesContext(connection) as many:
            rows = services.yearly_report(2026)
        assert len(many) == len(few)
        assert sum(1 for r in rows if r.username.startswith("budget_")) == 30
