"""Demo statistics: about three months of generated daily roll-ups per demo site, so every chart of
the dashboard (and, once reported, the national dashboard) shows something (tenants.demo).

Written straight into the roll-up tables with bulk_create (fast, no raw events), and each day
marked as rolled up after it ended, so the worker's roll-up leaves these days alone. Today and the
days after the seed are counted for real. Idempotent: a site that has page-view roll-ups keeps them.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from .models import DailyCount, RolledDay
from .services import day_bounds

DAYS = 90
PAGES = ["/", "/news/", "/activities/", "/resources/", "/venues/", "/volunteers/", "/training/", "/search/"]
WORDS = ["广场舞", "越剧", "非遗", "少儿美术", "书法培训", "合唱团", "剪纸", "古琴", "皮影戏", "民乐"]
EMPTY_WORDS = ["无人机表演", "街舞大赛", "电竞", "脱口秀", "沉浸式戏剧", "汉服", "露营音乐节"]
RESOURCES = ["越剧经典选段", "非遗剪纸教程", "少儿美术公开课", "古琴入门", "地方戏曲集锦", "民歌合集"]
DEMAND_CATEGORIES = ["文艺演出", "展览展示", "讲座培训", "阅读推广", "非遗体验", "全民健身", "电影放映"]


def seed_statistics(slug: str, *, scale: float = 1.0, with_feedback: bool | None = None) -> int:
    """Seed DAYS days before today; returns the rows written (0 when already seeded)."""
    if DailyCount.objects.filter(metric="page_views", subject="").exists():
        return 0
    if with_feedback is None:
        from .views import feedback_installed

        with_feedback = feedback_installed()
    rnd = random.Random(slug)  # noqa: S311 (demo numbers, not a secret)
    today = timezone.localdate()
    rows: list[DailyCount] = []
    rolled: list[RolledDay] = []

    def add(day, metric, count, amount=Decimal(0), subject=""):
        if count or amount:
            rows.append(DailyCount(day=day, metric=metric, subject=subject, count=count, amount=amount))

    for offset in range(DAYS, 0, -1):
        day = today - timedelta(days=offset)
        weekend = day.weekday() >= 5
        growth = 1 + (DAYS - offset) / DAYS  # visits grow over the quarter
        base = int(scale * growth * rnd.randint(600, 900) * (1.4 if weekend else 1))
        cached = int(base * rnd.uniform(0.55, 0.75))
        add(day, "page_views", base)
        add(day, "cached_views", cached)
        add(day, "visitors", int(base * rnd.uniform(0.25, 0.4)))
        weights = [rnd.randint(5, 40) for _ in PAGES]
        for path, weight in zip(PAGES, weights, strict=True):
            add(day, "page_views", base * weight // sum(weights), subject=path)
        searches = int(base * rnd.uniform(0.03, 0.06))
        empty = max(1, int(searches * rnd.uniform(0.08, 0.18)))
        add(day, "search", searches)
        add(day, "search_empty", empty)
        for word in rnd.sample(WORDS, 4):
            add(day, "search", max(1, searches // 6), subject=word)
        for word in rnd.sample(EMPTY_WORDS, min(3, empty)):
            add(day, "search_empty", max(1, empty // 3), subject=word)
        plays, downloads = int(base * rnd.uniform(0.05, 0.1)), int(base * rnd.uniform(0.01, 0.03))
        add(day, "play", plays)
        add(day, "download", downloads)
        for title in rnd.sample(RESOURCES, 3):
            add(day, "play", max(1, plays // 4), subject=title)
            add(day, "download", max(1, downloads // 5), subject=title)
        booked = rnd.randint(8, 30) * (2 if weekend else 1)
        seats = booked * rnd.randint(1, 3)
        add(day, "bookings", booked, Decimal(seats))
        came = int(booked * rnd.uniform(0.7, 0.92))
        add(day, "checkins", came, Decimal(int(seats * came / max(booked, 1))))
        add(day, "registrations", rnd.randint(2, 15))
        shifts = rnd.randint(0, 12)
        add(day, "volunteer_hours", shifts, Decimal(shifts * rnd.randint(2, 4)))
        completions = rnd.randint(0, 6)
        add(day, "course_completions", completions)
        add(day, "training_hours", completions, Decimal(completions * rnd.choice([2, 3, 4])))
        add(day, "votes", rnd.randint(0, 80))
        if with_feedback:
            rated = rnd.randint(1, 12)
            add(day, "ratings", rated, Decimal(sum(rnd.choice([3, 4, 4, 5, 5]) for _ in range(rated))))
            demands = rnd.randint(0, 5)
            for category in rnd.sample(DEMAND_CATEGORIES, demands):
                add(day, "demands", 1, subject=category)
            add(day, "demands", demands)
        rolled.append(RolledDay(day=day, rolled_at=day_bounds(day)[1] + timedelta(minutes=5)))
    with transaction.atomic():
        DailyCount.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        RolledDay.objects.bulk_create(rolled, ignore_conflicts=True)
    return len(rows)


def report_demo_statistics() -> dict:
    """Send the seeded days to the national site now (the worker would within minutes)."""
    from .national import report_if_due

    return report_if_due()
