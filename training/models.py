"""Online training (在线培训), kept in each tenant's schema.

Courses are made of chapters and lessons (video with captions, a PDF document, or text) and may end
with a quiz drawn from a question bank. People enrol (or a 培训管理员 assigns a course to a staff
group); the server keeps what each person actually watched as merged intervals, grades quizzes,
and credits the course's learning hours (学时, 公需 or 专业) once, in the `HoursCredit` ledger,
which also holds offline training imported from a spreadsheet.

Progress, attempts and hours stay in the tenant where the person studied; a course pulled from the
national site is an ordinary course here with `origin_*` naming where it came from.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel


class TrainingSettings(models.Model):
    """The site's yearly 学时 target (one row per schema)."""

    yearly_target_hours = models.DecimalField(
        gettext_lazy("年度学时目标"), max_digits=6, decimal_places=1, default=Decimal("90")
    )
    specialist_share_percent = models.DecimalField(
        gettext_lazy("专业学时最低占比（%）"), max_digits=5, decimal_places=2, default=Decimal("66.67")
    )

    class Meta:
        verbose_name = gettext_lazy("培训设置")
        verbose_name_plural = gettext_lazy("培训设置")

    def __str__(self) -> str:
        return f"{self.yearly_target_hours} 学时"

    @classmethod
    def current(cls) -> TrainingSettings:
        return cls.objects.order_by("pk").first() or cls()

    @property
    def specialist_target_hours(self) -> Decimal:
        return (self.yearly_target_hours * self.specialist_share_percent / 100).quantize(Decimal("0.1"))


