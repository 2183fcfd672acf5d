"""National courses through the federation module: the "national-courses" set.

On the national site a published course is a catalogue `Record` (kind "course") whose envelope
carries the whole course: chapters, lessons (video, captions and PDF files by sha256 as assets),
and the quiz with its question bank. A province subscribes to 国家培训课程 (federation.pull) and
gets each course as an ordinary course of its own catalogue, updated in place when the national
site publishes a new version (chapters, lessons and questions keep their uids, so progress made
here survives an update) and withdrawn when the national site withdraws it. Progress, attempts
and hours stay in the province.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils import timezone

KIND = "course"


def register() -> None:
    from federation import item_kinds

    item_kinds.register(item_kinds.ItemKind(kind=KIND, assets=referenced_assets, apply=apply_envelope))


# --- Publishing (national site) ------------------------------------------------------------------------


def course_payload(course, assets) -> dict:
    """`assets`: a federation.envelope.Assets, which collects the files (documents through Wagtail's
    document view, never from private collections)."""
    from .models import Quiz

    chapters = []
    for chapter in course.chapters.prefetch_related("lessons__video", "lessons__captions", "lessons__document"):
        lessons = []
        for lesson in chapter.lessons.all():
            lessons.append(
                {
                    "uid": str(lesson.uid),
                    "title": lesson.title,
                    "kind": lesson.kind,
                    "video": assets.add(lesson.video, "document"),
                    "video_url": lesson.video_url,
                    "captions": assets.add(lesson.captions, "document"),
                    "duration_seconds": lesson.duration_seconds,
                    "document": assets.add(lesson.document, "document"),
                    "body": lesson.body,
                    "min_reading_seconds": lesson.min_reading_seconds,
                }
            )
        chapters.append({"uid": str(chapter.uid), "title": chapter.title, "lessons": lessons})
    quiz = Quiz.objects.filter(course=course).prefetch_related("questions__choices").first()
    quiz_payload = None
    if quiz is not None:
        quiz_payload = {
            "title": quiz.title,
            "draw_count": quiz.draw_count,
            "time_limit_minutes": quiz.time_limit_minutes,
            "max_attempts": quiz.max_attempts,
            "pass_mark": quiz.pass_mark,
            "questions": [
                {
                    "uid": str(q.uid),
                    "kind": q.kind,
                    "text": q.text,
                    "explanation": q.explanation,
                    "choices": [{"text": c.text, "correct": c.is_correct} for c in q.choices.all()],
                }
                for q in quiz.questions.all()
            ],
        }
    return {
        "title": course.title,
        "summary": course.summary,
        "teacher": course.teacher,
        "tier": course.tier,
        "audience": course.audience,
        "category": course.category,
        "credit_hours": str(course.credit_hours),
        "hours_kind": course.hours_kind,
        "completion_rule": course.completion_rule,
        "open_enrolment": course.open_enrolment,
        "chapters": chapters,
        "quiz": quiz_payload,
    }


def build_envelope(course, *, status: str) -> dict:
    from federation import envelope as env

    origin = env.current_origin()
    assets = env.Assets(origin)
    return {
        "format": env.FORMAT,
        "uid": str(course.uid),
        "catalogue_id": env.catalogue_id(origin.code, KIND, course.uid),
        "origin": origin.as_dict(),
        "kind": KIND,
        "version": 1,  # set by federation.services.record_local_item
        "updated_at": timezone.now().isoformat(),
        "status": status,
        "published_at": course.published_at.isoformat() if course.published_at else None,
        "canonical_url": f"{origin.base_url}{course.get_absolute_url()}",
        "attribution": f"来源：{origin.name}",
        "payload": course_payload(course, assets),
        "assets": sorted(assets.items.values(), key=lambda a: a["sha256"]),
    }


def course_changed(course) -> None:
    """A course of the national site changed: its catalogue record (and so the feed) follows.

    Provinces' own courses and pulled copies are not shared (the national site is the publisher).
    """
    from federation import services as federation

    if course.is_pulled or not federation.is_national_schema():
        return
    status = "live" if course.status == course.Status.PUBLISHED else "unpublished"
    federation.record_local_item(course.uid, build_envelope(course, status=status))


# --- Receiving (a province) -----------------------------------------------------------------------------


def referenced_assets(envelope: dict) -> set[str]:
    wanted = set()
    for chapter in envelope.get("payload", {}).get("chapters") or []:
        for lesson in (chapter or {}).get("lessons") or []:
            if isinstance(lesson, dict):
                wanted |= {lesson.get(key) for key in ("video", "captions", "document")}
    return {sha for sha in wanted if isinstance(sha, str) and sha}


def _choice(value, choices, default):
    return value if value in choices.values else default


def _text(value, limit: int | None = None) -> str:
    text = str(value or "")
    return text[:limit] if limit else text


def _safe_url(value) -> str:
    text = _text(value, 500)
    return text if text.startswith(("http://", "https://")) else ""


def _int(value, default: int = 0) -> int:
    try:
        return max(0, min(int(value), 10**6))
    except (TypeError, ValueError):
        return default


def _uid(value) -> str:
    import uuid

    from django.core.exceptions import ValidationError

    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValidationError("uid: not a UUID") from None


def _upsert(model, uid, scope: dict, defaults: dict):
    """update_or_create by uid, but only inside this course: a uid that belongs to another course
    of this site (a hostile or broken envelope) is refused instead of being moved here."""
    from django.core.exceptions import ValidationError

    uid = _uid(uid)
    existing = model.objects.filter(uid=uid).first()
    if existing is not None and not model.objects.filter(pk=existing.pk, **scope).exists():
        raise ValidationError(f"uid: {uid} belongs to another course")
    obj, _ = model.objects.update_or_create(uid=uid, defaults=defaults)
    return obj


def apply_envelope(envelope: dict, files: dict, missing: list[str]) -> str:
    """Create, update or withdraw the local copy of a national course (inside the item's transaction).

    Everything in the envelope is untrusted: values are clipped to the fields' limits and choices.
    """
    from django.core.exceptions import ValidationError

    from . import services
    from .models import Chapter, Choice, Course, Lesson, Question, Quiz

    payload = envelope["payload"]
    course = Course.objects.filter(uid=envelope["uid"]).first()
    if envelope["status"] != "live":
        if course is None:
            return "skipped"
        course.status = Course.Status.WITHDRAWN
        services.save_course(course)
        return "deleted" if envelope["status"] == "deleted" else "unpublished"
    created = course is None
    course = course or Course(uid=envelope["uid"])
    try:
        hours = Decimal(str(payload.get("credit_hours") or "0")).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise ValidationError("credit_hours: not a number") from None
    if not (Decimal("0") <= hours < Decimal("1000")):
        raise ValidationError("credit_hours: out of range")
    course.title = _text(payload.get("title"), 200)
    course.summary = _text(payload.get("summary"))
    course.teacher = _text(payload.get("teacher"), 100)
    course.tier = _choice(payload.get("tier"), Course.Tier, Course.Tier.NATIONAL)
    course.audience = _choice(payload.get("audience"), Course.Audience, Course.Audience.STAFF)
    course.category = _choice(payload.get("category"), Course.Category, Course.Category.SERVICE)
    course.credit_hours = hours
    course.hours_kind = _choice(payload.get("hours_kind"), Course.HoursKind, Course.HoursKind.SPECIALIST)
    course.completion_rule = _choice(
        payload.get("completion_rule"), Course.CompletionRule, Course.CompletionRule.LESSONS_AND_QUIZ
    )
    course.open_enrolment = bool(payload.get("open_enrolment", True))
    origin = envelope["origin"]
    course.origin_name = _text(origin.get("name"), 100) or "国家公共文化云"
    course.origin_code = _text(origin.get("code"), 6)
    course.origin_version = envelope["version"]
    course.status = Course.Status.PUBLISHED
    course.save()

    def document(sha):
        asset = files.get(sha) if sha else None
        return asset.document if asset is not None else None

    keep_chapters, keep_lessons = [], []
    for position, item in enumerate(payload.get("chapters") or []):
        if not isinstance(item, dict):
            continue
        chapter = _upsert(
            Chapter,
            item.get("uid"),
            {"course": course},
            {"course": course, "title": _text(item.get("title"), 200), "position": position},
        )
        keep_chapters.append(chapter.pk)
        for lesson_position, data in enumerate(item.get("lessons") or []):
            if not isinstance(data, dict):
                continue
            lesson = _upsert(
                Lesson,
                data.get("uid"),
                {"chapter__course": course},
                {
                    "chapter": chapter,
                    "title": _text(data.get("title"), 200),
                    "position": lesson_position,
                    "kind": _choice(data.get("kind"), Lesson.Kind, Lesson.Kind.TEXT),
                    "video": document(data.get("video")),
                    "video_url": _safe_url(data.get("video_url")),
                    "captions": document(data.get("captions")),
                    "duration_seconds": _int(data.get("duration_seconds")),
                    "document": document(data.get("document")),
                    "body": _text(data.get("body")),
                    "min_reading_seconds": _int(data.get("min_reading_seconds")),
                },
            )
            keep_lessons.append(lesson.pk)
    Lesson.objects.filter(chapter__course=course).exclude(pk__in=keep_lessons).delete()
    course.chapters.exclude(pk__in=keep_chapters).delete()

    quiz_data = payload.get("quiz")
    if isinstance(quiz_data, dict):
        quiz, _ = Quiz.objects.update_or_create(
            course=course,
            defaults={
                "title": _text(quiz_data.get("title"), 200) or "结业测验",
                "draw_count": _int(quiz_data.get("draw_count")),
                "time_limit_minutes": _int(quiz_data.get("time_limit_minutes"), 20),
                "max_attempts": _int(quiz_data.get("max_attempts"), 3),
                "pass_mark": min(100, _int(quiz_data.get("pass_mark"), 60)),
            },
        )
        keep_questions = []
        for position, data in enumerate(quiz_data.get("questions") or []):
            if not isinstance(data, dict):
                continue
            question = _upsert(
                Question,
                data.get("uid"),
                {"quiz__course": course},
                {
                    "quiz": quiz,
                    "kind": _choice(data.get("kind"), Question.Kind, Question.Kind.SINGLE),
                    "text": _text(data.get("text")),
                    "explanation": _text(data.get("explanation")),
                    "position": position,
                },
            )
            keep_questions.append(question.pk)
            question.choices.all().delete()
            Choice.objects.bulk_create(
                Choice(question=question, text=_text(c.get("text"), 300), is_correct=bool(c.get("correct")), position=i)
                for i, c in enumerate(data.get("choices") or [])
                if isinstance(c, dict)
            )
        quiz.questions.exclude(pk__in=keep_questions).delete()
    else:
        Quiz.objects.filter(course=course).delete()
    services.save_course(course)
    return "created" if created else "updated"
