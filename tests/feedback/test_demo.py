"""The demo world's ratings and demand requests: on every demo site, enough for charts, idempotent."""

from __future__ import annotations

import pytest
from django.db.models import Count
from django_tenants.utils import schema_context

from feedback.demo import seed_feedback_demo
from feedback.models import DemandRequest, Rating

pytestmark = pytest.mark.django_db

DEMO_SITES = ("national", "zhejiang", "sichuan", "liaoning", "dalian")


@pytest.mark.parametrize("schema", DEMO_SITES)
def test_every_demo_site_has_ratings_answers_and_requests_in_each_state(schema):
    with schema_context(schema):
        ratings = Rating.objects.filter(kind="activity")
        assert ratings.count() >= 10
        assert ratings.filter(published=True).exclude(answer="").exists()
        assert len({r.created_at.date() for r in ratings}) >= 5  # spread over time: a chart, not a dot
        states = dict(DemandRequest.objects.values_list("status").annotate(n=Count("pk")))
        assert set(states) == {"new", "planned", "done", "declined"}
        assert not DemandRequest.objects.filter(status="declined", reason="").exists()


def test_volunteer_and_course_ratings_where_the_demo_has_them():
    with schema_context("zhejiang"):
        kinds = set(Rating.objects.values_list("kind", flat=True))
    assert kinds == {"activity", "course", "volunteering"}


def test_seeding_again_changes_nothing():
    with schema_context("dalian"):
        before = (Rating.objects.count(), DemandRequest.objects.count())
        seed_feedback_demo("dalian")
        assert (Rating.objects.count(), DemandRequest.objects.count()) == before


def test_demo_requests_name_the_sites_own_districts():
    from core.regions import subdivisions

    with schema_context("dalian"):
        DemandRequest.objects.all().delete()  # rolled back after the test
        seed_feedback_demo("dalian")
        codes = set(DemandRequest.objects.exclude(region_code="").values_list("region_code", flat=True))
    assert codes and codes <= {code for code, _ in subdivisions("210200")}
