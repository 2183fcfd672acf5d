"""Every write of online training goes through here: enrolment, progress, quizzes, completion, hours.

Honest progress (docs/training.md): the player reports the stretch of video it played since its
last report; the server accepts at most the time that really passed on its own clock since the
last accepted report (and never more than MAX_REPORT_SECONDS at once), merges what it accepts
into the lesson's watched intervals and counts their union. Seeking to the end, a faster clock,
replayed or out-of-order reports therefore add nothing. A video lesson is complete at 90 %.

Hours are credited once: a completed enrollment has at most one `HoursCredit` (a one-to-one), written
under a row lock on the enrollment in the transaction that completes it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import random
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext_lazy

from core.chinese import parse_query, query_in_page_script, segment
from core.chinese import tsquery as chinese_tsquery

from .models import (
    Assignment,
    Chapter,
    Choice,
    Course,
    Enrollment,
    HoursCredit,
    Lesson,
    LessonProgress,
    Question,
    Quiz,
    QuizAttempt,
    TrainingGroup,
    TrainingSettings,
)

COMPLETE_FRACTION = 0.9
MAX_REPORT_SECONDS = 15  # the player reports every 10 s; one report never credits more than this
SUBMIT_GRACE_SECONDS = 5  # network delay allowed on a quiz submitted at the last second


# --- Permissions ------------------------------------------------------------------------------------


def can_manage(user) -> bool:
    """培训管理员, site admins and superusers (the permission is per tenant, roles.services grants it)."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_perm("training.manage_training")))


def _require_manager(user) -> None:
    if not can_manage(user):
        raise PermissionDenied("只有培训管理员可以进行此操作。")


# --- Courses ------------------------------------------------------------------------------------------


def course_search_text(course, lesson_titles) -> str:
    """What the catalogue search matches: title, summary, teacher, category, origin and lesson
    titles, segmented like the site search (core.chinese.segment: jieba words and bigrams)."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):  # the category as people search for it
        category = course.get_category_display()
    parts = [course.title, course.summary, course.teacher, category, course.origin_name]
    return segment("\n".join(p for p in [*parts, *lesson_titles] if p))


def index_course(course: Course) -> None:
    titles = Lesson.objects.filter(chapter__course=course).values_list("title", flat=True) if course.pk else []
    course.search_text = course_search_text(course, titles)


def reindex_courses(course_model=Course, lesson_model=Lesson) -> int:
    """Segment every course's search text again (after core.chinese changed: the data migration
    0003 and tenants.services.refresh_search_indexes, through CULTURE_SEARCH_REINDEXERS)."""
    titles: dict[int, list[str]] = {}
    for course_id, title in lesson_model.objects.order_by("chapter__position", "position", "pk").values_list(
        "chapter__course_id", "title"
    ):
        titles.setdefault(course_id, []).append(title)
    count = 0
    for course in course_model.objects.iterator(chunk_size=500):
        text = course_search_text(course, titles.get(course.pk, []))
        if text != course.search_text:
            course_model.objects.filter(pk=course.pk).update(search_text=text)
            count += 1
    return count


def save_course(course: Course) -> Course:
    """Save a course (and its search text); publishing stamps published_at once."""
    if course.status == Course.Status.PUBLISHED and course.published_at is None:
        course.published_at = timezone.now()
    index_course(course)
    course.save()
    return course


def publish_course(course: Course) -> Course:
    course.status = Course.Status.PUBLISHED
    course = save_course(course)
    _course_changed(course)
    return course


def withdraw_course(course: Course) -> Course:
    course.status = Course.Status.WITHDRAWN
    course = save_course(course)
    _course_changed(course)
    return course


def _course_changed(course: Course) -> None:
    """A national course's change goes to the federation feed (training.federation_kind)."""
    from .federation_kind import course_changed

    course_changed(course)


def after_admin_save(instance, *, by) -> None:
    """What follows an edit in the Wagtail admin (training.wagtail_hooks): the course's search
    text and published_at, the national feed; a group's new members are enrolled in its courses."""
    if isinstance(instance, TrainingGroup):
        for assignment in instance.assignments.select_related("course"):
            _enrol_group(assignment)
        return
    course = {
        Course: lambda: instance,
        Chapter: lambda: instance.course,
        Quiz: lambda: instance.course,
        Question: lambda: instance.quiz.course,
    }[type(instance)]()
    course.refresh_from_db()
    save_course(course)
    _course_changed(course)


def site_people():
    """People of this site: those with a role here (roles.Membership, in this tenant's schema)."""
    from roles.models import Membership

    return get_user_model().objects.filter(pk__in=Membership.objects.values("user_id"), is_active=True)


def add_chapter(course: Course, title: str) -> Chapter:
    position = course.chapters.count()
    return Chapter.objects.create(course=course, title=title, position=position)


