"""Due-date reminders (once per person and reminder, run by the worker) and the catalogue's search
text segmented again after core.chinese changed."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from notifications.models import Notification
from roles.services import TRAINING_MANAGER, grant_role
from training import services
from training.models import Course, Enrollment, TrainingGroup

from .factories import make_course, trainee

pytestmark = pytest.mark.django_db


def reminders(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, kind="training.reminder")
        .order_by("pk")
        .values_list("body", flat=True)
    )


def test_each_person_is_reminded_once_per_threshold_and_the_worker_queues_it():
    today = timezone.localdate()
    with schema_context("zhejiang"):
        manager, early, late, done = (
            trainee("rem_manager"),
            trainee("rem_early"),
            trainee("rem_late"),
            trainee("rem_done"),
        )
        grant_role(manager, TRAINING_MANAGER)
        course = make_course("提醒测试课程")
        group = TrainingGroup.objects.create(name="提醒测试组")
        group.members.add(early, done)
        services.assign_course(course, group, today + datetime.timedelta(days=10), by=manager)
        Enrollment.objects.filter(user=done).update(completed_at=timezone.now())
        assert services.send_due_reminders(today) == 0  # 10 days left: too early
        assert services.send_due_reminders(today + datetime.timedelta(days=4)) == 1  # 6 days left: the 7-day one
        assert services.send_due_reminders(today + datetime.timedelta(days=4)) == 0  # run again: nothing twice
        assert services.send_due_reminders(today + datetime.timedelta(days=5)) == 0  # still the 7-day window
        # The worker was down for days: only the latest reminder is sent, once.
        assert services.send_due_reminders(today + datetime.timedelta(days=9)) == 1
        assert services.send_due_reminders(today + datetime.timedelta(days=9)) == 0
        assert len(reminders(early)) == 2 and "还有 1 天" in reminders(early)[-1]
        assert reminders(done) == []  # completed: never reminded
        # Assigned with 2 days left: the assignment's message stands for the 3-day reminder.
        urgent = TrainingGroup.objects.create(name="提醒测试组二")
        urgent.members.add(late)
        services.assign_course(make_course("提醒测试课程二"), urgent, today + datetime.timedelta(days=2), by=manager)
        assert services.send_due_reminders(today) == 0
        assert services.send_due_reminders(today + datetime.timedelta(days=3)) == 1  # overdue: once
        assert "已逾期" in reminders(late)[-1]
    assert "training.tasks.training_reminders_task" in settings.CULTURE_PERIODIC_TENANT_TASKS
    assert "training.tasks.training_reminders_task" in settings.CULTURE_RERUNNABLE_TASKS


def test_the_reminder_task_runs_in_the_tenant_that_queued_it():
    from django_tasks.base import TaskResultStatus

    from tests.core.test_tasks import run
    from training.tasks import training_reminders_task

    with schema_context("zhejiang"):
        result = training_reminders_task.enqueue()
    assert run(result.id).status == TaskResultStatus.SUCCESSFUL


def test_courses_saved_with_an_old_segmentation_are_found_after_reindexing():
    with schema_context("zhejiang"):
        course = make_course("非遗传承人口述史采集", category=Course.Category.HERITAGE)
        # As saved before the bigrams: jieba alone cut 非遗传承人 without 非遗.
        Course.objects.filter(pk=course.pk).update(search_text="非 遗传 承人 口述 史 采集")
        assert course not in services.search_catalogue({"q": "非遗"}).courses
        assert services.reindex_courses() >= 1
        assert course in services.search_catalogue({"q": "非遗"}).courses
        assert course in services.search_catalogue({"q": "口述史"}).courses
        assert services.reindex_courses() == 0  # current text: nothing rewritten
    assert "training.services.reindex_courses" in settings.CULTURE_SEARCH_REINDEXERS
