"""Thin views of online training: they read, call training.services, and render."""

from __future__ import annotations

import datetime
import mimetypes
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from . import player_reports, services
from .models import Course, Enrollment, Lesson, LessonProgress, QuizAttempt, TrainingGroup


def _errors(exc: ValidationError) -> list[str]:
    return exc.messages


def catalogue(request):
    outcome = services.search_catalogue(request.GET)
    return render(
        request,
        "training/catalogue.html",
        {
            "outcome": outcome,
            "params": request.GET,
            "tiers": Course.Tier.choices,
            "audiences": Course.Audience.choices,
            "categories": Course.Category.choices,
            "hours_kinds": Course.HoursKind.choices,
        },
        status=400 if outcome.errors else 200,
    )


def _published(course_id: int) -> Course:
    return get_object_or_404(Course, pk=course_id, status=Course.Status.PUBLISHED)


def _enrollment(request, course: Course) -> Enrollment | None:
    if not request.user.is_authenticated:
        return None
    return Enrollment.objects.filter(course=course, user=request.user).first()


def course_detail(request, course_id: int):
    course = _published(course_id)
    enrollment = _enrollment(request, course)
    chapters = list(course.chapters.prefetch_related("lessons"))
    done = set()
    watched = {}
    if enrollment:
        for lesson_id, completed_at, seconds in LessonProgress.objects.filter(enrollment=enrollment).values_list(
            "lesson_id", "completed_at", "watched_seconds"
        ):
            watched[lesson_id] = seconds
            if completed_at:
                done.add(lesson_id)
    credit = getattr(enrollment, "credit", None) if enrollment and enrollment.completed_at else None
    return render(
        request,
        "training/course.html",
        {
            "course": course,
            "chapters": chapters,
            "enrollment": enrollment,
            "state": services.course_state(enrollment) if enrollment else None,
            "done": done,
            "quiz": getattr(course, "quiz", None) if hasattr(course, "quiz") else None,
            "credit": credit,
        },
    )


@require_POST
def enrol(request, course_id: int):
    course = _published(course_id)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={course.page_url}")
    try:
        services.enrol(request.user, course)
    except ValidationError as exc:
        messages.error(request, "；".join(_errors(exc)))
    else:
        messages.success(request, _("报名成功，开始学习吧。"))
    return redirect(course.page_url)


def _lesson_for(request, course_id: int, lesson_id: int) -> tuple[Course, Lesson, Enrollment]:
    course = _published(course_id)
    lesson = get_object_or_404(
        Lesson.objects.select_related("chapter", "video", "captions", "document"), pk=lesson_id, chapter__course=course
    )
    enrollment = _enrollment(request, course)
    if enrollment is None:
        raise PermissionDenied(_("请先报名该课程。"))
    return course, lesson, enrollment


@login_required
def lesson(request, course_id: int, lesson_id: int):
    try:
        course, lesson, enrollment = _lesson_for(request, course_id, lesson_id)
    except PermissionDenied:
        messages.error(request, _("请先报名该课程再学习。"))
        return redirect("training_course", course_id)
    progress = services.start_lesson(enrollment, lesson)
    lessons = list(Lesson.objects.filter(chapter__course=course).only("pk", "title"))
    index = next(i for i, item in enumerate(lessons) if item.pk == lesson.pk)
    return render(
        request,
        "training/lesson.html",
        {
            "course": course,
            "lesson": lesson,
            "progress": progress,
            "percent": int(100 * progress.watched_seconds / lesson.duration_seconds) if lesson.duration_seconds else 0,
            "previous": lessons[index - 1] if index else None,
            "next": lessons[index + 1] if index + 1 < len(lessons) else None,
            "player": {
                "progressUrl": reverse("training_progress", args=[progress.pk]),
                "session": progress.session,
                "interval": 10,
                # What the player writes on the page, in the page's language.
                "text": {
                    "watched": _("已观看 %(percent)s%%"),
                    "completed": _("，本课时已完成"),
                    "noHls": _("此浏览器不支持直接播放 HLS 视频，请使用手机浏览器或 Safari 打开。"),
                    "offline": _("进度暂未保存（网络问题），稍后会继续记录。"),
                },
            },
        },
    )


