"""Satisfaction ratings (满意度评价) and demand requests (需求征集), in each tenant's schema.

A rating names its target with explicit nullable foreign keys (one per kind of thing people
take part in), not a generic content type: the database itself checks that exactly one is set,
that a person rates a thing once, and that the score is 1–5; statistics joins them without
ContentType look-ups (docs/decisions/0018-feedback-its-own-capability.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.personal_data import mask_name
from core.regions import region_name

COMMENT_MAX = 500
ANSWER_MAX = 500
DEMAND_TEXT_MAX = 500
REASON_MAX = 200


class Rating(models.Model):
    """One person's 1–5 score and comment on an activity, a course or a volunteer opportunity."""

    class Kind(models.TextChoices):
        ACTIVITY = "activity", "活动"
        COURSE = "course", "课程"
        VOLUNTEERING = "volunteering", "志愿服务"

    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    activity = models.ForeignKey(
        "cms_pages.ActivityPage",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="ratings",
        verbose_name="活动",
    )
    course = models.ForeignKey(
        "training.Course", null=True, blank=True, on_delete=models.CASCADE, related_name="ratings", verbose_name="课程"
    )
    opportunity = models.ForeignKey(
        "volunteers.OpportunityPage",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="ratings",
        verbose_name="志愿服务项目",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="评价人"
    )
    score = models.PositiveSmallIntegerField("评分", validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField("评价内容", max_length=COMMENT_MAX, blank=True)
    created_at = models.DateTimeField("评价时间", auto_now_add=True, db_index=True)
    answer = models.TextField("回复", max_length=ANSWER_MAX, blank=True)
    answered_at = models.DateTimeField("回复时间", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published = models.BooleanField("公开展示", default=False)

    class Meta:
        verbose_name = "满意度评价"
        verbose_name_plural = "满意度评价"
        ordering = ["-created_at", "-pk"]
        permissions = [("manage_feedback", "查看、回复和公开满意度评价，处理需求征集")]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="feedback_score_1_to_5"),
            models.CheckConstraint(
                condition=(
                    Q(kind="activity", activity__isnull=False, course__isnull=True, opportunity__isnull=True)
                    | Q(kind="course", activity__isnull=True, course__isnull=False, opportunity__isnull=True)
                    | Q(kind="volunteering", activity__isnull=True, course__isnull=True, opportunity__isnull=False)
                ),
                name="feedback_one_target_of_its_kind",
            ),
            models.CheckConstraint(condition=Q(published=False) | ~Q(answer=""), name="feedback_published_has_answer"),
            models.UniqueConstraint(
                fields=["user", "activity"], condition=Q(activity__isnull=False), name="feedback_rate_activity_once"
            ),
            models.UniqueConstraint(
                fields=["user", "course"], condition=Q(course__isnull=False), name="feedback_rate_course_once"
            ),
            models.UniqueConstraint(
                fields=["user", "opportunity"],
                condition=Q(opportunity__isnull=False),
                name="feedback_rate_opportunity_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target_id} · {self.score} 分"

    @property
    def target_id(self) -> int:
        return self.activity_id or self.course_id or self.opportunity_id

    @property
    def target(self):
        return self.activity or self.course or self.opportunity

    @property
    def masked_author(self) -> str:
        """The rater as the public sees them: 王** (display name, else username, masked)."""
        user = self.user
        return mask_name(user.first_name or user.username) or "匿名"


class DemandRequest(models.Model):
    """需求征集: what a person would like the site to offer next, and how staff answered it."""

    class Category(models.TextChoices):
        PERFORMANCE = "performance", "演出"
        EXHIBITION = "exhibition", "展览"
        LECTURE = "lecture", "讲座"
        TRAINING = "training", "培训"
        READING = "reading", "阅读"
        HERITAGE = "heritage", "非遗"
        FITNESS = "fitness", "体育健身"
        FILM = "film", "电影放映"
        DIGITAL = "digital", "数字文化资源"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        NEW = "new", "新提交"
        PLANNED = "planned", "已纳入计划"
        DONE = "done", "已落实"
        DECLINED = "declined", "暂不采纳"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="提交人"
    )
    category = models.CharField("需求类别", max_length=16, choices=Category.choices)
    # A district of the site's own area (GB/T 2260 code); empty: the whole area.
    region_code = models.CharField("所在区域", max_length=6, blank=True)
    text = models.TextField("需求内容", max_length=DEMAND_TEXT_MAX)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    reason = models.CharField("处理说明", max_length=REASON_MAX, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "需求征集"
        verbose_name_plural = "需求征集"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(reason=""), name="feedback_declined_has_reason"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="feedback_demand_has_text"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} · {self.text[:20]}"

    @property
    def region_name(self) -> str:
        if not self.region_code:
            return "全域"
        return region_name(self.region_code) or self.region_code


class RatingInvitation(models.Model):
    """A person was asked (by a message) to rate one thing: asked once, never again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Rating.Kind.choices)
    target_id = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "target_id"], name="feedback_invite_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.target_id}"
