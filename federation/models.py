"""Federation state, kept in every tenant's schema (ARCHITECTURE §5).

A `Record` is one catalogue entry this site knows: its own shareable pages (origin = this site)
and, on the national site, every item the provinces and cities pushed to it. Records are the unit
of push, pull and OAI-PMH; `seq` orders every change so feeds and harvests page by keyset.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from accounts.crypto import decrypt, encrypt


class Record(models.Model):
    class Status(models.TextChoices):
        LIVE = "live", "已发布"
        UNPUBLISHED = "unpublished", "已撤回"
        DELETED = "deleted", "已删除"

    class SyncState(models.TextChoices):
        SYNCED = "synced", "已同步"
        PENDING = "pending", "待同步"
        FAILED = "failed", "失败"
        DIVERGED = "diverged", "本地已修改"
        FORKED = "forked", "已独立"

    uid = models.UUIDField("唯一标识符", unique=True)
    catalogue_id = models.CharField("目录标识符", max_length=120, unique=True)
    origin_code = models.CharField("来源区划代码", max_length=6, db_index=True)
    origin_slug = models.CharField("来源站点", max_length=63)
    origin_name = models.CharField("来源站点名称", max_length=100)
    kind = models.CharField("类型", max_length=20, db_index=True)
    category = models.CharField("分类", max_length=20, blank=True, db_index=True)
    title = models.CharField("标题", max_length=255)
    version = models.PositiveIntegerField("版本", default=1)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.LIVE)
    content_hash = models.CharField(max_length=64)
    envelope = models.JSONField("报文")
    origin_updated_at = models.DateTimeField("来源更新时间")
    # When the record last changed here (OAI-PMH datestamp) and the change sequence number.
    changed_at = models.DateTimeField("本地变更时间", default=timezone.now, db_index=True)
    seq = models.BigIntegerField("变更序号", unique=True)
    is_local = models.BooleanField("本站内容", default=True)
    page = models.ForeignKey(
        "wagtailcore.Page", verbose_name="页面", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Pulled copies: which subscription brought it, the hash of the page as imported (to notice
    # local edits), and how the copy stands against upstream.
    subscription = models.ForeignKey(
        "federation.Subscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    imported_hash = models.CharField(max_length=64, blank=True)
    sync_state = models.CharField("同步状态", max_length=12, choices=SyncState.choices, default=SyncState.SYNCED)
    sync_message = models.TextField("同步说明", blank=True)
    featured = models.BooleanField("国家平台推荐", default=False)
    search_text = models.TextField(blank=True)  # jieba-segmented title + text, for catalogue search

    class Meta:
        verbose_name = "目录记录"
        verbose_name_plural = "目录记录"
        indexes = [
            models.Index(fields=["origin_code", "kind", "seq"]),
            # Pulled copies still waiting for files: every sync looks for them (pull._retry_incomplete);
            # without this it scans the subscription's whole catalogue (bench/federation.py).
            models.Index(
                fields=["subscription"], condition=models.Q(sync_state="pending"), name="federation_record_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.catalogue_id})"

    @property
    def canonical_url(self) -> str:
        return self.envelope.get("canonical_url", "")


class Peer(models.Model):
    """Another node this site talks to: its uplink (the national cloud) and where it pulls from.

    `base_url` empty means the national tenant of this same deployment, reached through the
    loopback transport (same signing and receiving code, no HTTP).
    """

    name = models.CharField("名称", max_length=100)
    base_url = models.URLField("地址", blank=True, help_text="留空表示同一部署内的国家平台（本地回环）")
    # Where the peer's pages and files are published, when that is not `base_url` (a node reached
    # by address): envelope URLs must be on one of the two (federation/untrusted.py).
    public_url = models.URLField("公开地址", blank=True, help_text="对方页面与文件的公开地址；与“地址”相同则留空")
    key_id = models.CharField("密钥编号", max_length=64)
    secret_encrypted = models.TextField()
    is_uplink = models.BooleanField("上级平台", default=True)
    # Circuit breaker: after several failures in a row the peer is left alone until open_until.
    consecutive_failures = models.PositiveIntegerField(default=0)
    open_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "对接节点"
        verbose_name_plural = "对接节点"

    def __str__(self) -> str:
        return self.name

    @property
    def secret(self) -> str:
        return decrypt(self.secret_encrypted)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = encrypt(value)

    @property
    def is_loopback(self) -> bool:
        return not self.base_url


class InboundKey(models.Model):
    """A key another site signs its requests to this node with (kept by the receiving side)."""

    key_id = models.CharField("密钥编号", max_length=64, unique=True)
    secret_encrypted = models.TextField()
    origin_code = models.CharField("来源区划代码", max_length=6, db_index=True)
    origin_slug = models.CharField("来源站点", max_length=63)
    origin_name = models.CharField("来源站点名称", max_length=100)
    # The sending site's registered address (scheme, host, port) when it is another deployment:
    # the URLs in its envelopes must be on it, and its files are fetched only from there. A site of
    # this deployment is known by its own domains instead.
    base_url = models.URLField("来源站点地址", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A rotated key keeps working until then, so deliveries signed just before rotation land.
    expires_at = models.DateTimeField("失效时间", null=True, blank=True)
    revoked = models.BooleanField("已吊销", default=False)

    class Meta:
        verbose_name = "接入密钥"
        verbose_name_plural = "接入密钥"

    def __str__(self) -> str:
        return f"{self.key_id} ({self.origin_name})"

    @property
    def secret(self) -> str:
        return decrypt(self.secret_encrypted)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = encrypt(value)

    def usable(self, now=None) -> bool:
        now = now or timezone.now()
        return not self.revoked and (self.expires_at is None or self.expires_at > now)


class SeenNonce(models.Model):
    """Nonces of accepted requests within the clock-skew window (replay protection)."""

    key_id = models.CharField(max_length=64)
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key_id", "nonce"], name="federation_nonce_once")]

    def __str__(self) -> str:
        return f"{self.key_id}:{self.nonce}"


class OutboxEntry(models.Model):
    """A change to deliver to the uplink, written in the transaction of the change itself."""

    class State(models.TextChoices):
        PENDING = "pending", "待投递"
        DELIVERED = "delivered", "已投递"
        DEAD = "dead", "投递失败（死信）"

    event_id = models.UUIDField(default=uuid.uuid4, unique=True)
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="outbox")
    version = models.PositiveIntegerField()
    action = models.CharField(max_length=12)  # live / unpublished / deleted, as sent
    envelope = models.JSONField()  # the envelope as it stood at this version
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField("最近错误", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    catalogue_id = models.CharField("国家目录标识符", max_length=120, blank=True)

    class Meta:
        verbose_name = "待推送"
        verbose_name_plural = "待推送"
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.record_id} v{self.version} {self.action} ({self.state})"


class DeliveryAttempt(models.Model):
    """Audit log: every delivery attempt, push or pull, with its outcome."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "已接收"
        DUPLICATE = "duplicate", "重复（无变化）"
        STALE = "stale", "过期版本（忽略）"
        RETRY = "retry", "稍后重试"
        DEAD = "dead", "永久失败"
        SKIPPED = "skipped", "熔断跳过"
        PULLED = "pulled", "已拉取"

    outbox = models.ForeignKey(OutboxEntry, null=True, blank=True, on_delete=models.CASCADE, related_name="log")
    subscription = models.ForeignKey(
        "federation.Subscription", null=True, blank=True, on_delete=models.CASCADE, related_name="log"
    )
    direction = models.CharField(max_length=4, default="push")  # push / pull
    at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField("结果", max_length=12, choices=Outcome.choices)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "投递记录"
        verbose_name_plural = "投递记录"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.direction} {self.outcome} {self.at:%Y-%m-%d %H:%M:%S}"


