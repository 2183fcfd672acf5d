"""National courses reach the provinces through the federation feed, with lessons, files and quizzes."""

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from federation import pull
from federation.models import Record, Subscription
from training import services
from training.demo import NATIONAL_COURSE
from training.models import Course, Lesson, LessonProgress, Question

from .factories import make_course, trainee

pytestmark = pytest.mark.django_db
User = get_user_model()


def sync(slug):
    with schema_context(slug):
        return pull.sync_subscription(Subscription.objects.get(set_spec="national-courses"))


def test_demo_national_course_is_in_every_subscribing_province_with_video_captions_pdf_and_quiz():
    for slug in ("zhejiang", "sichuan", "liaoning"):
        with schema_context(slug):
            copy = Course.objects.get(title=NATIONAL_COURSE)
            assert copy.is_pulled and copy.origin_name == "国家公共文化云" and copy.tier == "national"
            video = Lesson.objects.get(chapter__course=copy, kind="video")
            assert video.video.file.read(8)[4:8] == b"ftyp" and video.captions is not None
            assert Lesson.objects.get(chapter__course=copy, kind="document").document.file.read(5) == b"%PDF-"
            assert copy.quiz.questions.count() == 4
    with schema_context("dalian"):
        assert not Course.objects.filter(title=NATIONAL_COURSE).exists()  # not subscribed


def test_an_update_reaches_the_copy_in_place_and_progress_survives():
    with schema_context("national"):
        course = Course.objects.get(title=NATIONAL_COURSE)
        lesson_uid = Lesson.objects.get(chapter__course=course, kind="video").uid
    with schema_context("zhejiang"):
        user = trainee()
        copy = Course.objects.get(uid=course.uid)
        enrollment = services.enrol(user, copy)
        progress = services.start_lesson(enrollment, Lesson.objects.get(uid=lesson_uid))
    with schema_context("national"):
        course.title = NATIONAL_COURSE + "（2026 修订）"
        services.publish_course(course)
        quiz = course.quiz
        services.add_question(quiz, Question.Kind.TRUE_FALSE, "新增的判断题。", [("正确", True)])
        services.publish_course(course)
    assert sync("zhejiang")["updated"] == 1
    with schema_context("zhejiang"):
        copy.refresh_from_db()
        assert copy.title.endswith("（2026 修订）") and copy.quiz.questions.count() == 5
        assert LessonProgress.objects.filter(pk=progress.pk).exists()
    assert sync("zhejiang")["updated"] == 0  # nothing new: nothing written


def test_withdrawn_national_course_leaves_the_province_catalogue():
    with schema_context("national"):
        course = make_course("国家级课程撤回测试", tier=Course.Tier.NATIONAL)
    sync("zhejiang")
    with schema_context("zhejiang"):
        assert Course.objects.get(uid=course.uid).status == Course.Status.PUBLISHED
    with schema_context("national"):
        services.withdraw_course(course)
    assert sync("zhejiang")["unpublished"] == 1
    with schema_context("zhejiang"):
        assert Course.objects.get(uid=course.uid).status == Course.Status.WITHDRAWN


def test_provincial_courses_are_not_published_to_the_feed():
    with schema_context("zhejiang"):
        course = make_course("浙江自有课程")
        assert not Record.objects.filter(uid=course.uid).exists()


def test_a_hostile_envelope_cannot_move_a_local_lesson_into_a_pulled_course():
    from django.core.exceptions import ValidationError

    from training.federation_kind import apply_envelope

    with schema_context("zhejiang"):
        local = make_course("本地课程")
        victim = Lesson.objects.filter(chapter__course=local).first()
        envelope = {
            "uid": "6f1c1f4e-0000-4000-8000-000000000001",
            "status": "live",
            "version": 1,
            "origin": {"code": "100000", "name": "国家公共文化云"},
            "payload": {
                "title": "恶意课程",
                "credit_hours": "1",
                "chapters": [
                    {"uid": "6f1c1f4e-0000-4000-8000-000000000002", "lessons": [{"uid": str(victim.uid), "title": "x"}]}
                ],
            },
        }
        with pytest.raises(ValidationError, match="belongs to another course"):
            apply_envelope(envelope, {}, [])