def add_question(quiz: Quiz, kind: str, text: str, choices: list[tuple[str, bool]], explanation: str = "") -> Question:
    """A question with its choices; a true/false question gets 正确/错误 (choices: [(“正确”, True)] or similar)."""
    if kind == Question.Kind.TRUE_FALSE:
        answer = any(ok for label, ok in choices if label == "正确") if choices else True
        choices = [("正确", answer), ("错误", not answer)]
    correct = sum(1 for _, ok in choices if ok)
    if len(choices) < 2:
        raise ValidationError({"choices": "至少需要两个选项。"})
    if correct == 0 or (kind != Question.Kind.MULTIPLE and correct != 1):
        raise ValidationError({"choices": "单选题和判断题只能有一个正确答案，多选题至少一个。"})
    question = Question.objects.create(
        quiz=quiz, kind=kind, text=text, explanation=explanation, position=quiz.questions.count()
    )
    Choice.objects.bulk_create(
        Choice(question=question, text=label, is_correct=ok, position=i) for i, (label, ok) in enumerate(choices)
    )
    return question


# --- Catalogue ------------------------------------------------------------------------------------


@dataclass
class CatalogueOutcome:
    query: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    courses: list = field(default_factory=list)
    filtered: bool = False


def search_catalogue(params, *, limit: int = 50) -> CatalogueOutcome:
    """Published courses by tier, audience, category, hours kind and a Chinese query (jieba words,
    PostgreSQL full text search with the `simple` configuration, as the site search)."""
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    outcome = CatalogueOutcome(query=(params.get("q") or "").strip())
    queryset = Course.objects.filter(status=Course.Status.PUBLISHED)
    filters = {
        "tier": (gettext("级别"), Course.Tier),
        "audience": (gettext("对象"), Course.Audience),
        "category": (gettext("分类"), Course.Category),
        "hours_kind": (gettext("学时类型"), Course.HoursKind),
    }
    for name, (label, choices) in filters.items():
        value = params.get(name) or ""
        if not value:
            continue
        if value not in choices.values:
            outcome.errors[name] = gettext("%(label)s：没有这个选项。") % {"label": label}
            continue
        queryset = queryset.filter(**{name: value})
        outcome.filtered = True
    if len(outcome.query) > 100:
        outcome.errors["q"] = gettext("搜索词不能超过 100 个字。")
    # The query side of the site search (core.chinese): each word whole, or as adjacent bigrams.
    words = parse_query(query_in_page_script(outcome.query[:100]))
    if words and "q" not in outcome.errors:
        outcome.filtered = True
        tsquery = SearchQuery(chinese_tsquery(words), config="simple", search_type="raw")
        vector = SearchVector("search_text", config="simple")
        queryset = (
            queryset.annotate(rank=SearchRank(vector, tsquery))
            .filter(rank__gt=0)
            .alias(match=vector)
            .filter(match=tsquery)
            .order_by("-rank", "-published_at")
        )
    outcome.courses = list(queryset[:limit])
    return outcome


# --- Enrolment and assignment --------------------------------------------------------------------


def enrol(user, course: Course, *, source: str = Enrollment.Source.SELF, due_date=None) -> Enrollment:
    """Enrol `user` (idempotent). A person may enrol only in a published course open to enrolment."""
    if not user.is_authenticated:
        raise PermissionDenied("请先登录。")
    existing = Enrollment.objects.filter(course=course, user=user).first()
    if existing:
        if due_date and (existing.due_date is None or due_date < existing.due_date):
            existing.due_date = due_date
            existing.source = source
            existing.save(update_fields=["due_date", "source"])
        return existing
    if course.status != Course.Status.PUBLISHED:
        raise ValidationError(gettext("该课程未发布，不能报名。"))
    if source == Enrollment.Source.SELF and not course.open_enrolment:
        raise ValidationError(gettext("该课程不开放自主报名，请联系培训管理员指派。"))
    enrollment, _ = Enrollment.objects.get_or_create(
        course=course, user=user, defaults={"source": source, "due_date": due_date}
    )
    return enrollment


def assign_course(course: Course, group: TrainingGroup, due_date: datetime.date, *, by) -> Assignment:
    """A 培训管理员 assigns a course to a staff group: every member is enrolled with the due date
    and notified. Re-assigning updates the due date; members added later are enrolled by
    `sync_group_assignments`."""
    _require_manager(by)
    if due_date < timezone.localdate():
        raise ValidationError({"due_date": "截止日期不能早于今天。"})
    if course.status != Course.Status.PUBLISHED:
        raise ValidationError({"course": "只能指派已发布的课程。"})
    with transaction.atomic():
        assignment, created = Assignment.objects.update_or_create(
            course=course, group=group, defaults={"due_date": due_date, "assigned_by": by}
        )
        newly = _enrol_group(assignment)
    _notify(
        newly,
        "training.assigned",
        gettext_lazy("培训任务：{course}"),
        gettext_lazy("培训管理员为您指派了课程《{course}》，请在 {due} 前完成。"),
        course.get_absolute_url(),
        params={"course": course.title, "due": f"{due_date:%Y-%m-%d}"},
    )
    return assignment


def _enrol_group(assignment: Assignment) -> list:
    newly = []
    # The assignment's own message stands for the reminder due now (none right after it).
    reminded = reminder_threshold((assignment.due_date - timezone.localdate()).days)
    for user in assignment.group.members.all():
        enrollment, created = Enrollment.objects.get_or_create(
            course=assignment.course,
            user=user,
            defaults={"source": Enrollment.Source.ASSIGNED, "due_date": assignment.due_date, "reminded_days": reminded},
        )
        if created:
            newly.append(user)
        elif enrollment.due_date != assignment.due_date and enrollment.completed_at is None:
            enrollment.due_date = assignment.due_date
            enrollment.source = Enrollment.Source.ASSIGNED
            enrollment.reminded_days = None  # a new due date: its reminders start again
            enrollment.save(update_fields=["due_date", "source", "reminded_days"])
    return newly


