"""Live comments on a live-stream page, mutes, and the tenant's sensitive-word list (per schema)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from wagtail.admin.panels import FieldPanel

COMMENT_MAX_LENGTH = 200


class LiveComment(models.Model):
    page = models.ForeignKey(
        "cms_pages.LiveStreamPage", on_delete=models.CASCADE, related_name="live_comments", verbose_name="直播"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The name shown, fixed when the comment was made (never the real name or the phone).
    author_name = models.CharField("昵称", max_length=150)
    body = models.CharField("评论", max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField("发表时间", auto_now_add=True, db_index=True)
    # Hidden comments are kept (moderation history), never shown to the public again.
    hidden_at = models.DateTimeField("隐藏时间", null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pinned_at = models.DateTimeField("置顶时间", null=True, blank=True)

    class Meta:
        verbose_name = "直播评论"
        verbose_name_plural = "直播评论"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["page", "-created_at"], name="live_comment_page_recent")]
        permissions = [("moderate_livecomment", "管理直播评论（隐藏、置顶、禁言）")]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:30]}"


class LiveMute(models.Model):
    """A person silenced on one live stream until `until`."""

    page = models.ForeignKey(
        "cms_pages.LiveStreamPage", on_delete=models.CASCADE, related_name="live_mutes", verbose_name="直播"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField("禁言至")
    muted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "直播禁言"
        verbose_name_plural = "直播禁言"
        constraints = [models.UniqueConstraint(fields=["page", "user"], name="live_mute_one_per_person")]

    def __str__(self) -> str:
        return f"{self.user_id} until {self.until:%Y-%m-%d %H:%M}"


class SensitiveWord(models.Model):
    """The tenant's own list of words that stop a live comment (managed in the admin)."""

    word = models.CharField("敏感词", max_length=50, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [FieldPanel("word")]

    class Meta:
        verbose_name = "敏感词"
        verbose_name_plural = "敏感词"
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word

    def clean(self):
        from django.core.exceptions import ValidationError

        self.word = (self.word or "").strip()
        if not self.word:
            raise ValidationError({"word": "请填写敏感词"})
