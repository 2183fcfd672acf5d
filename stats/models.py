"""Statistics (统计分析): raw counts, their daily and hourly roll-ups, and on the national site the
daily totals every tenant reports. Every table lives in the tenant's schema.

Nothing here names a person: no user id, no address, no visitor id. Page views are counted per
hour and path; unique visitors are a per-day estimate (Redis HyperLogLog over salted daily hashes
that never reach the database). See docs/statistics.md.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Event(models.Model):
    """A raw event that no domain table records: a search, a play, a download. No personal data."""

    class Kind(models.TextChoices):
        SEARCH = "search", "搜索"
        SEARCH_EMPTY = "search_empty", "无结果搜索"
        PLAY = "play", "资源播放"
        DOWNLOAD = "download", "资源下载"

    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField("时间", default=timezone.now)
    # Search words (scrubbed of digits runs and addresses) or the resource's title.
    subject = models.CharField("对象", max_length=100, blank=True)

    class Meta:
        verbose_name = "原始事件"
        verbose_name_plural = "原始事件"
        indexes = [models.Index(fields=["occurred_at", "kind"], name="stats_event_time_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class PageViews(models.Model):
    """Page views of one path in one hour, flushed by the worker from the Redis buffer."""

    hour = models.DateTimeField("小时")
    path = models.CharField("路径", max_length=200)
    views = models.PositiveIntegerField("浏览量", default=0)
    cached = models.PositiveIntegerField("其中缓存页面", default=0)

    class Meta:
        verbose_name = "页面浏览"
        verbose_name_plural = "页面浏览"
        constraints = [models.UniqueConstraint(fields=["hour", "path"], name="stats_pageviews_hour_path")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.path} {self.views}"


class DailyVisitors(models.Model):
    """Estimated unique visitors of a day (HyperLogLog count; the hashes themselves stay in Redis)."""

    day = models.DateField("日期", unique=True)
    visitors = models.PositiveIntegerField("访客数", default=0)

    class Meta:
        verbose_name = "每日访客"
        verbose_name_plural = "每日访客"

    def __str__(self) -> str:
        return f"{self.day} {self.visitors}"


class DailyCount(models.Model):
    """The daily roll-up that dashboards read: one metric of one day, in total (subject "") or for
    one subject (a path, search words, a resource). `amount` carries hours or a sum of scores."""

    day = models.DateField("日期")
    metric = models.CharField("指标", max_length=30)
    subject = models.CharField("对象", max_length=200, blank=True, default="")
    count = models.BigIntegerField("次数", default=0)
    amount = models.DecimalField("数量", max_digits=14, decimal_places=1, default=0)

    class Meta:
        verbose_name = "每日统计"
        verbose_name_plural = "每日统计"
        constraints = [
            models.UniqueConstraint(fields=["day", "metric", "subject"], name="stats_dailycount_unique"),
        ]
        indexes = [models.Index(fields=["metric", "day"], name="stats_daily_metric_day")]
        permissions = [("view_statistics", "可查看统计分析")]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.subject} {self.count}"


class HourlyCount(models.Model):
    """Today's (and yesterday's) totals per hour; older hours are dropped."""

    hour = models.DateTimeField("小时")
    metric = models.CharField("指标", max_length=30)
    count = models.BigIntegerField("次数", default=0)

    class Meta:
        verbose_name = "每小时统计"
        verbose_name_plural = "每小时统计"
        constraints = [models.UniqueConstraint(fields=["hour", "metric"], name="stats_hourlycount_unique")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.metric} {self.count}"


class RolledDay(models.Model):
    """When a day was last rolled up: a day rolled up before it ended is rolled up again."""

    day = models.DateField(primary_key=True)
    rolled_at = models.DateTimeField()
    # When the day's totals were last accepted by the national site (None: not yet).
    reported_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.day} {self.rolled_at:%Y-%m-%d %H:%M}"


class ReportState(models.Model):
    """This site's reporting to the national site: one row. Failures back off like federation's outbox."""

    last_success_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"report state {self.last_success_at}"


# --- On the national site -------------------------------------------------------------------


class ReportingSite(models.Model):
    """A site that reports its daily totals to this (national) site."""

    origin_slug = models.CharField("站点", max_length=63, unique=True)
    origin_code = models.CharField("区划代码", max_length=6)
    origin_name = models.CharField("站点名称", max_length=100)
    province_code = models.CharField("所属省份代码", max_length=6)
    last_reported_at = models.DateTimeField("最近上报时间", null=True, blank=True)
    last_day = models.DateField("最近上报日期", null=True, blank=True)

    class Meta:
        verbose_name = "上报站点"
        verbose_name_plural = "上报站点"
        ordering = ["origin_code"]

    def __str__(self) -> str:
        return self.origin_name


class SiteDailyTotal(models.Model):
    """One reported daily total (counts only). A re-sent day replaces its rows: reporting is idempotent."""

    site = models.ForeignKey(ReportingSite, on_delete=models.CASCADE, related_name="totals")
    day = models.DateField("日期")
    metric = models.CharField("指标", max_length=30)
    count = models.BigIntegerField("次数", default=0)
    amount = models.DecimalField("数量", max_digits=14, decimal_places=1, default=0)

    class Meta:
        verbose_name = "站点每日汇总"
        verbose_name_plural = "站点每日汇总"
        constraints = [models.UniqueConstraint(fields=["site", "day", "metric"], name="stats_sitedaily_unique")]
        indexes = [models.Index(fields=["metric", "day"], name="stats_sitedaily_metric_day")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day} {self.metric} {self.count}"