def add_group_member(group: TrainingGroup, user, *, by) -> None:
    _require_manager(by)
    group.members.add(user)
    for assignment in group.assignments.select_related("course"):
        _enrol_group(assignment)


# Reminders this many days before the due date; 0 is the last one, on the due date or once overdue.
REMINDER_DAYS = (7, 3, 1, 0)


def reminder_threshold(days_left: int) -> int | None:
    """The reminder a person with `days_left` should have had by now (None: too early for any)."""
    due = [days for days in REMINDER_DAYS if days_left <= days]
    return min(due) if due else None


def send_due_reminders(today: datetime.date | None = None) -> int:
    """Remind people whose course with a due date is not complete: 7, 3 and 1 days before and on
    the due date (or once overdue). Each person gets each reminder once (`Enrollment.reminded_days`,
    set in the transaction that sends it, rows locked with SKIP LOCKED): the worker runs this
    every minute in every tenant, and a worker that was down catches up with the latest reminder
    only. Returns the number of reminders sent."""
    from notifications.services import Text

    today = today or timezone.localdate()
    sent = 0
    for threshold in REMINDER_DAYS:
        # days_left in (next smaller threshold, threshold]: the reminder due now is this one.
        smaller = [days for days in REMINDER_DAYS if days < threshold]
        window = Q(due_date__lte=today + datetime.timedelta(days=threshold))
        if smaller:
            window &= Q(due_date__gt=today + datetime.timedelta(days=max(smaller)))
        with transaction.atomic():
            due = list(
                Enrollment.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(window, due_date__isnull=False, completed_at__isnull=True)
                .filter(Q(reminded_days__isnull=True) | Q(reminded_days__gt=threshold))
                .filter(course__status=Course.Status.PUBLISHED)
                .select_related("course", "user")
            )
            if not due:
                continue
            Enrollment.objects.filter(pk__in=[e.pk for e in due]).update(reminded_days=threshold)
            for enrollment in due:
                course, days_left = enrollment.course, (enrollment.due_date - today).days
                if days_left > 0:
                    when = Text(ngettext_lazy("还有 {days} 天", "还有 {days} 天", days_left), days=days_left)
                else:
                    when = gettext_lazy("今天截止") if days_left == 0 else gettext_lazy("已逾期")
                _notify(
                    [enrollment.user],
                    "training.reminder",
                    gettext_lazy("培训提醒：{course}"),
                    gettext_lazy("课程《{course}》的截止日期是 {due}（{when}），请尽快完成。"),
                    course.get_absolute_url(),
                    params={"course": course.title, "due": f"{enrollment.due_date:%Y-%m-%d}", "when": when},
                )
            sent += len(due)
    return sent


def _notify(users, kind: str, title, body, link: str, params: dict | None = None) -> None:
    """Through the shared notifications app: 消息 in the personal centre, email, SMS; the lazy
    texts are written in each person's language (docs/languages.md)."""
    from notifications.services import notify

    for user in users:
        notify(user, kind, title, body, link=link, params=params)


# --- Progress --------------------------------------------------------------------------------------


def merge_intervals(intervals: list[list[float]], start: float, end: float) -> list[list[float]]:
    """Union of sorted, disjoint intervals with [start, end], sorted and disjoint again."""
    merged: list[list[float]] = []
    for lo, hi in sorted([*intervals, [start, end]]):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return merged


def covered_seconds(intervals: list[list[float]]) -> float:
    return sum(hi - lo for lo, hi in intervals)


def start_lesson(enrollment: Enrollment, lesson: Lesson, *, now: datetime.datetime | None = None) -> LessonProgress:
    """The player opens a lesson: a new session, and the server clock starts here.

    A report may only claim time that passed since this moment (or its own previous report); a
    second window on the same lesson takes over and the first one's reports are refused.
    """
    if lesson.chapter.course_id != enrollment.course_id:
        raise ValidationError("课时不属于该课程。")
    now = now or timezone.now()
    progress, _ = LessonProgress.objects.get_or_create(
        enrollment=enrollment, lesson=lesson, defaults={"started_at": now, "last_report_at": now}
    )
    progress.session = secrets.token_hex(8)
    progress.last_report_at = now
    progress.last_seq = 0
    LessonProgress.objects.filter(pk=progress.pk).update(session=progress.session, last_report_at=now, last_seq=0)
    return progress


@dataclass
class ProgressOutcome:
    accepted: float  # seconds added to what was watched (0 when nothing new)
    watched_seconds: float
    percent: int
    completed: bool
    status: str = "ok"  # ok | ignored | stale_session
    message: str = ""

    def as_json(self) -> dict:
        return {
            "accepted": round(self.accepted, 1),
            "watched": round(self.watched_seconds, 1),
            "percent": self.percent,
            "completed": self.completed,
            "status": self.status,
            "message": self.message,
        }


