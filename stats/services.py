"""Statistics: recording the events no domain table keeps, rolling everything up per day and hour,
and reading the roll-ups for the dashboards (docs/statistics.md).

What is counted where (decision 0018):
* page views and visitors: buffered in memory and Redis, drained by the worker (stats.collect);
* searches, searches with no result, plays, downloads: `record()` writes one `Event` row;
* registrations, bookings, check-ins, volunteer hours, course completions and training hours,
  votes: counted from their own tables during the roll-up (no second bookkeeping).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from .models import DailyCount, DailyVisitors, Event, HourlyCount, PageViews, RolledDay

# metric → (Chinese label, unit of `amount` or "")
METRICS: dict[str, tuple[str, str]] = {
    "page_views": ("浏览量", ""),
    "cached_views": ("其中缓存页面浏览", ""),
    "visitors": ("访客数", ""),
    "search": ("搜索次数", ""),
    "search_empty": ("无结果搜索", ""),
    "play": ("资源播放", ""),
    "download": ("资源下载", ""),
    "registrations": ("新加入成员", ""),
    "bookings": ("预约订单", "人次"),
    "checkins": ("签到", "人次"),
    "volunteer_hours": ("志愿服务记录", "小时"),
    "course_completions": ("课程结业", ""),
    "training_hours": ("培训学时记录", "学时"),
    "votes": ("投票", ""),
    "ratings": ("满意度评价", "总分"),
    "demands": ("需求征集", ""),
}
# Metrics kept per subject as well (top TOP_SUBJECTS a day): which pages, words, resources.
SUBJECT_METRICS = ("page_views", "search", "search_empty", "play", "download", "demands")
TOP_SUBJECTS = 100
MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def today() -> date:
    return timezone.localdate()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone())
    return start, start + timedelta(days=1)


# --- Recording ----------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d{5,}")
_EMAIL = re.compile(r"\S+@\S+")


def scrub(text: str, limit: int = 50) -> str:
    """Words people typed, without what could identify someone: runs of 5+ digits (telephone,
    ID card, ticket numbers) and e-mail addresses become ＊; cut to `limit` characters."""
    text = _EMAIL.sub("＊", _DIGITS.sub("＊", " ".join((text or "").split())))
    return text[:limit]


def record(kind: str, subject: str = "", *, when: datetime | None = None) -> None:
    """Record one event of `kind` (Event.Kind) in the current tenant. Never raises into the caller."""
    try:
        Event.objects.create(kind=kind, subject=scrub(subject, 100), occurred_at=when or timezone.now())
    except Exception:  # statistics must never break the search or the download it counts
        import logging

        logging.getLogger(__name__).exception("statistics event %s not recorded", kind)


def record_search(words: str, found: int) -> None:
    """A search with words (a filter-only listing is not a search) and how many results it found."""
    words = scrub(words)
    if not words:
        return
    record(Event.Kind.SEARCH, words)
    if not found:
        record(Event.Kind.SEARCH_EMPTY, words)


# --- Roll-up ------------------------------------------------------------------------------------


def _installed(label: str) -> bool:
    return apps.is_installed(label) or any(c.label == label for c in apps.get_app_configs())


def _domain_totals(day: date) -> dict[str, tuple[int, Decimal]]:
    """Counts of the day taken from the capabilities' own tables."""
    start, end = day_bounds(day)
    totals: dict[str, tuple[int, Decimal]] = {}
    if _installed("roles"):
        from roles.models import Membership

        joined = (
            Membership.objects.values("user")
            .annotate(first=Min("created_at"))
            .filter(first__gte=start, first__lt=end)
            .count()
        )
        totals["registrations"] = (joined, Decimal(0))
    if _installed("bookings"):
        from bookings.models import Booking

        made = Booking.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
            n=Count("id"), q=Sum("quantity")
        )
        came = Booking.objects.filter(checked_in_at__gte=start, checked_in_at__lt=end).aggregate(
            n=Count("id"), q=Sum("quantity")
        )
        totals["bookings"] = (made["n"], Decimal(made["q"] or 0))
        totals["checkins"] = (came["n"], Decimal(came["q"] or 0))
    if _installed("volunteers"):
        from volunteers.models import HourRecord

        served = HourRecord.objects.filter(status=HourRecord.Status.APPROVED, served_on=day).aggregate(
            n=Count("id"), m=Sum("minutes")
        )
        totals["volunteer_hours"] = (served["n"], (Decimal(served["m"] or 0) / 60).quantize(Decimal("0.1")))
    if _installed("training"):
        from training.models import Enrollment, HoursCredit

        completed = Enrollment.objects.filter(completed_at__gte=start, completed_at__lt=end).count()
        credited = HoursCredit.objects.filter(earned_on=day).aggregate(n=Count("id"), h=Sum("hours"))
        totals["course_completions"] = (completed, Decimal(0))
        totals["training_hours"] = (credited["n"], Decimal(credited["h"] or 0))
    if _installed("campaigns"):
        from campaigns.models import Vote

        votes = Vote.objects.filter(created_at__gte=start, created_at__lt=end, voided_at__isnull=True).count()
        totals["votes"] = (votes, Decimal(0))
    totals.update(_feedback_totals(day))
    return totals