def _lesson_file(request, course_id: int, lesson_id: int, field: str):
    """The lesson's document in `field` ("document", "video") for an enrolled person, else 404."""
    try:
        _, lesson, _ = _lesson_for(request, course_id, lesson_id)
    except PermissionDenied:
        raise Http404 from None
    document = getattr(lesson, field)
    if document is None:
        raise Http404
    return document


@login_required
@xframe_options_sameorigin
def lesson_document(request, course_id: int, lesson_id: int):
    """The lesson's PDF, inline, for the in-page viewer (enrolled people only, same origin frames)."""
    document = _lesson_file(request, course_id, lesson_id, "document")
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type="application/pdf")
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 64 * 1024


@login_required
def lesson_video(request, course_id: int, lesson_id: int):
    """The lesson's uploaded video for enrolled people, with byte ranges (HTTP 206): without them
    browsers cannot seek in the video (Wagtail's document view sends whole files only)."""
    video = _lesson_file(request, course_id, lesson_id, "video")
    try:
        handle = video.file.open("rb")
        size = video.file.size
    except (FileNotFoundError, OSError):
        raise Http404 from None
    content_type = mimetypes.guess_type(video.file.name)[0] or "video/mp4"
    start, end, status = 0, size - 1, 200
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match and (match[1] or match[2]):
        if match[1]:
            start, end = int(match[1]), min(int(match[2]) if match[2] else size - 1, size - 1)
        else:  # the last N bytes
            start = max(0, size - int(match[2]))
        if start > end or start >= size:
            handle.close()
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        status = 206

    def chunks():
        with handle:
            handle.seek(start)
            left = end - start + 1
            while left > 0:
                data = handle.read(min(_CHUNK, left))
                if not data:
                    break
                left -= len(data)
                yield data

    response = StreamingHttpResponse(chunks(), status=status, content_type=content_type)
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


@require_POST
@transaction.non_atomic_requests  # record_progress is the transaction: no savepoint inside another
def progress_report(request, progress_id: int):
    """The player's report: JSON {session, seq, start, end} → what was counted (JSON).

    Ordinary reports are answered before Django by training.player_reports (the same `answer`);
    this view answers the rest (not signed in, and any report that reaches Django directly)."""
    if not request.user.is_authenticated:
        status, payload = player_reports.not_signed_in()
    else:
        status, payload = player_reports.answer(progress_id, request.user, request.body)
    return JsonResponse(payload, status=status)


@require_POST
@login_required
def lesson_done(request, course_id: int, lesson_id: int):
    try:
        course, lesson, enrollment = _lesson_for(request, course_id, lesson_id)
        services.mark_lesson_read(enrollment, lesson)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, "；".join(_errors(exc)))
        return redirect("training_lesson", course_id, lesson_id)
    messages.success(request, _("“%(title)s”已学完。") % {"title": lesson.title})
    return redirect(course.page_url)


@login_required
def quiz(request, course_id: int):
    course = _published(course_id)
    enrollment = _enrollment(request, course)
    quiz = getattr(course, "quiz", None) if hasattr(course, "quiz") else None
    if enrollment is None or quiz is None:
        raise Http404
    if request.method == "POST":
        try:
            attempt = services.start_attempt(enrollment)
        except ValidationError as exc:
            messages.error(request, "；".join(_errors(exc)))
            return redirect("training_quiz", course.pk)
        return redirect("training_attempt", attempt.pk)
    attempts = list(QuizAttempt.objects.filter(enrollment=enrollment).order_by("number"))
    return render(
        request,
        "training/quiz.html",
        {"course": course, "quiz": quiz, "attempts": attempts, "open": services.open_attempt(enrollment)},
    )