def _number(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError({name: f"{name}：必须是数字。"}) from None
    if not math.isfinite(number) or number < 0:
        raise ValidationError({name: f"{name}：必须是不小于 0 的数字。"})
    return number


def record_progress(
    progress_id: int,
    *,
    user,
    session: str,
    seq,
    start,
    end,
    now: datetime.datetime | None = None,
) -> ProgressOutcome:
    """Accept what real time allows of a played stretch [start, end] (seconds of the video).

    Under a row lock on the progress row (two reports at once cannot both spend the same time):
    * a report of another session (another window took over) or with a `seq` not above the last one
      (replayed, duplicated, out of order) changes nothing;
    * the stretch is clipped to the video and to the time that passed on the server since the last
      accepted report (at most MAX_REPORT_SECONDS): seeking ahead or a faster clock earns nothing;
    * the accepted stretch is merged into the watched intervals; re-watching adds nothing.
    """
    try:
        seq = int(seq)
    except (TypeError, ValueError):
        raise ValidationError({"seq": "seq：必须是整数。"}) from None
    start, end = _number(start, "start"), _number(end, "end")
    if end < start:
        raise ValidationError({"end": "end：结束位置不能早于开始位置。"})
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_PROGRESS, [progress_id, user.pk])
            row = cursor.fetchone()
        if row is None:
            raise PermissionDenied("没有这个学习记录。")
        intervals, watched, last_report_at, last_seq, current_session, completed_at, enrollment_id, duration = row
        if isinstance(intervals, str):  # jsonb comes back as text (Django's psycopg2 set-up)
            intervals = json.loads(intervals)
        duration = float(duration)

        def outcome(accepted: float, status: str = "ok", message: str = "") -> ProgressOutcome:
            percent = int(100 * watched / duration) if duration else 0
            return ProgressOutcome(accepted, watched, min(percent, 100), completed_at is not None, status, message)

        if session != current_session:
            return outcome(0, "stale_session", "该课时已在其他窗口打开，本窗口的进度不再记录。")
        if seq <= last_seq:
            return outcome(0, "ignored", "重复或过期的进度报告，未计入。")
        elapsed = max(0.0, (now - last_report_at).total_seconds())
        allowed = min(elapsed, MAX_REPORT_SECONDS)
        start, end = min(start, duration), min(end, duration)
        credited_end = min(end, start + allowed)
        before = watched
        if credited_end > start:
            intervals = merge_intervals(intervals, round(start, 1), round(credited_end, 1))
            watched = round(covered_seconds(intervals), 1)
        newly_complete = completed_at is None and duration > 0 and watched >= COMPLETE_FRACTION * duration
        if newly_complete:
            completed_at = now
        with connection.cursor() as cursor:
            cursor.execute(_UPDATE_PROGRESS, [json.dumps(intervals), watched, now, seq, completed_at, progress_id])
        accepted = watched - before
        message = ""
        if end - start > accepted + 1:
            message = "只计入实际观看的时长。"
        if newly_complete:
            check_completion(Enrollment(pk=enrollment_id), now=now)
        return outcome(accepted, message=message)


# The busiest statements of the platform (every player, every 10 s), written out: built by the ORM
# they cost more CPU than the rest of the report. Only the progress row is locked (`OF p`): the
# lesson row is shared by every trainee of the lesson and must not serialise their reports.
_LOCK_PROGRESS = (
    "SELECT p.intervals, p.watched_seconds, p.last_report_at, p.last_seq, p.session, p.completed_at,"
    " p.enrollment_id, l.duration_seconds"
    f" FROM {LessonProgress._meta.db_table} p"
    f" JOIN {Enrollment._meta.db_table} e ON e.id = p.enrollment_id"
    f" JOIN {Lesson._meta.db_table} l ON l.id = p.lesson_id"
    " WHERE p.id = %s AND e.user_id = %s FOR UPDATE OF p"
)
_UPDATE_PROGRESS = (
    f"UPDATE {LessonProgress._meta.db_table} SET intervals = %s::jsonb, watched_seconds = %s,"
    " last_report_at = %s, last_seq = %s, completed_at = %s WHERE id = %s"
)


def mark_lesson_read(enrollment: Enrollment, lesson: Lesson, *, now: datetime.datetime | None = None) -> LessonProgress:
    """A document or text lesson is done once it was open for at least its reading time."""
    if lesson.kind == Lesson.Kind.VIDEO:
        raise ValidationError("视频课时按实际观看时长计算，不能直接标记学完。")
    now = now or timezone.now()
    with transaction.atomic():
        progress = LessonProgress.objects.select_for_update().filter(enrollment=enrollment, lesson=lesson).first()
        if progress is None:
            raise ValidationError("请先打开课时再标记学完。")
        waited = (now - progress.started_at).total_seconds()
        if waited < lesson.min_reading_seconds:
            raise ValidationError(
                f"请至少阅读 {lesson.min_reading_seconds} 秒后再标记学完（还差 {math.ceil(lesson.min_reading_seconds - waited)} 秒）。"
            )
        if progress.completed_at is None:
            progress.completed_at = now
            progress.save(update_fields=["completed_at"])
            check_completion(enrollment, now=now)
    return progress


# --- Quizzes ----------------------------------------------------------------------------------------


