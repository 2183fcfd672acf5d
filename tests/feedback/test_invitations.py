"""Asking people to rate: once the activity is over (not at check-in), once per thing, per site."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from feedback import services
from notifications.models import Notification
from tests.feedback.conftest import attend, person, study

pytestmark = pytest.mark.django_db


def _asked(schema: str, user) -> list[str]:
    with schema_context(schema):
        return list(Notification.objects.filter(recipient=user, kind="feedback_rate").values_list("link", flat=True))


def _invite(schema: str, **kwargs) -> int:
    with schema_context(schema):
        return services.send_rating_invitations(**kwargs)


def test_people_are_asked_once_after_the_session_ended():
    visitor = person()
    activity = attend("zhejiang", visitor)  # a session two days ago, checked in
    _invite("zhejiang")
    assert _asked("zhejiang", visitor) == [f"/feedback/rate/activity/{activity.pk}/"]
    _invite("zhejiang")
    assert len(_asked("zhejiang", visitor)) == 1
    assert _asked("sichuan", visitor) == []


def test_not_while_the_activity_is_still_on_nor_when_already_rated():
    visitor = person()
    attend("zhejiang", visitor)
    before_it_ended = timezone.now() - datetime.timedelta(days=2, hours=1)
    _invite("zhejiang", now=before_it_ended)
    assert _asked("zhejiang", visitor) == []
    rater = person()
    course = study("zhejiang", rater)
    with schema_context("zhejiang"):
        services.rate(rater, "course", course.pk, 5)
    _invite("zhejiang")
    assert _asked("zhejiang", rater) == []


def test_a_completed_course_is_asked_about_too():
    trainee = person()
    course = study("zhejiang", trainee)
    unfinished = study("zhejiang", trainee, completed=False)
    _invite("zhejiang")
    assert _asked("zhejiang", trainee) == [f"/feedback/rate/course/{course.pk}/"]
    assert f"/feedback/rate/course/{unfinished.pk}/" not in _asked("zhejiang", trainee)


def test_the_worker_runs_it_in_every_tenant(settings):
    from django_tasks.base import TaskResultStatus

    from feedback.tasks import rating_invitations_task
    from tests.core.test_tasks import run

    assert "feedback.tasks.rating_invitations_task" in settings.CULTURE_PERIODIC_TENANT_TASKS
    visitor = person()
    attend("dalian", visitor)
    with schema_context("dalian"):
        result = rating_invitations_task.enqueue()
    assert run(result.id).status == TaskResultStatus.SUCCESSFUL
    assert len(_asked("dalian", visitor)) == 1