@login_required
def attempt(request, attempt_id: int):
    attempt = get_object_or_404(
        QuizAttempt.objects.select_related("quiz", "enrollment__course"), pk=attempt_id, enrollment__user=request.user
    )
    course = attempt.enrollment.course
    error = ""
    status = 200
    if request.method == "POST":
        answers = {}
        for key in request.POST:
            if key.startswith("q"):
                answers[key[1:]] = request.POST.getlist(key)
        try:
            attempt = services.submit_attempt(attempt.pk, answers, user=request.user)
        except ValidationError as exc:
            error, status = "；".join(_errors(exc)), 400
            attempt.refresh_from_db()
        else:
            return redirect("training_attempt", attempt.pk)
    return render(
        request,
        "training/attempt.html",
        {
            "attempt": attempt,
            "course": course,
            "questions": services.attempt_questions(attempt) if attempt.submitted_at is None else [],
            "error": error,
            "enrollment": attempt.enrollment,
        },
        status=status,
    )


@login_required
def my_learning(request):
    year = timezone.localdate().year
    return render(request, "training/my_learning.html", services.my_learning(request.user, year))


# --- Training manager (培训管理员) -----------------------------------------------------------------------


def _manager(request) -> None:
    if not services.can_manage(request.user):
        raise PermissionDenied


def _year(request) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return max(2000, min(year, 2100))


@login_required
def manage(request):
    _manager(request)
    error = {}
    if request.method == "POST":
        course = Course.objects.filter(pk=request.POST.get("course") or 0, status=Course.Status.PUBLISHED).first()
        group = TrainingGroup.objects.filter(pk=request.POST.get("group") or 0).first()
        try:
            due = datetime.date.fromisoformat(request.POST.get("due_date", ""))
        except ValueError:
            due = None
        if course is None:
            error["course"] = "课程：请选择一门已发布的课程。"
        if group is None:
            error["group"] = "学员分组：请选择一个分组。"
        if due is None:
            error["due_date"] = "截止日期：格式应为 YYYY-MM-DD。"
        if not error:
            try:
                services.assign_course(course, group, due, by=request.user)
            except ValidationError as exc:
                error.update({k: "；".join(v) for k, v in exc.message_dict.items()})
            else:
                messages.success(request, f"已将《{course.title}》指派给“{group.name}”，截止 {due:%Y-%m-%d}。")
                return redirect("/training/manage/")
    from .models import Assignment

    return render(
        request,
        "training/manage.html",
        {
            "courses": Course.objects.filter(status=Course.Status.PUBLISHED).order_by("title"),
            "groups": TrainingGroup.objects.all(),
            "assignments": Assignment.objects.select_related("course", "group").order_by("due_date"),
            "error": error,
            "form": request.POST,
        },
        status=400 if error else 200,
    )


@login_required
def report(request):
    _manager(request)
    year = _year(request)
    group = TrainingGroup.objects.filter(pk=request.GET.get("group") or 0).first()
    if request.GET.get("format") == "xlsx":
        content = services.export_report_xlsx(year, group=group)
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="training-hours-{year}.xlsx"'
        return response
    from django.core.paginator import Paginator

    # The page shows REPORT_PAGE_SIZE people at a time; the Excel export has everyone.
    rows = Paginator(services.yearly_report(year, group=group), REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "training/report.html",
        {
            "year": year,
            "group": group,
            "groups": TrainingGroup.objects.all(),
            "rows": rows,
            "group_rows": services.group_report(year) if group is None else [],
        },
    )


REPORT_PAGE_SIZE = 200


@login_required
def import_hours(request):
    _manager(request)
    result, error = None, ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "文件：请选择要导入的 Excel 或 CSV 文件。"
        elif upload.size > 5 * 1024 * 1024:
            error = "文件：不能超过 5 MB。"
        else:
            try:
                result = services.import_offline_hours(upload.name, upload.read(), by=request.user)
            except ValidationError as exc:
                error = "；".join(_errors(exc))
    return render(
        request,
        "training/import.html",
        {"result": result, "error": error, "columns": list(services.IMPORT_COLUMNS) + list(services.OPTIONAL_COLUMNS)},
        status=400 if error else 200,
    )