class Subscription(models.Model):
    """A set of national content this site pulls in, with where it goes and how local edits count."""

    class Policy(models.TextChoices):
        OVERWRITE = "overwrite", "始终以上级为准（覆盖本地修改）"
        LOCK = "lock", "锁定（本地不可编辑）"
        UPDATE_UNLESS_MODIFIED = "update_unless_modified", "本地未修改时更新"
        FORK = "fork", "本地修改后独立（不再更新）"

    SETS = {
        "national-resources": ("国家数字资源", "resource"),
        "national-activities": ("国家活动", "activity"),
        # Plain-model items registered through federation.item_kinds (training.federation_kind).
        "national-courses": ("国家培训课程", "course"),
    }

    name = models.CharField("名称", max_length=100)
    peer = models.ForeignKey(Peer, verbose_name="来源节点", on_delete=models.PROTECT, related_name="subscriptions")
    set_spec = models.CharField(
        "订阅内容", max_length=40, choices=[(k, v[0]) for k, v in SETS.items()], default="national-resources"
    )
    parent_page = models.ForeignKey(
        "wagtailcore.Page", verbose_name="放在此栏目下", on_delete=models.PROTECT, related_name="+"
    )
    policy = models.CharField(
        "本地修改策略", max_length=24, choices=Policy.choices, default=Policy.UPDATE_UNLESS_MODIFIED
    )
    auto_publish = models.BooleanField("自动发布", default=False, help_text="不勾选则进入内容审核流程")
    active = models.BooleanField("启用", default=True)
    cursor = models.BigIntegerField("同步游标", default=0)
    last_run_at = models.DateTimeField("上次同步", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)

    class Meta:
        verbose_name = "订阅"
        verbose_name_plural = "订阅"

    def __str__(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        return self.SETS[self.set_spec][1]


class MediaAsset(models.Model):
    """A file received through federation, stored once per content hash."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    mime = models.CharField(max_length=100)
    image = models.ForeignKey("wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    document = models.ForeignKey(
        "wagtaildocs.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_url = models.URLField(max_length=500, blank=True)
    fetched_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.mime}, {self.size} bytes)"


@register_setting(icon="site")
class FederationSettings(BaseSiteSetting):
    """The site's push policy per content type (an editor can also push single pages)."""

    push_news = models.BooleanField("新闻全部推送到国家平台", default=False)
    push_activities = models.BooleanField("活动全部推送到国家平台", default=False)
    push_resources = models.BooleanField("数字资源全部推送到国家平台", default=False)

    class Meta:
        verbose_name = "国家平台推送设置"

    def pushes(self, kind: str) -> bool:
        return {"news": self.push_news, "activity": self.push_activities, "resource": self.push_resources}.get(
            kind, False
        )