def _feedback_totals(day: date) -> dict[str, tuple]:
    """Satisfaction ratings (count, sum of scores) and demand requests per category, read from the
    feedback app's tables when that app is installed (docs/statistics.md)."""
    try:
        rating_model = apps.get_model("feedback", "Rating")
        demand_model = apps.get_model("feedback", "DemandRequest")
    except LookupError:
        return {}
    start, end = day_bounds(day)
    rated = rating_model.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        n=Count("id"), s=Sum("score")
    )
    labels = dict(demand_model._meta.get_field("category").choices or [])
    by_category = {
        labels.get(row["category"], row["category"]): row["n"]
        for row in demand_model.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("category")
        .annotate(n=Count("id"))
        .order_by("-n")
    }
    return {"ratings": (rated["n"], Decimal(rated["s"] or 0)), "demands": (by_category, Decimal(0))}


def compute_day(day: date) -> list[DailyCount]:
    """Every roll-up row of one day, from the raw tables (nothing written)."""
    start, end = day_bounds(day)
    rows: list[DailyCount] = []

    def add(metric: str, count: int, amount=Decimal(0), subject: str = "") -> None:
        if count or amount:
            rows.append(DailyCount(day=day, metric=metric, subject=subject, count=count, amount=amount))

    views = PageViews.objects.filter(hour__gte=start, hour__lt=end)
    total = views.aggregate(v=Sum("views"), c=Sum("cached"))
    add("page_views", total["v"] or 0)
    add("cached_views", total["c"] or 0)
    for row in views.values("path").annotate(v=Sum("views")).order_by("-v", "path")[:TOP_SUBJECTS]:
        add("page_views", row["v"], subject=row["path"])
    visitors = DailyVisitors.objects.filter(day=day).values_list("visitors", flat=True).first()
    add("visitors", visitors or 0)

    events = Event.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    for row in events.values("kind").annotate(n=Count("id")):
        add(row["kind"], row["n"])
    per_subject = events.exclude(subject="").values("kind", "subject").annotate(n=Count("id")).order_by("-n", "subject")
    kept: dict[str, int] = {}
    for row in per_subject:
        if kept.get(row["kind"], 0) < TOP_SUBJECTS:
            kept[row["kind"]] = kept.get(row["kind"], 0) + 1
            add(row["kind"], row["n"], subject=row["subject"])

    for metric, (count, amount) in _domain_totals(day).items():
        if isinstance(count, dict):  # per-subject counts from another app: {subject: count}
            for subject, n in list(count.items())[:TOP_SUBJECTS]:
                add(metric, n, subject=str(subject)[:200])
            add(metric, sum(count.values()), amount)
        else:
            add(metric, count, amount)
    return rows


def rollup_day(day: date) -> int:
    """Recompute one day's roll-up (replacing what was there); returns the rows written."""
    rows = compute_day(day)
    with transaction.atomic():
        DailyCount.objects.filter(day=day).delete()
        DailyCount.objects.bulk_create(rows, batch_size=1000)
        RolledDay.objects.update_or_create(day=day, defaults={"rolled_at": timezone.now()})
    return len(rows)


HOURLY_METRICS = ("page_views", "search", "search_empty", "play", "download", "bookings", "checkins")


def rollup_hours(day: date) -> int:
    """Recompute the hourly totals of one day (today, usually)."""
    start, end = day_bounds(day)
    counts: dict[tuple[datetime, str], int] = {}
    for row in PageViews.objects.filter(hour__gte=start, hour__lt=end).values("hour").annotate(v=Sum("views")):
        counts[(row["hour"], "page_views")] = row["v"]
    for row in (
        Event.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .annotate(h=TruncHour("occurred_at", tzinfo=zone()))
        .values("h", "kind")
        .annotate(n=Count("id"))
    ):
        counts[(row["h"], row["kind"])] = row["n"]
    if _installed("bookings"):
        from bookings.models import Booking

        for field, metric in (("created_at", "bookings"), ("checked_in_at", "checkins")):
            for row in (
                Booking.objects.filter(**{f"{field}__gte": start, f"{field}__lt": end})
                .annotate(h=TruncHour(field, tzinfo=zone()))
                .values("h")
                .annotate(n=Count("id"))
            ):
                counts[(row["h"], metric)] = row["n"]
    with transaction.atomic():
        HourlyCount.objects.filter(hour__gte=start, hour__lt=end).delete()
        HourlyCount.objects.bulk_create(
            [HourlyCount(hour=hour, metric=metric, count=n) for (hour, metric), n in counts.items()]
        )
    return len(counts)


