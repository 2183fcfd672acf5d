"""Statistics benchmark: the dashboard from raw rows against the dashboard from roll-ups (issue 17).

Run on demand from the repository root (it is not a test):

    .venv/bin/python bench/stats.py                 # 1,000,000 events over a year, then the figures
    .venv/bin/python bench/stats.py --events 200000 # a smaller year
    .venv/bin/python bench/stats.py --drop          # remove the benchmark tenant

In tenant `benchstats` (database culture_bench, kept between runs; regenerated when the event
count differs) it writes, with COPY:
* N raw events (searches, searches with no result, plays, downloads) spread over the last 365 days,
* a year of hourly page views for 40 paths (the raw form page views take, stats_pageviews),
then rolls every day up (stats.services.rollup_day) and prints:
* the dashboard's 365-day tables computed from the raw rows, and from the roll-ups
  (stats.views.dashboard_tables, what the admin page shows), median of 3;
* the full admin page (/admin/statistics/) over 365 days, through Django's test client;
* the roll-up of one extra day holding 100,000 events.
Targets: dashboard from roll-ups ≤ 1 s; one day's 100,000 events rolled up ≤ 10 s.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta

import provision  # bench/provision.py: Django set-up

TENANT_SLUG = "benchstats"
TENANT_NAME = "统计基准站"
KINDS = ["search", "search", "play", "play", "download", "search_empty"]
WORDS = [f"词{n}" for n in range(300)]
PATHS = [f"/page-{n}/" for n in range(40)]
TARGET_DASHBOARD_S = 1.0
TARGET_DAY_ROLLUP_S = 10.0
DAY_EVENTS = 100_000


def _free_province_code() -> str:
    from tenants.models import CultureSite

    taken = set(CultureSite.objects.values_list("region_code", flat=True))
    for code in sorted(provision.load_divisions()):
        if code.endswith("0000") and code != "100000" and code not in taken and code.startswith("6"):
            return code
    raise SystemExit("no free province code for the benchmark tenant")


def prepare() -> bool:
    """Platform migrated and the tenant present; True when it was created now."""
    from django.core.management import call_command

    from tenants import services
    from tenants.models import CultureSite

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    pending = services.schemas_with_pending_migrations()
    for schema in (services.TEMPLATE_SCHEMA, TENANT_SLUG):
        if schema in pending:
            call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=0)
    services.ensure_platform_tenant()
    services.ensure_template()
    if CultureSite.objects.filter(schema_name=TENANT_SLUG).exists():
        return False
    spec = services.NewSite(slug=TENANT_SLUG, name=TENANT_NAME, kind="province", region_code=_free_province_code())
    services.create_culture_site(spec)
    return True


def _copy(table: str, columns: str, rows) -> None:
    from django.db import connection

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(row) + "\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def generate(events: int, first_day) -> float:
    """Replace the tenant's statistics with a generated year; seconds taken."""
    from django.db import connection

    from stats.services import zone

    rnd = random.Random(17)  # noqa: S311 (benchmark data)
    start = time.perf_counter()
    tz = zone()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE stats_event, stats_pageviews, stats_dailycount, stats_hourlycount, stats_rolledday, "
            "stats_dailyvisitors"
        )
    origin = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    seconds = 365 * 86400

    def event_rows():
        for _ in range(events):
            when = origin + timedelta(seconds=rnd.randrange(seconds))
            kind = rnd.choice(KINDS)
            yield (kind, when.isoformat(), rnd.choice(WORDS) if kind != "download" else rnd.choice(PATHS))

    _copy("stats_event", "kind, occurred_at, subject", event_rows())

    def view_rows():
        for hour in range(365 * 24):
            when = (origin + timedelta(hours=hour)).isoformat()
            for path in PATHS:
                views = rnd.randint(0, 30)
                yield (when, path, str(views), str(views // 2))

    _copy("stats_pageviews", "hour, path, views, cached", view_rows())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE stats_event")
        cursor.execute("ANALYZE stats_pageviews")
    return time.perf_counter() - start


def raw_tables(rng) -> list:
    """The same numbers as stats.views.dashboard_tables, computed from the raw rows each time."""
    from django.db.models import Count, Sum
    from django.db.models.functions import TruncDate

    from stats.models import Event, PageViews
    from stats.services import day_bounds, zone

    start, end = day_bounds(rng.start)[0], day_bounds(rng.end)[1]
    events = Event.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    per_day = list(
        events.annotate(d=TruncDate("occurred_at", tzinfo=zone())).values("d", "kind").annotate(n=Count("id"))
    )
    views = PageViews.objects.filter(hour__gte=start, hour__lt=end)
    views_per_day = list(
        views.annotate(d=TruncDate("hour", tzinfo=zone())).values("d").annotate(v=Sum("views"), c=Sum("cached"))
    )
    top_pages = list(views.values("path").annotate(v=Sum("views")).order_by("-v")[:20])
    tops = {
        kind: list(events.filter(kind=kind).values("subject").annotate(n=Count("id")).order_by("-n")[:20])
        for kind in ("search_empty", "play", "download")
    }
    return [per_day, views_per_day, top_pages, tops]


def timed(function, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def page_time(rng) -> float:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tenants.services import platform_hostname

    user, _ = get_user_model().objects.get_or_create(username="bench_stats_admin", defaults={"is_superuser": True})
    client = Client()
    client.force_login(user)
    host = platform_hostname(TENANT_SLUG)
    params = {"start": rng.start.isoformat(), "end": rng.end.isoformat()}

    def get():
        answer = client.get("/admin/statistics/", params, HTTP_HOST=host)
        assert answer.status_code == 200, answer.status_code

    return timed(get)


def day_rollup(day) -> float:
    from stats.models import DailyCount, Event
    from stats.services import day_bounds, rollup_day

    rnd = random.Random(day.toordinal())  # noqa: S311
    origin = day_bounds(day)[0]
    Event.objects.filter(occurred_at__gte=origin, occurred_at__lt=day_bounds(day)[1]).delete()
    _copy(
        "stats_event",
        "kind, occurred_at, subject",
        (
            (rnd.choice(KINDS), (origin + timedelta(seconds=rnd.randrange(86400))).isoformat(), rnd.choice(WORDS))
            for _ in range(DAY_EVENTS)
        ),
    )
    start = time.perf_counter()
    rollup_day(day)
    took = time.perf_counter() - start
    counted = sum(
        DailyCount.objects.filter(
            day=day, subject="", metric__in=["search", "play", "download", "search_empty"]
        ).values_list("count", flat=True)
    )
    assert counted == DAY_EVENTS, counted  # the roll-up saw every event of the day
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="raw events over the year (default 1,000,000)")
    parser.add_argument("--drop", action="store_true", help="remove the benchstats tenant")
    args = parser.parse_args()
    provision.setup_django()
    if args.drop:
        provision.drop_tenant(TENANT_SLUG)
        print(f"removed tenant {TENANT_SLUG}")
        return 0
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from stats.models import DailyCount, Event
    from stats.services import DateRange, rollup_day
    from stats.views import dashboard_tables

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"database {provision.database_label()}, {os.cpu_count()} CPU(s), load average {load}")
    created = prepare()
    print(f"tenant {TENANT_SLUG}: {'created' if created else 'reused'}")
    today = timezone.localdate()
    first_day = today - timedelta(days=365)
    rng = DateRange(first_day, today - timedelta(days=1))
    with schema_context(TENANT_SLUG):
        if Event.objects.count() != args.events or not DailyCount.objects.exists():
            took = generate(args.events, first_day)
            print(f"generated {args.events:,} events and a year of hourly page views in {took:.1f} s")
            start = time.perf_counter()
            for day in rng.days:
                rollup_day(day)
            print(f"rolled up {len(rng.days)} days in {time.perf_counter() - start:.1f} s")
        else:
            print(f"reusing {args.events:,} generated events and their roll-ups")
        raw = timed(lambda: raw_tables(rng))
        rolled = timed(lambda: dashboard_tables(rng))
        page = page_time(rng)
        one_day = day_rollup(today - timedelta(days=400))
    print()
    print(f"Dashboard over {len(rng.days)} days, {args.events:,} raw events (median of 3)")
    print(f"  {'from raw rows (events + hourly page views)':<48}{raw:8.3f} s")
    print(
        f"  {'from roll-ups (dashboard_tables)':<48}{rolled:8.3f} s   target ≤ {TARGET_DASHBOARD_S:g} s   "
        f"{provision.mark(rolled <= TARGET_DASHBOARD_S)}"
    )
    print(
        f"  {'admin page /admin/statistics/ (from roll-ups)':<48}{page:8.3f} s   target ≤ {TARGET_DASHBOARD_S:g} s   "
        f"{provision.mark(page <= TARGET_DASHBOARD_S)}"
    )
    print(f"  {'raw / roll-ups':<48}{raw / rolled:8.1f} ×")
    print(
        f"  {f'roll-up of one day of {DAY_EVENTS:,} events':<48}{one_day:8.3f} s   target ≤ {TARGET_DAY_ROLLUP_S:g} s   "
        f"{provision.mark(one_day <= TARGET_DAY_ROLLUP_S)}"
    )
    ok = rolled <= TARGET_DASHBOARD_S and page <= TARGET_DASHBOARD_S and one_day <= TARGET_DAY_ROLLUP_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
