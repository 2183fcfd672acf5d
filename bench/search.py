"""Search benchmark: p95 latency of a tenant's site search over 10,000 Chinese pages.

Run on demand from the repository root (it is not a test):

    .venv/bin/python bench/search.py               # builds the tenant the first time, then reuses it
    .venv/bin/python bench/search.py --queries 500
    .venv/bin/python bench/search.py --rebuild     # drop the tenant and build it again
    .venv/bin/python bench/search.py --drop        # remove the tenant and stop

It works in `culture_bench` (see bench/provision.py). The tenant `benchsearch` holds --pages
NewsPage pages with generated Chinese titles and summaries under one news index. They are created
with `add_child` (no revisions, the search index's save signal switched off) and then indexed
once with `wagtail_update_index` inside the schema. The tenant is kept for the next run: building
it takes minutes. Queries go through `cms_pages.search.search_site({"q": word})` in-process,
as the search view calls it (the first page of results highlighted). See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time

import provision  # bench/provision.py: Django set-up

TENANT_SLUG = "benchsearch"
TENANT_NAME = "文化云搜索基准站"
TARGET_P95_MS = 100.0
BATCH = 500
QUERY_WORDS = ("广场舞", "非遗", "图书馆", "公开课", "戏曲", "阅读", "展演", "年画", "志愿", "直播")
# Each generated page takes one topic for its title and one or two more for its summary, so a
# query word matches a few percent of the pages, as in a real site (not all of them, not none).
OTHER_TOPICS = (
    "剪纸", "书法", "合唱", "民乐", "摄影", "讲座", "培训", "少儿", "老年大学", "乡村春晚",
    "文化馆", "博物馆", "美术馆", "读书会", "电影", "话剧", "舞蹈", "刺绣", "皮影", "京剧",
)  # fmt: skip
TOPICS = QUERY_WORDS + OTHER_TOPICS
PLACES = ("石家庄", "太原", "沈阳", "长春", "南京", "杭州", "合肥", "福州", "南昌", "济南", "郑州", "武汉",
          "长沙", "广州", "南宁", "海口", "成都", "贵阳", "昆明", "西安", "兰州", "西宁", "银川", "大连")  # fmt: skip
TITLE_FORMS = (
    "{place}{topic}活动圆满落幕",
    "{place}举办{topic}主题周",
    "{topic}走进{place}社区",
    "{place}市民热议{topic}新变化",
    "第{n}届{place}{topic}季开幕",
    "{place}{topic}服务再升级",
)
SUMMARY_FORMS = (
    "{place}各级公共文化机构联合开展{topic}和{other}活动，吸引{n}余名群众参与。",
    "本次{topic}活动由{place}文化馆主办，同时推出{other}线上课程，市民可免费报名。",
    "{place}文化馆、美术馆共同举办{topic}展示，并邀请专家讲解{other}的历史与传承。",
)


# --- the tenant ---------------------------------------------------------------------------


def tenant_exists() -> bool:
    from tenants.models import CultureSite

    return CultureSite.objects.filter(schema_name=TENANT_SLUG).exists()


def drop_tenant() -> None:
    provision.drop_tenant(TENANT_SLUG)


def create_tenant() -> None:
    from serve import free_province_code, prepare_platform

    from tenants import services

    prepare_platform()
    spec = services.NewSite(slug=TENANT_SLUG, name=TENANT_NAME, kind="province", region_code=free_province_code())
    services.create_culture_site(spec)


def news_index():
    """The tenant's one news index (created under the home page the first time)."""
    from cms_pages.models import HomePage, NewsIndexPage

    index = NewsIndexPage.objects.first()
    if index is None:
        home = HomePage.objects.get(locale__language_code="zh-hans")
        index = home.add_child(instance=NewsIndexPage(title="新闻动态", slug="news", live=True))
    return index


def page_fields(i: int, rng: random.Random) -> dict:
    topic, *others = rng.sample(TOPICS, 3)
    place = rng.choice(PLACES)
    title = rng.choice(TITLE_FORMS).format(place=place, topic=topic, n=rng.randint(2, 30))
    summary = " ".join(
        rng.choice(SUMMARY_FORMS).format(place=place, topic=topic, other=other, n=rng.randint(2, 90) * 10)
        for other in others[: rng.randint(1, 2)]
    )
    return {
        "title": title,
        "slug": f"news-{i:05d}",
        "summary": summary,
        "date": datetime.date(2026, 1, 1) + datetime.timedelta(days=i % 320),
        "source": f"{place}文化馆",
    }


def create_pages(target: int, seed: int) -> tuple[int, float]:
    """Add NewsPages until the tenant has `target` of them; (pages added, seconds)."""
    from django.db import transaction
    from django.db.models.signals import post_save
    from django.utils import timezone
    from modelsearch.signal_handlers import post_save_signal_handler

    from cms_pages.models import NewsPage

    existing = NewsPage.objects.count()
    if existing >= target:
        return 0, 0.0
    rng = random.Random(seed)
    fields = [page_fields(i, rng) for i in range(target)][existing:]  # the same pages whatever the resume point
    index = news_index()
    # Indexed in one go afterwards: one search-index task per page would flood the task queue.
    post_save.disconnect(post_save_signal_handler, sender=NewsPage)
    start = time.perf_counter()
    try:
        for offset in range(0, len(fields), BATCH):
            with transaction.atomic():
                for values in fields[offset : offset + BATCH]:
                    now = timezone.now()
                    page = NewsPage(**values, live=True, first_published_at=now, last_published_at=now)
                    index.add_child(instance=page)
            done = existing + offset + len(fields[offset : offset + BATCH])
            rate = (done - existing) / (time.perf_counter() - start)
            print(f"  pages {done:>6}/{target}  {rate:5.0f} pages/s", flush=True)
    finally:
        post_save.connect(post_save_signal_handler, sender=NewsPage)
    return len(fields), time.perf_counter() - start