BACKFILL_DAYS = 31


def days_to_roll(now: datetime | None = None) -> list[date]:
    """Today, plus every day of the last BACKFILL_DAYS that was never rolled up or was rolled up
    before it ended (its last hours were missing)."""
    current = timezone.localtime(now) if now else timezone.localtime()
    day = current.date()
    first = day - timedelta(days=BACKFILL_DAYS)
    rolled = dict(RolledDay.objects.filter(day__gte=first, day__lt=day).values_list("day", "rolled_at"))
    due = []
    for offset in range(BACKFILL_DAYS, 0, -1):
        earlier = day - timedelta(days=offset)
        rolled_at = rolled.get(earlier)
        if rolled_at is None or rolled_at < day_bounds(earlier)[1]:
            due.append(earlier)
    return [*due, day]


def run_rollup(now: datetime | None = None) -> dict:
    """The worker's periodic job in one tenant: drain the page-view buffer, roll up what is due,
    keep hourly rows for today and yesterday only."""
    from . import collect

    drained = collect.drain()
    days = days_to_roll(now)
    written = sum(rollup_day(day) for day in days)
    current = days[-1]
    rollup_hours(current)
    HourlyCount.objects.filter(hour__lt=day_bounds(current - timedelta(days=1))[0]).delete()
    return {"drained": drained, "days": [d.isoformat() for d in days], "rows": written}


# --- Reading (dashboards read roll-ups only) -----------------------------------------------------


class RangeError(ValueError):
    """A date range the dashboard refuses; the message is for people (Chinese, names the field)."""


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def parse_range(params) -> DateRange:
    """The dashboard's 起始日期/结束日期; absent → the last DEFAULT_RANGE_DAYS days."""
    raw_start, raw_end = (params.get("start") or "").strip(), (params.get("end") or "").strip()
    if not raw_start and not raw_end:
        end = today()
        return DateRange(end - timedelta(days=DEFAULT_RANGE_DAYS - 1), end)
    if not raw_start:
        raise RangeError("请填写起始日期。")
    if not raw_end:
        raise RangeError("请填写结束日期。")
    try:
        start = date.fromisoformat(raw_start)
    except ValueError:
        raise RangeError("起始日期格式不正确，请使用“年-月-日”，例如 2026-01-31。") from None
    try:
        end = date.fromisoformat(raw_end)
    except ValueError:
        raise RangeError("结束日期格式不正确，请使用“年-月-日”，例如 2026-01-31。") from None
    if end < start:
        raise RangeError("结束日期早于起始日期，请调换或重新选择。")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise RangeError(f"日期范围过长：最多 {MAX_RANGE_DAYS} 天，请缩短范围。")
    return DateRange(start, end)


def daily_series(rng: DateRange, metrics: list[str]) -> dict[str, dict[date, tuple[int, Decimal]]]:
    """metric → day → (count, amount), totals only."""
    series: dict[str, dict[date, tuple[int, Decimal]]] = {m: {} for m in metrics}
    for day, metric, count, amount in DailyCount.objects.filter(
        day__gte=rng.start, day__lte=rng.end, metric__in=metrics, subject=""
    ).values_list("day", "metric", "count", "amount"):
        series[metric][day] = (count, amount)
    return series


def top_subjects(rng: DateRange, metric: str, limit: int = 20) -> list[tuple[str, int]]:
    return list(
        DailyCount.objects.filter(day__gte=rng.start, day__lte=rng.end, metric=metric)
        .exclude(subject="")
        .values("subject")
        .annotate(n=Sum("count"))
        .order_by("-n", "subject")
        .values_list("subject", "n")[:limit]
    )


def totals(rng: DateRange) -> dict[str, tuple[int, Decimal]]:
    return {
        row["metric"]: (row["n"], row["a"])
        for row in DailyCount.objects.filter(day__gte=rng.start, day__lte=rng.end, subject="")
        .values("metric")
        .annotate(n=Sum("count"), a=Sum("amount"))
    }


def hourly_today() -> list[tuple[int, int]]:
    """(hour, page views) for today, from the hourly roll-up."""
    start, end = day_bounds(today())
    by_hour = {
        timezone.localtime(h).hour: n
        for h, n in HourlyCount.objects.filter(hour__gte=start, hour__lt=end, metric="page_views").values_list(
            "hour", "count"
        )
    }
    return [(hour, by_hour.get(hour, 0)) for hour in range(24)]
