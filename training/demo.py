"""Demo training: a national course pulled by the provinces, a course of 浙江, trainees with progress,
hours and a certificate. Idempotent: a second run creates nothing and changes nothing.

Each course has a real short video (demo_media/lesson.mp4, 12 s, H.264) with Chinese captions
(lesson.vtt), a PDF document lesson (made here with reportlab) and a quiz.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

MEDIA = Path(__file__).with_name("demo_media")
NATIONAL_COURSE = "新时代公共文化服务体系建设"
PROVINCE_COURSE = "公共图书馆数字资源建设实务"
PROVINCE = "zhejiang"
SUBSCRIBERS = ("zhejiang", "sichuan", "liaoning")
TRAINEE = "zhejiang_trainee"
MANAGER = "zhejiang_training"


def seed_training_demo(password: str) -> None:
    from tenants.models import CultureSite

    if not CultureSite.objects.filter(schema_name="national").exists():
        return
    with schema_context("national"):
        _national_course()
    for slug in SUBSCRIBERS:
        if CultureSite.objects.filter(schema_name=slug).exists():
            _subscribe_to_national_courses(slug)
    if CultureSite.objects.filter(schema_name=PROVINCE).exists():
        _province_world(password)


def _document(title: str, filename: str, content: bytes):
    from wagtail.documents import get_document_model

    Document = get_document_model()
    existing = Document.objects.filter(title=title).first()
    if existing:
        return existing
    document = Document(title=title)
    document.file.save(filename, ContentFile(content), save=False)
    document._set_document_file_metadata()  # size and hash, as Wagtail's upload form does
    document.save()
    return document


def course_pdf(title: str, paragraphs: list[str]) -> bytes:
    """A small Chinese PDF (reportlab's built-in STSong-Light CID font: nothing to download)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)  # invariant: same bytes every run (sha256 dedup)
    pdf.setTitle(title)
    pdf.setFont("STSong-Light", 18)
    pdf.drawString(60, 780, title)
    pdf.setFont("STSong-Light", 12)
    y = 740
    for paragraph in paragraphs:
        for start in range(0, len(paragraph), 36):
            pdf.drawString(60, y, paragraph[start : start + 36])
            y -= 20
        y -= 10
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _build_course(
    title: str,
    *,
    tier: str,
    category: str,
    hours: str,
    hours_kind: str,
    teacher: str,
    summary: str,
    doc_text: list[str],
    questions: list,
) -> None:
    from . import services
    from .models import Course, Lesson, Quiz

    if Course.objects.filter(title=title).exists():
        return
    video = _document("培训示例视频", "training-lesson.mp4", (MEDIA / "lesson.mp4").read_bytes())
    captions = _document("培训示例视频字幕", "training-lesson.vtt", (MEDIA / "lesson.vtt").read_bytes())
    pdf = _document(f"{title}（讲义）", "training-handout.pdf", course_pdf(f"{title}（讲义）", doc_text))
    with transaction.atomic():
        course = services.save_course(
            Course(
                title=title,
                summary=summary,
                teacher=teacher,
                tier=tier,
                audience=Course.Audience.STAFF,
                category=category,
                credit_hours=Decimal(hours),
                hours_kind=hours_kind,
            )
        )
        first = services.add_chapter(course, "第一章 导论")
        Lesson.objects.create(
            chapter=first,
            title="导论（视频）",
            kind=Lesson.Kind.VIDEO,
            video=video,
            captions=captions,
            duration_seconds=12,
            position=0,
        )
        Lesson.objects.create(
            chapter=first,
            title="课程讲义（PDF）",
            kind=Lesson.Kind.DOCUMENT,
            document=pdf,
            min_reading_seconds=10,
            position=1,
        )
        second = services.add_chapter(course, "第二章 要点")
        Lesson.objects.create(
            chapter=second,
            title="要点小结",
            kind=Lesson.Kind.TEXT,
            body="\n\n".join(doc_text),
            min_reading_seconds=5,
            position=0,
        )
        quiz = Quiz.objects.create(course=course, draw_count=3, time_limit_minutes=15, max_attempts=3, pass_mark=60)
        for kind, text, choices, explanation in questions:
            services.add_question(quiz, kind, text, choices, explanation)
        services.publish_course(course)


def _national_course() -> None:
    from .models import Course, Question

    _build_course(
        NATIONAL_COURSE,
        tier=Course.Tier.NATIONAL,
        category=Course.Category.POLICY,
        hours="3",
        hours_kind=Course.HoursKind.GENERAL,
        teacher="文化和旅游部公共服务司",
        summary="解读《公共文化服务保障法》和“十四五”公共文化服务体系建设规划，面向全国基层文化干部。",
        doc_text=[
            "公共文化服务是由政府主导、社会力量参与，以满足公民基本文化需求为主要目的而提供的公共文化设施、文化产品、文化活动以及其他相关服务。",
            "各级人民政府应当按照国家基本公共文化服务标准，结合当地实际，制定并公布本行政区域的基本公共文化服务实施标准。",
        ],
        questions=[
            (
                Question.Kind.SINGLE,
                "《公共文化服务保障法》自哪一年起施行？",
                [("2017 年", True), ("2012 年", False), ("2020 年", False)],
                "该法自 2017 年 3 月 1 日起施行。",
            ),
            (
                Question.Kind.MULTIPLE,
                "公共文化服务包括哪些？",
                [("公共文化设施", True), ("文化产品", True), ("文化活动", True), ("商业演出票务", False)],
                "商业演出不属于公共文化服务。",
            ),
            (Question.Kind.TRUE_FALSE, "公共文化服务以满足公民基本文化需求为主要目的。", [("正确", True)], ""),
            (
                Question.Kind.SINGLE,
                "基本公共文化服务实施标准由谁制定？",
                [("地方各级人民政府", True), ("文化企业", False)],
                "",
            ),
        ],
    )


def _subscribe_to_national_courses(slug: str) -> None:
    from cms_pages.models import HomePage
    from federation import pull
    from federation.models import Subscription
    from federation.services import uplink

    with schema_context(slug):
        peer = uplink()
        home = HomePage.objects.filter(locale__language_code="zh-hans").first()
        if peer is None or home is None:
            return
        subscription = Subscription.objects.filter(set_spec="national-courses").first()
        if subscription is None:
            subscription = pull.subscribe(
                peer=peer,
                set_spec="national-courses",
                parent_page=home,
                policy=Subscription.Policy.OVERWRITE,
                auto_publish=True,
                name="国家培训课程",
            )
        pull.sync_subscription(subscription)


def _province_world(password: str) -> None:
    from accounts.services import ensure_account
    from roles.services import TRAINING_MANAGER, grant_role

    from . import services
    from .models import Course, Enrollment, Question, TrainingGroup

    trainee = ensure_account(TRAINEE, password, display_name="浙江学员")
    manager = ensure_account(MANAGER, password, display_name="浙江培训管理员")
    colleague = ensure_account("zhejiang_trainee2", password, display_name="浙江学员二")
    with schema_context(PROVINCE):
        with transaction.atomic():
            grant_role(manager, TRAINING_MANAGER)
        _build_course(
            PROVINCE_COURSE,
            tier=Course.Tier.PROVINCE,
            category=Course.Category.LIBRARY,
            hours="2",
            hours_kind=Course.HoursKind.SPECIALIST,
            teacher="浙江图书馆",
            summary="数字资源的采集、元数据著录与长期保存，结合浙江“智慧图书馆”建设案例。",
            doc_text=[
                "数字资源建设应遵循统一的元数据标准，著录题名、创建者、主题、日期等核心元素。",
                "长期保存需要制定格式迁移与备份策略，确保资源可用、可信、可读。",
            ],
            questions=[
                (
                    Question.Kind.SINGLE,
                    "都柏林核心元数据有多少个核心元素？",
                    [("15 个", True), ("10 个", False), ("20 个", False)],
                    "DC 元数据集包括 15 个核心元素。",
                ),
                (
                    Question.Kind.MULTIPLE,
                    "长期保存策略包括哪些？",
                    [("格式迁移", True), ("异地备份", True), ("只保存一份", False)],
                    "",
                ),
                (
                    Question.Kind.TRUE_FALSE,
                    "数字资源无需著录元数据。",
                    [("正确", False)],
                    "元数据是资源发现与管理的基础。",
                ),
                (
                    Question.Kind.SINGLE,
                    "“智慧图书馆”建设的核心是什么？",
                    [("以读者为中心的数据驱动服务", True), ("只购买设备", False)],
                    "",
                ),
            ],
        )
        province_course = Course.objects.get(title=PROVINCE_COURSE)
        national_copy = Course.objects.filter(title=NATIONAL_COURSE).first()
        group, _ = TrainingGroup.objects.get_or_create(name="浙江图书馆业务部", defaults={"organisation": "浙江图书馆"})
        if Enrollment.objects.filter(user=trainee, course=province_course).exists():
            return  # trainees already seeded
        with transaction.atomic():
            group.members.add(trainee, colleague)
            if national_copy is not None:
                services.assign_course(
                    national_copy, group, timezone.localdate() + datetime.timedelta(days=30), by=manager
                )
            _complete_course(trainee, province_course)
            if national_copy is not None:
                _watch_part(trainee, national_copy, seconds=6)
            csv = (
                "账号,姓名,培训名称,日期,学时,学时类型,主办单位\n"
                f"{TRAINEE},浙江学员,全省公共图书馆馆长培训班,{timezone.localdate().year}-03-15,16,专业,浙江省文化和旅游厅\n"
                f"{TRAINEE},浙江学员,党的二十大精神专题学习,{timezone.localdate().year}-04-20,8,公需,浙江省委宣传部\n"
                f"zhejiang_trainee2,浙江学员二,基层文化馆业务培训,{timezone.localdate().year}-05-10,12,专业,浙江省文化馆\n"
            )
            services.import_offline_hours("demo-offline-hours.csv", csv.encode(), by=manager)


def _complete_course(user, course) -> None:
    """Study the whole course the honest way, on a clock that starts an hour ago."""
    from . import services
    from .models import Lesson

    start = timezone.now() - datetime.timedelta(hours=1)
    enrollment = services.enrol(user, course)
    for lesson in Lesson.objects.filter(chapter__course=course):
        progress = services.start_lesson(enrollment, lesson, now=start)
        if lesson.kind == Lesson.Kind.VIDEO:
            services.record_progress(
                progress.pk,
                user=user,
                session=progress.session,
                seq=1,
                start=0,
                end=lesson.duration_seconds,
                now=start + datetime.timedelta(seconds=lesson.duration_seconds),
            )
        else:
            services.mark_lesson_read(
                enrollment, lesson, now=start + datetime.timedelta(seconds=lesson.min_reading_seconds + 1)
            )
        start += datetime.timedelta(minutes=5)
    attempt = services.start_attempt(enrollment, now=start)
    answers = {
        str(q.pk): [str(c.pk) for c in q.choices.all() if c.is_correct] for q in services.attempt_questions(attempt)
    }
    services.submit_attempt(attempt.pk, answers, user=user, now=start + datetime.timedelta(minutes=3))


def _watch_part(user, course, *, seconds: int) -> None:
    from . import services
    from .models import Lesson

    enrollment = services.enrol(user, course)
    lesson = Lesson.objects.filter(chapter__course=course, kind=Lesson.Kind.VIDEO).first()
    if lesson is None:
        return
    start = timezone.now() - datetime.timedelta(minutes=10)
    progress = services.start_lesson(enrollment, lesson, now=start)
    services.record_progress(
        progress.pk,
        user=user,
        session=progress.session,
        seq=1,
        start=0,
        end=seconds,
        now=start + datetime.timedelta(seconds=seconds),
    )