def indexed_pages() -> int:
    from django.contrib.contenttypes.models import ContentType
    from wagtail.search.models import IndexEntry

    from cms_pages.models import NewsPage

    return IndexEntry.objects.filter(content_type=ContentType.objects.get_for_model(NewsPage)).count()


def ensure_search_tenant(target: int, seed: int, rebuild: bool) -> None:
    """Build (or finish building) the tenant; reuse it as it is when it already has the pages."""
    from django.core.management import call_command
    from django_tenants.utils import schema_context
    from serve import prepare_platform

    from cms_pages.models import NewsPage
    from core.chinese import INDEX_VERSION
    from tenants.models import CultureSite

    prepare_platform()  # a fresh database: the public schema first
    if rebuild and tenant_exists():
        drop_tenant()
        print(f"--rebuild: dropped tenant {TENANT_SLUG}")
    created = 0.0
    if not tenant_exists():
        start = time.perf_counter()
        create_tenant()
        created = time.perf_counter() - start
    with schema_context(TENANT_SLUG):
        added, seconds = create_pages(target, seed)
        indexing = 0.0
        stale = CultureSite.objects.filter(schema_name=TENANT_SLUG, search_index_version__lt=INDEX_VERSION).exists()
        if added or stale or indexed_pages() < NewsPage.objects.count():
            start = time.perf_counter()
            call_command("wagtail_update_index", verbosity=0)
            indexing = time.perf_counter() - start
            CultureSite.objects.filter(schema_name=TENANT_SLUG).update(search_index_version=INDEX_VERSION)
        pages, entries = NewsPage.objects.count(), indexed_pages()
    if not (created or added or indexing):
        print(f"tenant {TENANT_SLUG}: reused ({pages} news pages, {entries} index entries); --rebuild to build again")
        return
    print(f"tenant {TENANT_SLUG}: {pages} news pages, {entries} index entries")
    print(f"  tenant created                {created:7.1f} s")
    print(f"  {added:>5} pages added (add_child) {seconds:7.1f} s  ({added / seconds if seconds else 0:.0f} pages/s)")
    print(f"  wagtail_update_index          {indexing:7.1f} s")
    print(f"  setup total                   {created + seconds + indexing:7.1f} s")


# --- the queries --------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run_queries(count: int, seed: int) -> dict[str, list[tuple[float, int]]]:
    """`count` queries drawn from QUERY_WORDS; per word, (milliseconds, results) of each query."""
    from django_tenants.utils import schema_context

    from cms_pages.search import search_site

    rng = random.Random(seed)
    words = [QUERY_WORDS[i % len(QUERY_WORDS)] for i in range(count)]
    rng.shuffle(words)
    timings: dict[str, list[tuple[float, int]]] = {w: [] for w in QUERY_WORDS}
    with schema_context(TENANT_SLUG):
        for word in QUERY_WORDS:  # warm-up: jieba's dictionary, the connection, the models
            search_site({"q": word})
        for word in words:
            start = time.perf_counter()
            outcome = search_site({"q": word})
            timings[word].append(((time.perf_counter() - start) * 1000, outcome.total))
    return timings


def report(timings: dict[str, list[tuple[float, int]]]) -> bool:
    all_ms = [ms for runs in timings.values() for ms, _ in runs]
    print()
    print(f"Search, {len(all_ms)} queries (search_site, in-process, first page highlighted)")
    print(f"  {'word':<8}{'queries':>8}{'results':>9}{'p50 ms':>9}{'max ms':>9}")
    for word, runs in timings.items():
        ms = [m for m, _ in runs]
        print(f"  {word:<8}{len(runs):>8}{runs[0][1]:>9}{statistics.median(ms):9.1f}{max(ms):9.1f}")
    p95 = percentile(all_ms, 95)
    ok = p95 <= TARGET_P95_MS
    print()
    print(f"  all queries   p50 {statistics.median(all_ms):6.1f} ms   p95 {p95:6.1f} ms   max {max(all_ms):6.1f} ms")
    print(f"  target p95 ≤ {TARGET_P95_MS:g} ms: {provision.mark(ok)}")
    return ok


# --- the run ------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000, help="news pages in the tenant (default 10000)")
    parser.add_argument("--queries", type=int, default=200, help="queries to time (default 200)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the pages and queries")
    parser.add_argument("--rebuild", action="store_true", help="drop the tenant and build it again")
    parser.add_argument("--drop", action="store_true", help="remove the tenant and stop")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    provision.setup_django()
    from django.conf import settings

    if args.drop:
        drop_tenant()
        print(f"removed tenant {TENANT_SLUG}")
        return 0
    # As in production: no per-query logging (core.settings.dev turns DEBUG on).
    settings.DEBUG = False
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"database {provision.database_label()}, {os.cpu_count()} CPU(s), load average {load}")
    ensure_search_tenant(args.pages, args.seed, args.rebuild)
    return 0 if report(run_queries(args.queries, args.seed)) else 1


if __name__ == "__main__":
    sys.exit(main())
