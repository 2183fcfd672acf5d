"""Cultural volunteers (文化志愿者) of one tenant: applications, teams, opportunities, shifts,
sign-ups, check-in/out and service hours. Every table lives in the tenant's schema, so each
tenant sees only its own volunteers; one account may volunteer for several tenants.

Hours are kept in whole minutes (99.9 h = 5994 min, 100 h = 6000 min: no float rounding at the
star-level boundaries). Invariants that span rows (capacity, overlaps, caps) are enforced in
services.py under locks; the ones a single row or index can hold are constraints here.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.fields import RichTextField
from wagtail.models import Page

from accounts.crypto import EncryptedCharField
from accounts.personal_data import mask_mobile, mask_name

SKILLS = [
    ("guide", "讲解导览"),
    ("performance", "文艺演出"),
    ("teaching", "培训辅导"),
    ("reading", "阅读推广"),
    ("photography", "摄影摄像"),
    ("first_aid", "急救"),
    ("sign_language", "手语"),
    ("foreign_language", "外语"),
    ("it", "信息技术"),
    ("order", "秩序维护"),
]
SKILL_LABELS = dict(SKILLS)
# Availability as weekday × part of day: "mon_am", "sat_pm", "sun_eve".
WEEKDAYS = [
    ("mon", "周一"),
    ("tue", "周二"),
    ("wed", "周三"),
    ("thu", "周四"),
    ("fri", "周五"),
    ("sat", "周六"),
    ("sun", "周日"),
]
DAY_PARTS = [("am", "上午"), ("pm", "下午"), ("eve", "晚上")]
AVAILABILITY_SLOTS = [(f"{d}_{p}", f"{dl}{pl}") for d, dl in WEEKDAYS for p, pl in DAY_PARTS]
AVAILABILITY_LABELS = dict(AVAILABILITY_SLOTS)


@register_setting(icon="group")
class VolunteerSettings(BaseGenericSetting):
    """Per-tenant rules: star thresholds, check-in window, cancellation deadline."""

    star_1_hours = models.DecimalField("一星所需时长（小时）", max_digits=7, decimal_places=1, default=100)
    star_2_hours = models.DecimalField("二星所需时长（小时）", max_digits=7, decimal_places=1, default=300)
    star_3_hours = models.DecimalField("三星所需时长（小时）", max_digits=7, decimal_places=1, default=600)
    star_4_hours = models.DecimalField("四星所需时长（小时）", max_digits=7, decimal_places=1, default=1000)
    star_5_hours = models.DecimalField("五星所需时长（小时）", max_digits=7, decimal_places=1, default=1500)
    checkin_opens_minutes = models.PositiveIntegerField("开始前多少分钟可签到", default=30)
    checkout_closes_minutes = models.PositiveIntegerField("结束后多少分钟内可签退", default=120)
    cancel_deadline_hours = models.PositiveIntegerField("开始前多少小时停止取消报名", default=24)

    panels = [
        MultiFieldPanel(
            [FieldPanel(f"star_{n}_hours") for n in range(1, 6)],
            heading="星级评定（按已审核的累计服务时长）",
        ),
        MultiFieldPanel(
            [
                FieldPanel("checkin_opens_minutes"),
                FieldPanel("checkout_closes_minutes"),
                FieldPanel("cancel_deadline_hours"),
            ],
            heading="签到与取消",
        ),
    ]

    class Meta:
        verbose_name = "志愿服务设置"

    def star_thresholds_minutes(self) -> list[int]:
        return [int(getattr(self, f"star_{n}_hours") * 60) for n in range(1, 6)]


class Volunteer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已通过"
        REJECTED = "rejected", "未通过"
        SUSPENDED = "suspended", "已暂停"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING)
    # Unique in the tenant (one schema = one tenant), given at approval: ZJ-2026-00001.
    number = models.CharField("志愿者编号", max_length=30, null=True, blank=True, unique=True)
    real_name = EncryptedCharField("姓名")
    mobile = EncryptedCharField("手机号", blank=True, default="")
    skills = models.JSONField("技能", default=list, blank=True)
    service_areas = models.CharField("服务区域", max_length=200, blank=True)
    availability = models.JSONField("可服务时间", default=list, blank=True)
    emergency_contact_name = EncryptedCharField("紧急联系人")
    emergency_contact_phone = EncryptedCharField("紧急联系人电话")
    introduction = models.TextField("自我介绍", blank=True, max_length=1000)
    consented_at = models.DateTimeField("同意记录服务信息的时间")
    applied_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField("审核意见", blank=True)
    # Sum of approved hour records, kept by services.approve_hours in the same transaction
    # (the volunteer's page and the star levels read it instead of summing 200,000 rows).
    approved_minutes = models.PositiveIntegerField("已审核服务时长（分钟）", default=0)

    class Meta:
        verbose_name = "志愿者"
        verbose_name_plural = "志愿者"
        constraints = [models.UniqueConstraint(fields=["user"], name="volunteers_one_application_per_person")]
        indexes = [models.Index(fields=["status", "applied_at"])]

    def __str__(self) -> str:
        return f"{self.number or '申请中'} {mask_name(self.real_name)}"

    @property
    def masked_name(self) -> str:
        return mask_name(self.real_name)

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def approved_hours(self) -> float:
        return round(self.approved_minutes / 60, 1)

    @property
    def skill_labels(self) -> list[str]:
        return [SKILL_LABELS.get(s, s) for s in self.skills]

    @property
    def availability_labels(self) -> list[str]:
        return [AVAILABILITY_LABELS.get(s, s) for s in self.availability]


class Team(models.Model):
    name = models.CharField("服务队名称", max_length=100, unique=True)
    description = models.TextField("简介", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "服务队"
        verbose_name_plural = "服务队"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="team_memberships")
    is_leader = models.BooleanField("队长", default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "volunteer"], name="volunteers_team_member_once")]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.volunteer_id}"


class OpportunityIndexPage(Page):
    """服务项目: the list of volunteer opportunities of the site."""

    intro = RichTextField("导语", blank=True)
    content_panels = [*Page.content_panels, FieldPanel("intro")]
    max_count_per_parent = 1
    parent_page_types = ["cms_pages.HomePage"]
    subpage_types = ["volunteers.OpportunityPage"]

    class Meta:
        verbose_name = "志愿服务项目列表"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        from cms_pages.models import in_reading_language

        # In English (or any other language), the opportunities not translated yet are listed as
        # their Chinese originals, marked, as every section list does.
        context["opportunities"] = (
            in_reading_language(OpportunityPage.objects.live().public(), self, children_only=True)
            .select_related("team")
            .order_by("-first_published_at")
        )
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        response["Cache-Control"] = "private, max-age=0"
        return response


class OpportunityPage(Page):
    """服务项目: what volunteers do, where, for which team; its shifts (时段) are Shift rows."""

    summary = models.TextField("摘要", blank=True)
    body = RichTextField("项目介绍", blank=True)
    place = models.CharField("服务地点", max_length=200, blank=True)
    team = models.ForeignKey(
        Team, verbose_name="负责服务队", null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    requires_approval = models.BooleanField("报名需审核", default=False)

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("place"),
        FieldPanel("team"),
        FieldPanel("requires_approval"),
    ]
    parent_page_types = ["volunteers.OpportunityIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "志愿服务项目"

    def get_context(self, request, *args, **kwargs):
        from . import services

        context = super().get_context(request, *args, **kwargs)
        context.update(services.opportunity_context(self, request.user))
        return context

    def serve(self, request, *args, **kwargs):
        # Places left change with every sign-up: never in the anonymous full-page cache.
        response = super().serve(request, *args, **kwargs)
        response["Cache-Control"] = "private, max-age=0"
        return response


def _checkin_secret() -> str:
    return secrets.token_hex(32)


class Shift(models.Model):
    opportunity = models.ForeignKey(OpportunityPage, on_delete=models.PROTECT, related_name="shifts")
    title = models.CharField("时段名称", max_length=100, blank=True)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    place = models.CharField("地点", max_length=200)
    capacity = models.PositiveIntegerField("需要人数")
    required_skills = models.JSONField("所需技能", default=list, blank=True)
    # Seeds the rotating 6-digit code and the QR token (services.current_checkin_code); never shown.
    checkin_secret = models.CharField(max_length=64, default=_checkin_secret, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "服务时段"
        verbose_name_plural = "服务时段"
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="volunteers_shift_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="volunteers_shift_needs_someone"),
        ]
        indexes = [models.Index(fields=["starts_at"])]

    def __str__(self) -> str:
        return f"{self.title or self.opportunity_id} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def length_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def required_skill_labels(self) -> list[str]:
        return [SKILL_LABELS.get(s, s) for s in self.required_skills]


class SignUp(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", "已邀请"
        PENDING = "pending", "待审核"
        CONFIRMED = "confirmed", "已确认"
        CANCELLED = "cancelled", "已取消"
        REJECTED = "rejected", "未通过"

    # Statuses that hold a place on the shift (counted against its capacity).
    HOLDING = (Status.PENDING, Status.CONFIRMED)
    ACTIVE = (Status.INVITED, Status.PENDING, Status.CONFIRMED)

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="signups")
    status = models.CharField(max_length=20, choices=Status.choices)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    checkin_method = models.CharField(max_length=10, blank=True)

    class Meta:
        verbose_name = "报名"
        verbose_name_plural = "报名"
        constraints = [
            # One live sign-up per person and shift; cancelled ones stay as history.
            models.UniqueConstraint(
                fields=["shift", "volunteer"],
                condition=Q(status__in=["invited", "pending", "confirmed"]),
                name="volunteers_one_active_signup",
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_in_at__isnull=False),
                name="volunteers_checkout_after_checkin",
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "status"]), models.Index(fields=["shift", "status"])]

    def __str__(self) -> str:
        return f"{self.shift_id}:{self.volunteer_id}:{self.status}"


class HourRecord(models.Model):
    class Kind(models.TextChoices):
        CHECKED = "checked", "签到记录"
        MAKEUP = "makeup", "补录"

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已审核"
        REJECTED = "rejected", "未通过"

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="hour_records")
    shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.PROTECT, related_name="hour_records")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    minutes = models.PositiveIntegerField("时长（分钟）")
    served_on = models.DateField("服务日期")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField("补录原因", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "服务时长记录"
        verbose_name_plural = "服务时长记录"
        constraints = [
            # Check-out writes one checked record per volunteer and shift (idempotent check-out).
            models.UniqueConstraint(
                fields=["volunteer", "shift"], condition=Q(kind="checked"), name="volunteers_one_checked_record"
            ),
            models.CheckConstraint(condition=Q(kind="checked") | ~Q(reason=""), name="volunteers_makeup_needs_reason"),
        ]
        indexes = [
            models.Index(fields=["volunteer", "-served_on"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.minutes}min {self.kind}"

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)