def open_attempt(enrollment: Enrollment) -> QuizAttempt | None:
    now = timezone.now()
    attempt = QuizAttempt.objects.filter(enrollment=enrollment, submitted_at__isnull=True).order_by("-number").first()
    if attempt and attempt.deadline and now > attempt.deadline + datetime.timedelta(seconds=SUBMIT_GRACE_SECONDS):
        _close_expired(attempt, now)
        return None
    return attempt


def _close_expired(attempt: QuizAttempt, now) -> None:
    QuizAttempt.objects.filter(pk=attempt.pk, submitted_at__isnull=True).update(
        submitted_at=now, score=0, passed=False, feedback=[]
    )


def start_attempt(enrollment: Enrollment, *, now: datetime.datetime | None = None, rng=None) -> QuizAttempt:
    """Draw this attempt's questions from the bank. An unfinished attempt in time is resumed."""
    now = now or timezone.now()
    quiz = Quiz.objects.filter(course_id=enrollment.course_id).first()
    if quiz is None:
        raise ValidationError("该课程没有测验。")
    with transaction.atomic():
        Enrollment.objects.select_for_update().filter(pk=enrollment.pk).first()
        attempts = list(QuizAttempt.objects.filter(enrollment=enrollment, quiz=quiz).order_by("number"))
        for attempt in attempts:
            if attempt.submitted_at is None:
                if attempt.deadline is None or now <= attempt.deadline:
                    return attempt
                _close_expired(attempt, now)
        if any(a.passed for a in attempts):
            raise ValidationError("您已通过该测验。")
        if quiz.max_attempts and len(attempts) >= quiz.max_attempts:
            raise ValidationError(f"已用完全部 {quiz.max_attempts} 次作答机会。")
        bank = list(quiz.questions.values_list("pk", flat=True))
        if not bank:
            raise ValidationError("题库中还没有题目。")
        count = min(quiz.draw_count or len(bank), len(bank))
        drawn = (rng or random.SystemRandom()).sample(bank, count)
        deadline = now + datetime.timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None
        return QuizAttempt.objects.create(
            enrollment=enrollment,
            quiz=quiz,
            number=len(attempts) + 1,
            question_ids=drawn,
            started_at=now,
            deadline=deadline,
        )


def attempt_questions(attempt: QuizAttempt) -> list[Question]:
    """The drawn questions in the order drawn, with their choices (never which are correct, in views)."""
    questions = {q.pk: q for q in Question.objects.filter(pk__in=attempt.question_ids).prefetch_related("choices")}
    return [questions[pk] for pk in attempt.question_ids if pk in questions]


def submit_attempt(
    attempt_id: int, answers: dict[str, list[str]], *, user, now: datetime.datetime | None = None
) -> QuizAttempt:
    """Grade on the server. `answers` maps question id → chosen choice ids (strings, as a form sends).

    Late (past the time limit) → the attempt is closed with 0 points. A question or choice that is
    not part of this draw (tampered ids) → refused, nothing recorded, the attempt stays open.
    """
    now = now or timezone.now()
    with transaction.atomic():
        attempt = (
            QuizAttempt.objects.select_for_update()
            .select_related("quiz", "enrollment")
            .filter(pk=attempt_id, enrollment__user=user)
            .first()
        )
        if attempt is None:
            raise PermissionDenied("没有这次作答。")
        if attempt.submitted_at is not None:
            raise ValidationError("本次作答已经提交过，不能再次提交。")
        late = bool(attempt.deadline and now > attempt.deadline + datetime.timedelta(seconds=SUBMIT_GRACE_SECONDS))
        if late:  # the attempt is closed with nothing counted (and stays closed: raised after commit)
            attempt.submitted_at, attempt.score, attempt.passed, attempt.feedback = now, 0, False, []
            attempt.save(update_fields=["submitted_at", "score", "passed", "feedback"])
        else:
            _grade(attempt, answers, now)
    if late:
        raise ValidationError("已超过作答时限，本次作答不计分。")
    return attempt


def _grade(attempt: QuizAttempt, answers: dict[str, list[str]], now: datetime.datetime) -> None:
    questions = attempt_questions(attempt)
    by_id = {str(q.pk): q for q in questions}
    for qid, chosen in answers.items():
        question = by_id.get(str(qid))
        if question is None:
            raise ValidationError("提交的题目不属于本次作答，未计分。")
        valid = {str(c.pk) for c in question.choices.all()}
        if not set(map(str, chosen)) <= valid:
            raise ValidationError(f"第 {questions.index(question) + 1} 题的选项无效，未计分。")
        if question.kind != Question.Kind.MULTIPLE and len(set(chosen)) > 1:
            raise ValidationError(f"第 {questions.index(question) + 1} 题只能选一个答案。")
    feedback, right = [], 0
    for number, question in enumerate(questions, 1):
        chosen = {str(c) for c in answers.get(str(question.pk), [])}
        correct = {str(c.pk) for c in question.choices.all() if c.is_correct}
        ok = chosen == correct
        right += ok
        feedback.append(
            {
                "number": number,
                "question": question.text,
                "kind": question.get_kind_display(),
                "correct": ok,
                "chosen": [c.text for c in question.choices.all() if str(c.pk) in chosen],
                "answer": [c.text for c in question.choices.all() if c.is_correct],
                "explanation": question.explanation,
            }
        )
    attempt.answers = {str(k): sorted(map(str, v)) for k, v in answers.items()}
    attempt.score = round(100 * right / len(questions)) if questions else 0
    attempt.passed = attempt.score >= attempt.quiz.pass_mark
    attempt.feedback = feedback
    attempt.submitted_at = now
    attempt.save(update_fields=["answers", "score", "passed", "feedback", "submitted_at"])
    if attempt.passed:
        check_completion(attempt.enrollment, now=now)


