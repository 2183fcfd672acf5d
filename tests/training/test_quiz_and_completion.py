"""Quizzes graded on the server, completion rules, hours credited once."""

import datetime
import io
import random
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context
from pypdf import PdfReader

from certificates.models import Certificate
from certificates.services import render_certificate_pdf
from training import services
from training.models import Course, HoursCredit, QuizAttempt

from .factories import correct_answers, lessons, make_course, trainee

pytestmark = pytest.mark.django_db


@pytest.fixture
def zj():
    with schema_context("zhejiang"):
        yield


def _finish_lessons(enrollment, now=None):
    now = now or timezone.now()
    video, document = lessons(enrollment.course)
    progress = services.start_lesson(enrollment, video, now=now)
    for i in range(10):
        services.record_progress(
            progress.pk,
            user=enrollment.user,
            session=progress.session,
            seq=i + 1,
            start=i * 10,
            end=i * 10 + 10,
            now=now + datetime.timedelta(seconds=(i + 1) * 10),
        )
    services.start_lesson(enrollment, document, now=now)
    services.mark_lesson_read(enrollment, document, now=now + datetime.timedelta(seconds=60))


def test_each_attempt_draws_from_the_bank(zj):
    enrollment = services.enrol(trainee(), make_course())
    first = services.start_attempt(enrollment, rng=random.Random(1))
    assert len(first.question_ids) == 2
    assert services.start_attempt(enrollment).pk == first.pk  # an open attempt is resumed
    services.submit_attempt(first.pk, {}, user=enrollment.user)
    second = services.start_attempt(enrollment, rng=random.Random(7))
    assert second.number == 2 and set(second.question_ids) <= set(
        enrollment.course.quiz.questions.values_list("pk", flat=True)
    )


def test_grading_gives_feedback_per_question(zj):
    enrollment = services.enrol(trainee(), make_course())
    attempt = services.start_attempt(enrollment)
    answers = correct_answers(attempt)
    wrong_qid = next(iter(answers))
    answers[wrong_qid] = []
    graded = services.submit_attempt(attempt.pk, answers, user=enrollment.user)
    assert graded.score == 50 and not graded.passed
    assert [item["correct"] for item in graded.feedback].count(False) == 1
    item = next(i for i in graded.feedback if not i["correct"])
    assert item["chosen"] == [] and item["answer"]


def test_attempt_limit_and_resubmission_are_refused(zj):
    enrollment = services.enrol(trainee(), make_course())
    for _ in range(2):
        attempt = services.start_attempt(enrollment)
        services.submit_attempt(attempt.pk, {}, user=enrollment.user)
    with pytest.raises(ValidationError, match="已用完全部 2 次"):
        services.start_attempt(enrollment)
    with pytest.raises(ValidationError, match="已经提交过"):
        services.submit_attempt(attempt.pk, correct_answers(attempt), user=enrollment.user)
    assert not QuizAttempt.objects.filter(enrollment=enrollment, passed=True).exists()


def test_late_answers_count_nothing(zj):
    enrollment = services.enrol(trainee(), make_course())
    attempt = services.start_attempt(enrollment)
    late = attempt.deadline + datetime.timedelta(minutes=1)
    with pytest.raises(ValidationError, match="超过作答时限"):
        services.submit_attempt(attempt.pk, correct_answers(attempt), user=enrollment.user, now=late)
    attempt.refresh_from_db()
    assert attempt.submitted_at and attempt.score == 0 and not attempt.passed


def test_tampered_question_or_choice_ids_are_refused_and_nothing_recorded(zj):
    course = make_course()
    enrollment = services.enrol(trainee(), course)
    attempt = services.start_attempt(enrollment, rng=random.Random(3))
    outside = course.quiz.questions.exclude(pk__in=attempt.question_ids).first()
    answers = correct_answers(attempt) | {str(outside.pk): [str(outside.choices.first().pk)]}
    with pytest.raises(ValidationError, match="不属于本次作答"):
        services.submit_attempt(attempt.pk, answers, user=enrollment.user)
    qid = attempt.question_ids[0]
    with pytest.raises(ValidationError, match="选项无效"):
        services.submit_attempt(attempt.pk, {str(qid): ["999999"]}, user=enrollment.user)
    attempt.refresh_from_db()
    assert attempt.submitted_at is None and attempt.score is None


def test_completion_needs_lessons_and_quiz_then_hours_are_credited_once(zj):
    course = make_course(hours="2.5")
    enrollment = services.enrol(trainee(), course)
    attempt = services.start_attempt(enrollment)
    services.submit_attempt(attempt.pk, correct_answers(attempt), user=enrollment.user)
    enrollment.refresh_from_db()
    assert enrollment.completed_at is None  # quiz passed, lessons not yet
    _finish_lessons(enrollment)
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    assert services.check_completion(enrollment)  # again: nothing more
    credits = HoursCredit.objects.filter(user=enrollment.user)
    assert credits.count() == 1 and credits.get().hours == Decimal("2.5") and credits.get().kind == "specialist"
    certificate = Certificate.objects.get(reference=f"training.Enrollment:{enrollment.pk}")
    assert certificate.code == credits.get().certificate_code and certificate.kind == "training"
    text = PdfReader(io.BytesIO(render_certificate_pdf(certificate))).pages[0].extract_text()
    assert "培训结业证书" in text and "公共图书馆服务规范解读" in text and "2.5 学时" in text


def test_lessons_only_rule_completes_without_the_quiz(zj):
    course = make_course(rule=Course.CompletionRule.LESSONS, hours_kind=Course.HoursKind.GENERAL)
    enrollment = services.enrol(trainee(), course)
    _finish_lessons(enrollment)
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    assert HoursCredit.objects.get(enrollment=enrollment).kind == "general"


def test_closed_course_refuses_self_enrolment(zj):
    course = make_course(open_enrolment=False)
    with pytest.raises(ValidationError, match="不开放自主报名"):
        services.enrol(trainee(), course)


def test_hours_are_counted_in_the_year_of_completion_in_china_time(zj):
    course = make_course(rule=Course.CompletionRule.LESSONS)
    enrollment = services.enrol(trainee(), course)
    # 2025-12-31 16:30 UTC is already 2026-01-01 00:30 in Beijing.
    _finish_lessons(enrollment, now=datetime.datetime(2025, 12, 31, 16, 28, tzinfo=datetime.UTC))
    credit = HoursCredit.objects.get(enrollment=enrollment)
    assert credit.year == 2026 and credit.earned_on == datetime.date(2026, 1, 1)
