"""Bookings (活动预约 and 场馆预定): data and the invariants PostgreSQL itself enforces.

Every write goes through bookings.services (seat allocation under a lock, the state machine,
notifications); see docs/bookings.md.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils import timezone
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting


@register_setting(icon="date")
class BookingRules(BaseSiteSetting):
    """Each site's own rules: waiting-list holds, pending expiry, the no-show rule."""

    hold_hours = models.PositiveSmallIntegerField(
        "候补名额保留（小时）", default=2, validators=[MinValueValidator(1)], help_text="名额空出后为候补者保留的时间"
    )
    pending_expiry_hours = models.PositiveSmallIntegerField(
        "待审核过期（小时）", default=72, validators=[MinValueValidator(1)], help_text="超过此时间未审核的预约自动过期"
    )
    no_show_limit = models.PositiveSmallIntegerField(
        "爽约次数上限", default=3, validators=[MinValueValidator(1)], help_text="在统计期内爽约达到此次数即暂停预约"
    )
    no_show_window_days = models.PositiveSmallIntegerField(
        "爽约统计期（天）", default=90, validators=[MinValueValidator(1)]
    )
    block_days = models.PositiveSmallIntegerField("暂停预约（天）", default=30, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = "预约规则"


class Session(models.Model):
    """场次: one time slot of an activity with its own seats, booking window and limits."""

    activity = models.ForeignKey(
        "cms_pages.ActivityPage", on_delete=models.CASCADE, related_name="booking_sessions", verbose_name="活动"
    )
    name = models.CharField("场次名称", max_length=100, blank=True, help_text="如：上午场；可留空")
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    capacity = models.PositiveIntegerField("名额", validators=[MinValueValidator(1, "名额至少为 1")])
    opens_at = models.DateTimeField("开始预约", default=timezone.now)
    closes_at = models.DateTimeField("截止预约", null=True, blank=True, help_text="留空：活动开始时截止")
    cancel_deadline = models.DateTimeField("取消截止", null=True, blank=True, help_text="留空：开始前 2 小时")
    per_person_limit = models.PositiveSmallIntegerField(
        "每人限约", default=2, validators=[MinValueValidator(1, "每人限约至少为 1"), MaxValueValidator(50)]
    )
    requires_approval = models.BooleanField("预约需审核", default=False)
    waiting_list = models.BooleanField("约满后可候补", default=True)
    cancelled_at = models.DateTimeField("场次取消时间", null=True, blank=True, editable=False)
    cancel_reason = models.CharField("场次取消原因", max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = "场次"
        verbose_name_plural = "场次"
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="bookings_session_ends_after_start"),
        ]
        permissions = [
            ("manage_bookings", "可管理活动预约（名单、审核、导出、群发消息）"),
            ("check_in_bookings", "可为预约者签到"),
        ]

    def __str__(self) -> str:
        label = f"{self.activity.title} {timezone.localtime(self.starts_at):%m-%d %H:%M}"
        return f"{label} {self.name}".strip()

    @property
    def booking_closes_at(self):
        return self.closes_at or self.starts_at

    @property
    def cancellable_until(self):
        return self.cancel_deadline or (self.starts_at - timedelta(hours=2))

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class Booking(models.Model):
    """One order: a person's seats in one session, with its 取票码 and QR ticket."""

    class Status(models.TextChoices):
        WAITING = "waiting", "候补中"
        HELD = "held", "候补名额保留中"
        PENDING = "pending", "待审核"
        CONFIRMED = "confirmed", "预约成功"
        CHECKED_IN = "checked_in", "已签到"
        CANCELLED = "cancelled", "已取消"
        REJECTED = "rejected", "未通过"
        NO_SHOW = "no_show", "爽约"
        EXPIRED = "expired", "已过期"

    # Statuses whose seats count against the session's capacity.
    SEAT_HOLDING = (Status.HELD, Status.PENDING, Status.CONFIRMED, Status.CHECKED_IN)
    # Statuses that count against the person's per-session limit (a waiting place included).
    ACTIVE = (Status.WAITING, *SEAT_HOLDING)

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="bookings", verbose_name="场次")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="预约人"
    )
    order_number = models.CharField("订单号", max_length=20, unique=True)
    pickup_code = models.CharField("取票码", max_length=12, unique=True)
    quantity = models.PositiveSmallIntegerField("预约数量", validators=[MinValueValidator(1)])
    attendees = models.JSONField("入场人", default=list, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices)
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField("下单时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    hold_expires_at = models.DateTimeField("保留至", null=True, blank=True)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    reason = models.CharField("原因", max_length=200, blank=True)
    checked_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "预约"
        verbose_name_plural = "预约"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["session", "status"], name="bookings_session_status"),
            models.Index(fields=["user", "-created_at"], name="bookings_user_recent"),
        ]
        constraints = [
            # Resubmitting with the same key finds the first order instead of making a second.
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], condition=~Q(idempotency_key=""), name="bookings_idempotency"
            ),
        ]

    def __str__(self) -> str:
        return self.order_number

    @property
    def holds_seats(self) -> bool:
        return self.status in self.SEAT_HOLDING

    @property
    def has_ticket(self) -> bool:
        return self.status in (self.Status.CONFIRMED, self.Status.CHECKED_IN)