# --- Completion, hours and certificates ---------------------------------------------------------------


@dataclass
class CourseState:
    lessons_total: int
    lessons_done: int
    has_quiz: bool
    quiz_passed: bool

    @property
    def percent(self) -> int:
        return int(100 * self.lessons_done / self.lessons_total) if self.lessons_total else 100


def course_state(enrollment: Enrollment) -> CourseState:
    total = Lesson.objects.filter(chapter__course_id=enrollment.course_id).count()
    done = LessonProgress.objects.filter(
        enrollment=enrollment, completed_at__isnull=False, lesson__chapter__course_id=enrollment.course_id
    ).count()
    has_quiz = Quiz.objects.filter(course_id=enrollment.course_id).exists()
    passed = QuizAttempt.objects.filter(enrollment=enrollment, passed=True).exists()
    return CourseState(total, done, has_quiz, passed)


def rule_satisfied(rule: str, state: CourseState) -> bool:
    lessons = state.lessons_done >= state.lessons_total
    quiz = state.quiz_passed or not state.has_quiz
    if rule == Course.CompletionRule.LESSONS:
        return lessons
    if rule == Course.CompletionRule.QUIZ:
        return quiz if state.has_quiz else lessons
    return lessons and quiz


def check_completion(enrollment: Enrollment, *, now: datetime.datetime | None = None) -> bool:
    """Complete the enrollment when its course's rule is met: hours credited once, a certificate."""
    now = now or timezone.now()
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().select_related("course").get(pk=enrollment.pk)
        if enrollment.completed_at is not None:
            return True
        course = enrollment.course
        if not rule_satisfied(course.completion_rule, course_state(enrollment)):
            return False
        enrollment.completed_at = now
        enrollment.save(update_fields=["completed_at"])
        credit = credit_course_hours(enrollment)
        _issue_certificate(enrollment, credit)
    return True


def credit_course_hours(enrollment: Enrollment) -> HoursCredit:
    """The course's hours for the year it was completed in (the site's time zone), once."""
    course = enrollment.course
    day = timezone.localtime(enrollment.completed_at).date()
    credit, _ = HoursCredit.objects.get_or_create(
        enrollment=enrollment,
        defaults={
            "user_id": enrollment.user_id,
            "year": day.year,
            "earned_on": day,
            "hours": course.credit_hours,
            "kind": course.hours_kind,
            "source": HoursCredit.Source.COURSE,
            "title": course.title,
            "provider": course.origin_name or _site_name(),
        },
    )
    return credit


def _site_name() -> str:
    from django.db import connection
    from django_tenants.utils import get_tenant_model

    site = get_tenant_model().objects.filter(schema_name=connection.schema_name).first()
    return site.name if site else ""


def _issue_certificate(enrollment: Enrollment, credit: HoursCredit) -> None:
    """培训结业证书 through the shared certificates app (PDF, verification code, QR, /verify/)."""
    from certificates import services as certificates

    course, user = enrollment.course, enrollment.user
    completed = timezone.localtime(enrollment.completed_at).date()
    certificate = certificates.issue_certificate(
        kind="training",
        holder=user,
        holder_name=user.real_name or user.first_name or user.username,
        title="培训结业证书",
        lines=[
            ("课程", course.title),
            ("学时", f"{course.credit_hours} 学时（{course.get_hours_kind_display()}）"),
            ("完成日期", completed.isoformat()),
            *([("课程来源", course.origin_name)] if course.origin_name else []),
        ],
        reference=f"training.Enrollment:{enrollment.pk}",
    )
    HoursCredit.objects.filter(pk=credit.pk).update(certificate_code=certificate.code)
    credit.certificate_code = certificate.code


# --- Hours reports ------------------------------------------------------------------------------------


@dataclass
class YearSummary:
    year: int
    general: Decimal
    specialist: Decimal
    target: Decimal
    specialist_target: Decimal

    @property
    def total(self) -> Decimal:
        return self.general + self.specialist

    @property
    def met(self) -> bool:
        return self.total >= self.target and self.specialist >= self.specialist_target

    @property
    def percent(self) -> int:
        return min(100, int(100 * self.total / self.target)) if self.target else 100


_SUMS = {
    "general": Sum("hours", filter=Q(kind=Course.HoursKind.GENERAL), default=Decimal("0")),
    "specialist": Sum("hours", filter=Q(kind=Course.HoursKind.SPECIALIST), default=Decimal("0")),
}


def year_summary(user, year: int, settings: TrainingSettings | None = None) -> YearSummary:
    settings = settings or TrainingSettings.current()
    sums = HoursCredit.objects.filter(user=user, year=year).aggregate(**_SUMS)
    return YearSummary(
        year, sums["general"], sums["specialist"], settings.yearly_target_hours, settings.specialist_target_hours
    )


@dataclass
class ReportRow:
    user_id: int
    username: str
    name: str
    groups: str
    summary: YearSummary


