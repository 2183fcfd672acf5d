"""Entries of a campaign (征集投票) and the votes cast for them (per tenant schema).

The daily limits hold in PostgreSQL, not only in Python: each vote takes a numbered slot of
its voter's day (1 … the campaign's daily limit) and of its voter's day for that entry, and
unique constraints allow each slot once. Two requests racing for the last vote of the day
both compute slot 2: one insert wins, the other fails the constraint and is refused.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from wagtail.admin.panels import FieldPanel
from wagtail.search import index


class CampaignEntry(index.Indexed, models.Model):
    STATUS_CHOICES = [("pending", "待审核"), ("approved", "已通过"), ("rejected", "未通过")]

    campaign = models.ForeignKey(
        "cms_pages.CampaignPage", on_delete=models.CASCADE, related_name="entries", verbose_name="投票活动"
    )
    number = models.PositiveIntegerField("编号", help_text="作品在本次活动中的编号，投票页按编号排列")
    title = models.CharField("作品名称", max_length=100)
    author = models.CharField("作者/队伍", max_length=100)
    description = models.TextField("作品简介", max_length=2000, blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="作品图片",
    )
    media = models.ForeignKey(
        "wagtaildocs.Document",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="音视频文件",
        help_text="MP4 / MP3 等作品文件",
    )
    media_url = models.URLField("作品视频地址", blank=True, help_text="或填写作品视频的播放地址（.mp4 / .m3u8）")
    status = models.CharField("状态", max_length=10, choices=STATUS_CHOICES, default="approved")
    review_note = models.CharField("审核意见", max_length=200, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("报送时间", auto_now_add=True)

    panels = [
        FieldPanel("campaign"),
        FieldPanel("number"),
        FieldPanel("title"),
        FieldPanel("author"),
        FieldPanel("description"),
        FieldPanel("image"),
        FieldPanel("media"),
        FieldPanel("media_url"),
        FieldPanel("status"),
        FieldPanel("review_note"),
    ]
    search_fields = [index.SearchField("title"), index.SearchField("author"), index.FilterField("campaign_id")]

    class Meta:
        verbose_name = "参赛作品"
        verbose_name_plural = "参赛作品"
        ordering = ["campaign", "number"]
        constraints = [models.UniqueConstraint(fields=["campaign", "number"], name="campaign_entry_number_unique")]
        permissions = [
            ("cast_expert_vote", "以评审专家身份投票"),
            ("audit_votes", "查看投票审计并作废异常票"),
        ]

    def __str__(self) -> str:
        return f"{self.number:03d} {self.title}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.status == "rejected" and not (self.review_note or "").strip():
            raise ValidationError({"review_note": "不通过时请填写审核意见，报送人会看到"})


class Vote(models.Model):
    KIND_CHOICES = [("public", "大众投票"), ("expert", "专家投票")]

    campaign = models.ForeignKey(
        "cms_pages.CampaignPage", on_delete=models.CASCADE, related_name="votes", verbose_name="投票活动"
    )
    entry = models.ForeignKey(CampaignEntry, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("类型", max_length=10, choices=KIND_CHOICES, default="public")
    day = models.DateField("投票日")  # the voter's day in China Standard Time (the limit's day)
    # The nth vote of this voter on `day` (1 … day_limit) and for this entry (1 … entry_limit).
    # NULL only when the guard is switched off (CAMPAIGN_VOTE_GUARD, tests of the race).
    slot = models.PositiveSmallIntegerField(null=True)
    entry_slot = models.PositiveSmallIntegerField(null=True)
    day_limit = models.PositiveSmallIntegerField()
    entry_limit = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField("投票时间", auto_now_add=True, db_index=True)
    # The network the vote came from, truncated (/24, /48): enough to see a pattern, not a person.
    network = models.CharField("来源网段", max_length=50, blank=True)
    account_age_days = models.PositiveIntegerField("投票时账号注册天数", default=0)
    # Voided votes stay (and say why); they no longer count.
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.CharField("作废原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "投票"
        verbose_name_plural = "投票"
        indexes = [
            models.Index(fields=["campaign", "entry"], name="vote_campaign_entry", condition=Q(voided_at__isnull=True)),
            models.Index(fields=["campaign", "network"], name="vote_campaign_network"),
            models.Index(fields=["campaign", "voter", "day"], name="vote_campaign_voter_day"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "voter", "kind", "day", "slot"], name="vote_daily_slot_once"),
            models.UniqueConstraint(
                fields=["campaign", "voter", "kind", "entry", "day", "entry_slot"], name="vote_entry_daily_slot_once"
            ),
            models.CheckConstraint(
                condition=Q(slot__isnull=True) | (Q(slot__gte=1) & Q(slot__lte=models.F("day_limit"))),
                name="vote_slot_within_daily_limit",
            ),
            models.CheckConstraint(
                condition=Q(entry_slot__isnull=True)
                | (Q(entry_slot__gte=1) & Q(entry_slot__lte=models.F("entry_limit"))),
                name="vote_entry_slot_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voter_id} → {self.entry_id} ({self.day})"
