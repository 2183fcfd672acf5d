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


def test_report_rows_and_group_figures_are_summed_in_the_database(django_assert_num_queries):
    with schema_context("zhejiang"):
        library, museum = TrainingGroup.objects.create(name="图书馆组"), TrainingGroup.objects.create(name="博物馆组")
        both, one, idle, outside = trainee("rep_both"), trainee("rep_one"), trainee("rep_idle"), trainee("rep_out")
        library.members.add(both, one, idle)
        museum.members.add(both)
        credit(both, 2026, "30", Course.HoursKind.GENERAL)
        credit(both, 2026, "60", Course.HoursKind.SPECIALIST)
        credit(one, 2026, "20", Course.HoursKind.SPECIALIST)
        credit(one, 2025, "80", Course.HoursKind.SPECIALIST)  # another year
        credit(outside, 2026, "5", Course.HoursKind.GENERAL)  # in no group: in the full report only
        with django_assert_num_queries(2):  # the settings, then the report
            rows = {r.username: r for r in services.yearly_report(2026) if r.username.startswith("rep_")}
        assert set(rows) == {"rep_both", "rep_one", "rep_idle", "rep_out"}
        assert rows["rep_both"].groups == "博物馆组、图书馆组" and rows["rep_both"].summary.met
        assert (rows["rep_one"].summary.specialist, rows["rep_one"].summary.total) == (20, 20)
        assert rows["rep_idle"].summary.total == 0 and not rows["rep_idle"].summary.met
        in_library = [r.username for r in services.yearly_report(2026, group=library)]
        assert in_library == ["rep_both", "rep_idle", "rep_one"]
        with django_assert_num_queries(3):  # the settings, the figures, the groups
            figures = {r["group"].name: r for r in services.group_report(2026)}
        assert (figures["图书馆组"]["members"], figures["图书馆组"]["met"]) == (3, 1)
        assert (figures["图书馆组"]["general"], figures["图书馆组"]["specialist"]) == (30, 80)
        assert (figures["博物馆组"]["members"], figures["博物馆组"]["met"]) == (1, 1)