def _report_sql(group: TrainingGroup | None) -> tuple[str, str, list]:
    """The per-person sums of one year (a CTE), the people of the report and its parameters."""
    credit = HoursCredit._meta.db_table
    members = TrainingGroup.members.through._meta.db_table
    sums = f"""
        SELECT user_id,
               COALESCE(SUM(hours) FILTER (WHERE kind = %s), 0) AS general,
               COALESCE(SUM(hours) FILTER (WHERE kind = %s), 0) AS specialist
        FROM {credit} WHERE year = %s GROUP BY user_id"""
    params = [Course.HoursKind.GENERAL, Course.HoursKind.SPECIALIST]
    if group is None:
        people = f"SELECT user_id FROM sums UNION SELECT user_id FROM {members}"
        return sums, people, params
    people = f"SELECT user_id FROM {members} WHERE traininggroup_id = %s"
    return sums, people, [*params, group.pk]


def yearly_report(year: int, *, group: TrainingGroup | None = None) -> list[ReportRow]:
    """Everyone with hours this year or in a staff group (or the members of `group`), with their
    公需/专业 hours against the site's target: the settings, then one SQL query that sums in the
    database (bench/training.py: 10,000 people)."""
    from django.db import connection

    settings = TrainingSettings.current()
    User = get_user_model()
    sums, people, params = _report_sql(group)
    members = TrainingGroup.members.through._meta.db_table
    groups = TrainingGroup._meta.db_table
    sql = f"""
        WITH sums AS ({sums}), people AS ({people}),
             names AS (SELECT m.user_id, string_agg(g.name, '、' ORDER BY g.name) AS names
                       FROM {members} m JOIN {groups} g ON g.id = m.traininggroup_id GROUP BY m.user_id)
        SELECT u.id, u.username, u.first_name, COALESCE(s.general, 0), COALESCE(s.specialist, 0),
               COALESCE(n.names, '')
        FROM people p
        JOIN {User._meta.db_table} u ON u.id = p.user_id
        LEFT JOIN sums s ON s.user_id = p.user_id
        LEFT JOIN names n ON n.user_id = p.user_id
        ORDER BY u.username"""
    target, specialist_target = settings.yearly_target_hours, settings.specialist_target_hours
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params[:2], year, *params[2:]])
        return [
            ReportRow(
                pk, username, name, group_names, YearSummary(year, general, specialist, target, specialist_target)
            )
            for pk, username, name, general, specialist, group_names in cursor.fetchall()
        ]


