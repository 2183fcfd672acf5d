"""Courses for training tests, built through training.services as a manager would."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model

from training import services
from training.models import Course, Lesson, Question, Quiz

User = get_user_model()


def make_course(
    title: str = "公共图书馆服务规范解读",
    *,
    video_seconds: int = 100,
    hours: str = "2",
    hours_kind: str = Course.HoursKind.SPECIALIST,
    rule: str = Course.CompletionRule.LESSONS_AND_QUIZ,
    with_quiz: bool = True,
    open_enrolment: bool = True,
    **fields,
) -> Course:
    course = Course(
        title=title,
        summary="围绕《公共图书馆服务规范》讲解服务标准、读者权益与评估指标。",
        credit_hours=Decimal(hours),
        hours_kind=hours_kind,
        completion_rule=rule,
        open_enrolment=open_enrolment,
        **fields,
    )
    services.save_course(course)
    chapter = services.add_chapter(course, "第一章 服务规范总览")
    Lesson.objects.create(
        chapter=chapter,
        title="规范的由来",
        kind=Lesson.Kind.VIDEO,
        duration_seconds=video_seconds,
        position=0,
        video_url="https://example.cn/v.mp4",
    )
    Lesson.objects.create(
        chapter=chapter, title="规范全文", kind=Lesson.Kind.DOCUMENT, position=1, min_reading_seconds=30
    )
    if with_quiz:
        quiz = Quiz.objects.create(course=course, draw_count=2, time_limit_minutes=10, max_attempts=2, pass_mark=60)
        services.add_question(
            quiz,
            Question.Kind.SINGLE,
            "公共图书馆应向公众免费开放哪些服务？",
            [("基本服务", True), ("全部增值服务", False)],
        )
        services.add_question(
            quiz,
            Question.Kind.MULTIPLE,
            "哪些属于读者权益？",
            [("平等利用", True), ("隐私保护", True), ("无限期借阅", False)],
        )
        services.add_question(quiz, Question.Kind.TRUE_FALSE, "少年儿童应享有专门的服务。", [("正确", True)])
    services.publish_course(course)
    return course


def lessons(course: Course) -> tuple[Lesson, Lesson]:
    video, document = Lesson.objects.filter(chapter__course=course).order_by("position")
    return video, document


def correct_answers(attempt) -> dict[str, list[str]]:
    return {
        str(q.pk): [str(c.pk) for c in q.choices.all() if c.is_correct] for q in services.attempt_questions(attempt)
    }


def trainee(username: str = "trainee_zj") -> User:
    user, _ = User.objects.get_or_create(username=username, defaults={"first_name": "学员"})
    user.set_password("Wenhua-2026")
    user.save()
    return user