class Course(ClusterableModel):  # clusterable: chapters are edited inline in the admin (wagtail_hooks)
    class Tier(models.TextChoices):
        NATIONAL = "national", gettext_lazy("国家级")
        PROVINCE = "province", gettext_lazy("省级")
        CITY = "city", gettext_lazy("市级")
        COUNTY = "county", gettext_lazy("县级")

    class Audience(models.TextChoices):
        STAFF = "staff", gettext_lazy("业务干部")
        PUBLIC = "public", gettext_lazy("公众")

    class HoursKind(models.TextChoices):
        GENERAL = "general", gettext_lazy("公需")
        SPECIALIST = "specialist", gettext_lazy("专业")

    class Category(models.TextChoices):
        POLICY = "policy", gettext_lazy("政策理论")
        LIBRARY = "library", gettext_lazy("图书馆业务")
        CULTURE_CENTRE = "culture_centre", gettext_lazy("文化馆业务")
        HERITAGE = "heritage", gettext_lazy("非遗保护")
        DIGITAL = "digital", gettext_lazy("数字文化")
        ARTS = "arts", gettext_lazy("群众文艺")
        SERVICE = "service", gettext_lazy("公共服务与管理")

    class Status(models.TextChoices):
        DRAFT = "draft", gettext_lazy("草稿")
        PUBLISHED = "published", gettext_lazy("已发布")
        WITHDRAWN = "withdrawn", gettext_lazy("已下架")

    class CompletionRule(models.TextChoices):
        LESSONS_AND_QUIZ = "lessons_and_quiz", gettext_lazy("学完全部课时并通过测验")
        LESSONS = "lessons", gettext_lazy("学完全部课时")
        QUIZ = "quiz", gettext_lazy("通过测验即可")

    uid = models.UUIDField(gettext_lazy("唯一标识符"), default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(gettext_lazy("课程名称"), max_length=200)
    summary = models.TextField(gettext_lazy("简介"), blank=True)
    teacher = models.CharField(gettext_lazy("主讲"), max_length=100, blank=True)
    tier = models.CharField(gettext_lazy("级别"), max_length=12, choices=Tier.choices, default=Tier.PROVINCE)
    audience = models.CharField(gettext_lazy("对象"), max_length=12, choices=Audience.choices, default=Audience.STAFF)
    category = models.CharField(gettext_lazy("分类"), max_length=20, choices=Category.choices, default=Category.SERVICE)
    credit_hours = models.DecimalField(gettext_lazy("学时"), max_digits=5, decimal_places=1, default=Decimal("1"))
    hours_kind = models.CharField(
        gettext_lazy("学时类型"), max_length=12, choices=HoursKind.choices, default=HoursKind.SPECIALIST
    )
    completion_rule = models.CharField(
        gettext_lazy("完成条件"), max_length=20, choices=CompletionRule.choices, default=CompletionRule.LESSONS_AND_QUIZ
    )
    open_enrolment = models.BooleanField(
        gettext_lazy("开放报名"), default=True, help_text=gettext_lazy("不勾选则只能由培训管理员指派")
    )
    status = models.CharField(gettext_lazy("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    search_text = models.TextField(blank=True, editable=False)  # jieba-segmented, see services.index_course
    # Pulled from another site (federation): where it came from and the version imported.
    origin_name = models.CharField(gettext_lazy("来源站点"), max_length=100, blank=True)
    origin_code = models.CharField(gettext_lazy("来源区划代码"), max_length=6, blank=True)
    origin_version = models.PositiveIntegerField(gettext_lazy("来源版本"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("课程")
        verbose_name_plural = gettext_lazy("课程")
        ordering = ["-published_at", "-pk"]
        permissions = [("manage_training", gettext_lazy("可管理培训（指派、报表、导入学时）"))]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"/training/courses/{self.pk}/"

    @property
    def page_url(self) -> str:
        """The course page in the language being read (/en/training/courses/1/ under /en/); links
        that leave the request (canonical URL, notifications) use get_absolute_url."""
        from django.urls import reverse

        return reverse("training_course", args=[self.pk])

    @property
    def is_pulled(self) -> bool:
        return bool(self.origin_code)


class Chapter(ClusterableModel):  # clusterable: lessons are edited inline in the admin
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # same on every copy (federation)
    course = ParentalKey(Course, verbose_name=gettext_lazy("课程"), on_delete=models.CASCADE, related_name="chapters")
    title = models.CharField(gettext_lazy("章名称"), max_length=200)
    position = models.PositiveIntegerField(gettext_lazy("顺序"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = gettext_lazy("章")
        verbose_name_plural = gettext_lazy("章")

    def __str__(self) -> str:
        return self.title


class Lesson(models.Model):
    class Kind(models.TextChoices):
        VIDEO = "video", gettext_lazy("视频")
        DOCUMENT = "document", gettext_lazy("文档")
        TEXT = "text", gettext_lazy("图文")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    chapter = ParentalKey(Chapter, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(gettext_lazy("课时名称"), max_length=200)
    position = models.PositiveIntegerField(gettext_lazy("顺序"), default=0)
    kind = models.CharField(gettext_lazy("类型"), max_length=10, choices=Kind.choices, default=Kind.VIDEO)
    # Video: an uploaded MP4/WebM (a Wagtail document) or a stream URL (MP4 or HLS .m3u8).
    video = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=gettext_lazy("视频文件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    video_url = models.URLField(gettext_lazy("视频地址（MP4 或 HLS）"), max_length=500, blank=True)
    captions = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=gettext_lazy("字幕（WebVTT）"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The length the server trusts (never the player's): what 90 % is measured against.
    duration_seconds = models.PositiveIntegerField(gettext_lazy("时长（秒）"), default=0)
    document = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=gettext_lazy("PDF 文档"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(gettext_lazy("正文"), blank=True)
    # Documents and texts: the least reading time before "学完" counts (server clock).
    min_reading_seconds = models.PositiveIntegerField(gettext_lazy("最短阅读时间（秒）"), default=0)

    class Meta:
        ordering = ["chapter__position", "position", "pk"]
        verbose_name = gettext_lazy("课时")
        verbose_name_plural = gettext_lazy("课时")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        """What each kind needs, named by field (the admin shows these next to the field)."""
        errors = {}
        if self.kind == self.Kind.VIDEO:
            if not self.video_id and not self.video_url:
                errors["video"] = _("视频课时：请选择视频文件或填写视频地址。")
            if not self.duration_seconds:
                errors["duration_seconds"] = _("时长（秒）：视频课时必须填写时长，完成度按它计算。")
        elif self.kind == self.Kind.DOCUMENT and not self.document_id:
            errors["document"] = _("PDF 文档：文档课时请选择一个 PDF 文档。")
        elif self.kind == self.Kind.TEXT and not self.body.strip():
            errors["body"] = _("正文：图文课时的正文不能为空。")
        if errors:
            raise ValidationError(errors)

    @property
    def video_src(self) -> str:
        """An uploaded video is served by training.views.lesson_video (enrolled people, byte ranges)."""
        if self.video_id:
            return f"/training/courses/{self.chapter.course_id}/lessons/{self.pk}/video"
        return self.video_url

    @property
    def is_hls(self) -> bool:
        return not self.video_id and self.video_url.lower().split("?")[0].endswith(".m3u8")


class Quiz(models.Model):
    course = models.OneToOneField(
        Course, verbose_name=gettext_lazy("课程"), on_delete=models.CASCADE, related_name="quiz"
    )
    title = models.CharField(gettext_lazy("测验名称"), max_length=200, default="结业测验")
    draw_count = models.PositiveIntegerField(
        gettext_lazy("每次抽题数"), default=0, help_text=gettext_lazy("0 表示题库全部题目")
    )
    time_limit_minutes = models.PositiveIntegerField(
        gettext_lazy("限时（分钟）"), default=20, help_text=gettext_lazy("0 表示不限时")
    )
    max_attempts = models.PositiveIntegerField(
        gettext_lazy("可作答次数"), default=3, help_text=gettext_lazy("0 表示不限次数")
    )
    pass_mark = models.PositiveIntegerField(gettext_lazy("及格分（百分制）"), default=60)

    class Meta:
        verbose_name = gettext_lazy("测验")
        verbose_name_plural = gettext_lazy("测验")

    def __str__(self) -> str:
        return f"{self.course.title}：{self.title}"


class Question(ClusterableModel):  # clusterable: choices are edited inline in the admin
    class Kind(models.TextChoices):
        SINGLE = "single", gettext_lazy("单选题")
        MULTIPLE = "multiple", gettext_lazy("多选题")
        TRUE_FALSE = "true_false", gettext_lazy("判断题")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    quiz = models.ForeignKey(
        Quiz, verbose_name=gettext_lazy("测验"), on_delete=models.CASCADE, related_name="questions"
    )
    kind = models.CharField(gettext_lazy("题型"), max_length=12, choices=Kind.choices, default=Kind.SINGLE)
    text = models.TextField(gettext_lazy("题目"))
    explanation = models.TextField(gettext_lazy("解析"), blank=True)
    position = models.PositiveIntegerField(gettext_lazy("顺序"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = gettext_lazy("题目")
        verbose_name_plural = gettext_lazy("题目")

    def __str__(self) -> str:
        return self.text[:40]


class Choice(models.Model):
    question = ParentalKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(gettext_lazy("选项"), max_length=300)
    is_correct = models.BooleanField(gettext_lazy("正确答案"), default=False)
    position = models.PositiveIntegerField(gettext_lazy("顺序"), default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class TrainingGroup(models.Model):
    """A staff group (单位/部门) a 培训管理员 assigns courses to and reports on."""

    name = models.CharField(gettext_lazy("名称"), max_length=100, unique=True)
    organisation = models.CharField(gettext_lazy("所属单位"), max_length=100, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=gettext_lazy("成员"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = gettext_lazy("学员分组")
        verbose_name_plural = gettext_lazy("学员分组")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    group = models.ForeignKey(TrainingGroup, on_delete=models.CASCADE, related_name="assignments")
    due_date = models.DateField(gettext_lazy("截止日期"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "group"], name="training_assignment_once")]
        verbose_name = gettext_lazy("指派")
        verbose_name_plural = gettext_lazy("指派")

    def __str__(self) -> str:
        return f"{self.course} → {self.group}"


class Enrollment(models.Model):
    class Source(models.TextChoices):
        SELF = "self", gettext_lazy("自主报名")
        ASSIGNED = "assigned", gettext_lazy("管理员指派")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(gettext_lazy("方式"), max_length=10, choices=Source.choices, default=Source.SELF)
    due_date = models.DateField(gettext_lazy("截止日期"), null=True, blank=True)
    enrolled_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(gettext_lazy("完成时间"), null=True, blank=True)
    # The last due-date reminder sent (days before the due date: 7, 3, 1, 0), so each is sent once.
    reminded_days = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "user"], name="training_enrol_once")]
        verbose_name = gettext_lazy("报名")
        verbose_name_plural = gettext_lazy("报名")

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.course_id}"


class LessonProgress(models.Model):
    """What one person has really studied of one lesson.

    `intervals` is the merged, sorted list of [start, end] seconds of the video the server accepted;
    `watched_seconds` their total length. `last_report_at` is the server's clock at the last accepted
    report: the next report may add at most the time that passed since then (services.record_progress).
    """

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="+")
    intervals = models.JSONField(default=list)
    watched_seconds = models.FloatField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    last_report_at = models.DateTimeField(default=timezone.now)
    last_seq = models.BigIntegerField(default=0)
    session = models.CharField(max_length=40, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrollment", "lesson"], name="training_progress_once")]

    def __str__(self) -> str:
        return f"{self.enrollment_id}/{self.lesson_id}: {self.watched_seconds:.0f}s"


class QuizAttempt(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="attempts")
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    question_ids = models.JSONField(default=list)  # the draw of this attempt, in the order shown
    started_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict)
    score = models.PositiveIntegerField(null=True, blank=True)
    passed = models.BooleanField(default=False)
    feedback = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrollment", "quiz", "number"], name="training_attempt_number")]
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.enrollment_id} #{self.number}"


class HoursCredit(models.Model):
    """One line of a person's learning hours (学时): a completed course here, or imported offline training."""

    class Source(models.TextChoices):
        COURSE = "course", gettext_lazy("在线课程")
        OFFLINE = "offline", gettext_lazy("线下培训（导入）")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField(gettext_lazy("年度"), db_index=True)
    earned_on = models.DateField(gettext_lazy("日期"))
    hours = models.DecimalField(gettext_lazy("学时"), max_digits=5, decimal_places=1)
    kind = models.CharField(gettext_lazy("学时类型"), max_length=12, choices=Course.HoursKind.choices)
    source = models.CharField(gettext_lazy("来源"), max_length=10, choices=Source.choices)
    title = models.CharField(gettext_lazy("培训名称"), max_length=200)
    provider = models.CharField(gettext_lazy("主办单位"), max_length=100, blank=True)
    # Credited once: a course's hours through its enrollment; an imported row through its key.
    enrollment = models.OneToOneField(
        Enrollment, null=True, blank=True, on_delete=models.SET_NULL, related_name="credit"
    )
    import_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    certificate_code = models.CharField(gettext_lazy("证书编号"), max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = gettext_lazy("学时记录")
        verbose_name_plural = gettext_lazy("学时记录")
        indexes = [models.Index(fields=["year", "user"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.year} {self.hours} ({self.kind})"


class HoursImport(models.Model):
    """One upload of offline hours: what was kept and what was refused, row by row."""

    filename = models.CharField(max_length=200)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    rejected = models.JSONField(default=list)  # [{"row": n, "reason": "..."}]

    def __str__(self) -> str:
        return self.filename
