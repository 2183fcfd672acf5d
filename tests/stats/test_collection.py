"""Counting: a known sequence of requests gives known counts (cached pages included), per tenant,
roll-ups equal the raw rows, and nothing personal reaches the database."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.db.models import Count
from django_tenants.utils import schema_context

from cms_pages.models import NewsPage
from stats import collect, services
from stats.models import DailyCount, Event, PageViews

pytestmark = pytest.mark.django_db
ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"
ADDRESS = "203.0.113.77"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) StatsTest/1.0"


def _reset(schema: str) -> None:
    """Start from an empty buffer: whatever earlier tests counted is flushed and thrown away."""
    collect.flush()
    client = collect.redis_client()
    client.delete(collect.pv_key(schema), collect.pv_key(schema) + ":draining")
    client.delete(collect.uv_key(schema, services.today()))


@pytest.fixture(autouse=True)
def _fresh():
    caches["pages"].clear()
    for schema in ("zhejiang", "sichuan"):
        _reset(schema)
    yield
    caches["pages"].clear()


def _roll(schema: str) -> dict[str, int]:
    collect.flush()
    with schema_context(schema):
        services.run_rollup()
        return {
            (metric, subject): count
            for metric, subject, count in DailyCount.objects.filter(day=services.today()).values_list(
                "metric", "subject", "count"
            )
        }


def test_known_requests_give_known_counts_cached_pages_included(client):
    with schema_context("zhejiang"):
        news = NewsPage.objects.live().first().url
    headers = {"HTTP_HOST": ZJ, "REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": AGENT}
    assert client.get("/", **headers)["X-Page-Cache"] == "miss"
    assert client.get("/", **headers)["X-Page-Cache"] == "hit"
    assert client.get("/", **headers)["X-Page-Cache"] == "hit"
    client.get(news, **headers)
    client.get(news, HTTP_HOST=ZJ, REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT=AGENT)  # a second visitor
    client.get("/admin/login/", **headers)  # not a public page
    client.get("/", HTTP_HOST=ZJ, REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT="Googlebot/2.1")  # a crawler
    client.head("/", **headers)  # not a view

    counts = _roll("zhejiang")
    assert counts[("page_views", "")] == 5
    assert counts[("cached_views", "")] == 3  # two hits on /, the second request for the news page
    assert counts[("page_views", "/")] == 3
    assert counts[("page_views", news)] == 2
    assert counts[("visitors", "")] == 2
    assert not any(subject.startswith("/admin") for _, subject in counts)

    # Another tenant counted nothing of it.
    assert ("page_views", "") not in _roll("sichuan")
    # Rolling up again (the worker runs every minute) changes nothing.
    assert _roll("zhejiang")[("page_views", "")] == 5


def test_cached_hits_at_the_asgi_level_are_counted():
    from asgiref.sync import async_to_sync
    from django.test import Client

    from core.page_cache import PageCacheASGI

    assert Client().get("/", HTTP_HOST=ZJ, HTTP_USER_AGENT=AGENT)["X-Page-Cache"] == "miss"
    sent = []

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    async def django_app(scope, receive, send):  # never reached on a hit
        raise AssertionError("a hit must be answered before Django")

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [(b"host", ZJ.encode()), (b"user-agent", AGENT.encode())],
        "client": (ADDRESS, 5000),
    }
    async_to_sync(PageCacheASGI(django_app))(scope, receive, send)
    assert sent[0]["status"] == 200
    counts = _roll("zhejiang")
    assert counts[("page_views", "/")] == 2
    assert counts[("cached_views", "")] == 1


def test_searches_and_searches_without_results_are_counted_without_numbers(client):
    from django.core.management import call_command

    with schema_context("zhejiang"):
        title = NewsPage.objects.live().first().title
        call_command("wagtail_update_index", verbosity=0)
    assert client.get("/search/", {"q": title}, HTTP_HOST=ZJ).context["outcome"].total
    client.get("/search/", {"q": "完全不存在的词 13800138000"}, HTTP_HOST=ZJ)
    client.get("/search/", {"q": title, "page": "2"}, HTTP_HOST=ZJ)  # the same search, paged
    counts = _roll("zhejiang")
    assert counts[("search", "")] == 2
    assert counts[("search_empty", "")] == 1
    assert counts[("search_empty", "完全不存在的词 ＊")] == 1
    with schema_context("sichuan"):
        assert not Event.objects.filter(kind="search", occurred_at__date=services.today()).exists()


def test_rollups_equal_raw_counts():
    with schema_context("zhejiang"):
        zone = services.zone()
        first = date(2021, 3, 1)
        events = []
        for n in range(600):
            when = datetime(2021, 3, 1, 8, tzinfo=zone) + timedelta(hours=n % 70, minutes=n % 60)
            kind = ["search", "search_empty", "play", "download"][n % 4]
            events.append(Event(kind=kind, subject=f"词{n % 7}", occurred_at=when))
        Event.objects.bulk_create(events)
        PageViews.objects.bulk_create(
            [
                PageViews(
                    hour=datetime(2021, 3, 1, h, tzinfo=zone) + timedelta(days=h % 3), path=f"/p{h % 5}/", views=h + 1
                )
                for h in range(24)
            ]
        )
        for offset in range(3):
            services.rollup_day(first + timedelta(days=offset))
        for offset in range(3):
            day = first + timedelta(days=offset)
            start, end = services.day_bounds(day)
            raw = dict(
                Event.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
                .values_list("kind")
                .annotate(n=Count("id"))
            )
            rolled = dict(DailyCount.objects.filter(day=day, subject="", metric__in=raw).values_list("metric", "count"))
            assert rolled == raw
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT coalesce(sum(views), 0) FROM stats_pageviews WHERE hour >= %s AND hour < %s", [start, end]
                )
                raw_views = cursor.fetchone()[0]
            assert DailyCount.objects.get(day=day, metric="page_views", subject="").count == raw_views
        rng = services.DateRange(first, first + timedelta(days=2))
        start, end = services.day_bounds(first)[0], services.day_bounds(rng.end)[1]
        raw_searches = Event.objects.filter(kind="search", occurred_at__gte=start, occurred_at__lt=end).count()
        assert services.totals(rng)["search"][0] == raw_searches > 100


def test_domain_counts_come_from_their_own_tables():
    from bookings.models import Booking

    with schema_context("zhejiang"):
        booking = Booking.objects.filter(checked_in_at__isnull=False).first() or Booking.objects.first()
        day = booking.created_at.astimezone(services.zone()).date()
        services.rollup_day(day)
        start, end = services.day_bounds(day)
        made = Booking.objects.filter(created_at__gte=start, created_at__lt=end)
        row = DailyCount.objects.get(day=day, metric="bookings", subject="")
        assert row.count == made.count()
        assert row.amount == Decimal(sum(made.values_list("quantity", flat=True)))


def test_no_personal_data_in_events_or_aggregates(client):
    with schema_context("zhejiang"):
        email = "someone@example.com"
    client.get("/", HTTP_HOST=ZJ, REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT)
    client.get("/search/", {"q": f"找 {email} 18912345678"}, HTTP_HOST=ZJ, REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT)
    _roll("zhejiang")
    forbidden = [ADDRESS, "203.0.113", AGENT, "StatsTest", email, "18912345678"]
    with schema_context("zhejiang"), connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'zhejiang' AND table_name LIKE 'stats\\_%%'"
        )
        columns = cursor.fetchall()
        assert columns
        assert not [c for t, c in columns if any(word in c for word in ("user", "ip", "address", "email", "agent"))]
        for table in {t for t, _ in columns}:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (our own table names)
            text = repr(cursor.fetchall())
            assert not [word for word in forbidden if word in text], table