class BookingBan(models.Model):
    """A person may not book on this site until `until` (the no-show rule), unless staff lift it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="用户")
    until = models.DateTimeField("暂停至")
    reason = models.CharField("原因", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField("解除时间", null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "预约限制"
        verbose_name_plural = "预约限制"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} until {self.until:%Y-%m-%d}"


# --- Venue rooms (场馆预定) ------------------------------------------------------------------


class RoomSettings(models.Model):
    """How one of a venue's rooms (cms_pages.VenueRoom) can be booked by the slot."""

    class WhoMayBook(models.TextChoices):
        MEMBERS = "members", "所有注册用户"
        APPROVED = "approved", "仅限经批准的团体"

    room = models.OneToOneField(
        "cms_pages.VenueRoom", on_delete=models.CASCADE, related_name="booking_settings", verbose_name="功能室"
    )
    bookable = models.BooleanField("开放预定", default=True)
    opens_at = models.TimeField("每日开放", default="09:00")
    closes_at = models.TimeField("每日关闭", default="17:00")
    slot_minutes = models.PositiveSmallIntegerField(
        "时段长度（分钟）", default=60, validators=[MinValueValidator(15), MaxValueValidator(480)]
    )
    closed_weekdays = models.CharField(
        "每周闭馆日", max_length=20, blank=True, default="1", help_text="星期几闭馆，1=周一 … 7=周日，用逗号分隔"
    )
    closed_dates = models.TextField("闭馆日期", blank=True, help_text="每行一个日期，如 2026-10-01")
    who_may_book = models.CharField(
        "预定对象",
        max_length=10,
        choices=WhoMayBook.choices,
        default=WhoMayBook.MEMBERS,
        help_text="“仅限经批准的团体”：只有本站审核通过的团体（由其联系人）可以预定",
    )
    requires_approval = models.BooleanField("预定需审核", default=False)
    max_slots = models.PositiveSmallIntegerField("一次最多连续时段", default=4, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = "功能室预定设置"
        verbose_name_plural = "功能室预定设置"
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=F("opens_at")), name="bookings_room_closes_after_open"),
        ]

    def __str__(self) -> str:
        return str(self.room)


class Organisation(models.Model):
    """团体: a group (社团, 学校, 企业, 协会 …) that books rooms under its own name once staff approve it.

    Its contact person applies in the personal centre and books for it; rooms open to "approved
    organisations" only take bookings made in the name of an approved one.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已通过"
        REJECTED = "rejected", "未通过"

    name = models.CharField("团体名称", max_length=100)
    description = models.CharField("团体简介", max_length=500, blank=True)
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="联系人"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField("审核意见", max_length=200, blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)

    class Meta:
        verbose_name = "团体"
        verbose_name_plural = "团体"
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One live record per name: a rejected group may apply again under the same name.
            models.UniqueConstraint(
                fields=["name"], condition=~Q(status="rejected"), name="bookings_organisation_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoomBooking(models.Model):
    """One booking of consecutive slots of a room. PostgreSQL refuses overlapping active bookings."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        CONFIRMED = "confirmed", "预定成功"
        CANCELLED = "cancelled", "已取消"
        REJECTED = "rejected", "未通过"

    ACTIVE = (Status.PENDING, Status.CONFIRMED)

    room = models.ForeignKey("cms_pages.VenueRoom", on_delete=models.PROTECT, related_name="+", verbose_name="功能室")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="预定人"
    )
    order_number = models.CharField("订单号", max_length=20, unique=True)
    during = DateTimeRangeField("时段")
    purpose = models.CharField("用途", max_length=200)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="预定团体"
    )
    status = models.CharField("状态", max_length=12, choices=Status.choices)
    reason = models.CharField("原因", max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField("下单时间", auto_now_add=True)

    class Meta:
        verbose_name = "功能室预定"
        verbose_name_plural = "功能室预定"
        ordering = ["during"]
        constraints = [
            # Never double-booked, enforced by PostgreSQL. Without btree_gist there is no GiST
            # equality for a plain integer, so the room id becomes a one-point int8range
            # ('[]' = just this id), which GiST compares with = (ARCHITECTURE §7).
            ExclusionConstraint(
                name="bookings_room_no_overlap",
                expressions=[
                    (Func(F("room"), F("room"), Value("[]"), function="int8range"), RangeOperators.EQUAL),
                    ("during", RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=["pending", "confirmed"]),
            ),
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], condition=~Q(idempotency_key=""), name="bookings_room_idempotency"
            ),
        ]

    def __str__(self) -> str:
        return self.order_number


def new_feed_token() -> str:
    import secrets

    return secrets.token_urlsafe(24)  # 192 random bits: the address is the only key


class CalendarFeed(models.Model):
    """A secret address a calendar app subscribes to (it cannot sign in): one per room for the
    staff, one per person for their own bookings on this site. Resetting it makes a new token, and
    the old address stops working at once."""

    token = models.CharField(max_length=40, unique=True, default=new_feed_token)
    room = models.OneToOneField(
        "cms_pages.VenueRoom", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "日历订阅"
        verbose_name_plural = "日历订阅"
        constraints = [
            models.CheckConstraint(
                condition=Q(room__isnull=True, user__isnull=False) | Q(room__isnull=False, user__isnull=True),
                name="bookings_feed_room_or_person",
            ),
        ]

    def __str__(self) -> str:
        return f"room {self.room_id}" if self.room_id else f"person {self.user_id}"