def group_report(year: int) -> list[dict]:
    """Per staff group: members, members who met the target, hours in total (one SQL query)."""
    from django.db import connection

    settings = TrainingSettings.current()
    sums, _, params = _report_sql(None)
    members = TrainingGroup.members.through._meta.db_table
    target, specialist_target = settings.yearly_target_hours, settings.specialist_target_hours
    sql = f"""
        WITH sums AS ({sums})
        SELECT g.id, COUNT(m.user_id),
               COUNT(m.user_id) FILTER (WHERE COALESCE(s.general, 0) + COALESCE(s.specialist, 0) >= %s
                                        AND COALESCE(s.specialist, 0) >= %s),
               COALESCE(SUM(s.general), 0), COALESCE(SUM(s.specialist), 0)
        FROM {TrainingGroup._meta.db_table} g
        LEFT JOIN {members} m ON m.traininggroup_id = g.id
        LEFT JOIN sums s ON s.user_id = m.user_id
        GROUP BY g.id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, year, target, specialist_target])
        figures = {row[0]: row[1:] for row in cursor.fetchall()}
    rows = []
    for group in TrainingGroup.objects.order_by("name"):
        size, met, general, specialist = figures.get(group.pk, (0, 0, Decimal("0"), Decimal("0")))
        rows.append(
            {
                "group": group,
                "members": size,
                "met": met,
                "general": general,
                "specialist": specialist,
                "target": target,
            }
        )
    return rows


def export_report_xlsx(year: int, *, group: TrainingGroup | None = None) -> bytes:
    """The yearly report as an Excel workbook (core.xlsx: written directly, 10,000 rows well
    under a second; text cells are never formulas)."""
    from core.xlsx import workbook

    header = ["用户名", "姓名", "分组", "公需学时", "专业学时", "合计", "年度目标", "专业目标", "是否达标"]
    rows = (
        [
            row.username,
            row.name,
            row.groups,
            row.summary.general,
            row.summary.specialist,
            row.summary.total,
            row.summary.target,
            row.summary.specialist_target,
            "达标" if row.summary.met else "未达标",
        ]
        for row in yearly_report(year, group=group)
    )
    return workbook(f"{year}年学时", header, rows, widths=[16, 12, 20, 10, 10, 10, 10, 10, 8])


# --- Offline hours import --------------------------------------------------------------------------

IMPORT_COLUMNS = {"账号": "account", "培训名称": "title", "日期": "date", "学时": "hours", "学时类型": "kind"}
OPTIONAL_COLUMNS = {"主办单位": "provider", "姓名": "name"}
KIND_NAMES = {"公需": Course.HoursKind.GENERAL, "专业": Course.HoursKind.SPECIALIST}
MAX_IMPORT_ROWS = 5000


@dataclass
class ImportResult:
    created: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)


def _read_rows(filename: str, content: bytes) -> list[list]:
    import csv
    import io

    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - any broken workbook is the same message to the person
            raise ValidationError({"file": "文件：无法读取该 Excel 文件（请使用 .xlsx 格式）。"}) from None
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True, max_row=MAX_IMPORT_ROWS + 1)]
    if name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ValidationError({"file": "文件：无法识别 CSV 文件的编码（请使用 UTF-8）。"})
        return list(csv.reader(io.StringIO(text)))[: MAX_IMPORT_ROWS + 1]
    raise ValidationError({"file": "文件：只支持 .xlsx 或 .csv 文件。"})


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _find_account(identifier: str):
    from accounts.personal_data import normalize_mobile
    from accounts.services import find_user_by_mobile

    users = get_user_model().objects
    try:
        mobile = normalize_mobile(identifier)
    except ValidationError:
        return users.filter(username=identifier, is_active=True).first()
    return find_user_by_mobile(mobile) or users.filter(username=identifier, is_active=True).first()


def import_offline_hours(filename: str, content: bytes, *, by) -> ImportResult:
    """Import offline training hours row by row: valid rows are kept, each rejected row is listed
    with its reason, and a row already imported (same person, date, training, hours, type) counts
    nothing twice — importing the same file again adds nothing."""
    from .models import HoursImport

    _require_manager(by)
    rows = _read_rows(filename, content)
    if not rows:
        raise ValidationError({"file": "文件：是空的。"})
    header = [_cell(h) for h in rows[0]]
    missing = [name for name in IMPORT_COLUMNS if name not in header]
    if missing:
        raise ValidationError({"file": f"文件：缺少列 {'、'.join(missing)}（需要：{'、'.join(IMPORT_COLUMNS)}）。"})
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationError({"file": f"文件：一次最多导入 {MAX_IMPORT_ROWS} 行。"})
    index = {key: header.index(name) for name, key in (IMPORT_COLUMNS | OPTIONAL_COLUMNS).items() if name in header}
    result = ImportResult()
    today = timezone.localdate()
    with transaction.atomic():
        for number, raw in enumerate(rows[1:], start=2):
            values = {key: _cell(raw[i]) if i < len(raw) else "" for key, i in index.items()}
            if not any(values.values()):
                continue
            try:
                fields = _validate_import_row(values, today)
            except ValidationError as exc:
                result.rejected.append({"row": number, "reason": "；".join(exc.messages)})
                continue
            key = hashlib.sha256(
                f"{fields['user'].pk}|{fields['earned_on']}|{fields['title']}|{fields['hours']}|{fields['kind']}".encode()
            ).hexdigest()
            _, created = HoursCredit.objects.get_or_create(
                import_key=key,
                defaults=fields | {"year": fields["earned_on"].year, "source": HoursCredit.Source.OFFLINE},
            )
            if created:
                result.created += 1
            else:
                result.duplicates += 1
        HoursImport.objects.create(
            filename=filename[:200],
            imported_by=by,
            created_count=result.created,
            duplicate_count=result.duplicates,
            rejected=result.rejected,
        )
    return result


def _validate_import_row(values: dict, today: datetime.date) -> dict:
    problems = []
    user = None
    if not values.get("account"):
        problems.append("账号：不能为空")
    else:
        user = _find_account(values["account"])
        if user is None:
            problems.append(f"账号：找不到“{values['account'][:30]}”")
    title = values.get("title", "")
    if not title:
        problems.append("培训名称：不能为空")
    elif len(title) > 200:
        problems.append("培训名称：不能超过 200 字")
    earned_on = None
    try:
        earned_on = datetime.date.fromisoformat(values.get("date", "").replace("/", "-"))
    except ValueError:
        problems.append("日期：格式应为 YYYY-MM-DD")
    if earned_on and earned_on > today:
        problems.append("日期：不能晚于今天")
    hours = None
    try:
        hours = Decimal(values.get("hours", ""))
        if not hours.is_finite() or hours <= 0 or hours > 200 or hours != hours.quantize(Decimal("0.1")):
            raise ArithmeticError
    except (ArithmeticError, ValueError):
        hours = None
        problems.append("学时：应为 0.1 到 200 之间的数字，最多一位小数")
    kind = KIND_NAMES.get(values.get("kind", ""))
    if kind is None:
        problems.append("学时类型：只能是“公需”或“专业”")
    if problems:
        raise ValidationError(problems)
    return {
        "user": user,
        "earned_on": earned_on,
        "title": title,
        "hours": hours.quantize(Decimal("0.1")),
        "kind": kind,
        "provider": values.get("provider", "")[:100],
    }


# --- My learning ----------------------------------------------------------------------------------


def my_learning(user, year: int | None = None) -> dict:
    year = year or timezone.localdate().year
    enrollments = list(Enrollment.objects.filter(user=user).select_related("course").order_by("-enrolled_at"))
    items = [(e, course_state(e)) for e in enrollments]
    credits = list(HoursCredit.objects.filter(user=user).order_by("-earned_on", "-pk"))
    return {
        "year": year,
        "items": items,
        "summary": year_summary(user, year),
        "credits": credits,
        "certificates": [c for c in credits if c.certificate_code],
    }
