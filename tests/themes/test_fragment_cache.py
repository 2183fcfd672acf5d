"""What the theme keeps in the tenant's cache between requests (the Wagtail Site, branding, the site
header, the language switcher, the home page's lists): each change shows on the next request, and
other tenants keep what they have cached. The full-page cache is off here, so every request renders.
"""

import datetime
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context
from wagtail.models import Locale, Site

from cms_pages.models import ActivityIndexPage, ActivityPage, HomePage, NewsIndexPage, NewsPage
from core.page_cache import content_version
from themes.models import Branding

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"


@pytest.fixture(autouse=True)
def _rendered_every_time(settings):
    """No full-page cache; and no fragment of a rolled-back test left for the next one."""
    settings.PAGE_CACHE_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


def get(client, host: str, path: str = "/") -> tuple[str, list[str]]:
    """The page and the SELECTs it took."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, HTTP_HOST=host)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT")]


def loads(queries: list[str], table: str) -> bool:
    return any(f'FROM "{table}"' in q or f'"{table}"."id"' in q for q in queries)


def test_home_lists_come_from_the_cache_until_a_publish(client):
    get(client, ZJ)
    get(client, SC)
    _, queries = get(client, ZJ)
    assert not loads(queries, "cms_pages_newspage") and not loads(queries, "cms_pages_activitypage")

    with schema_context("zhejiang"):
        news = NewsIndexPage.objects.get().add_child(
            instance=NewsPage(
                title="刚刚发布的新闻", slug="just-published", date=timezone.localdate() + datetime.timedelta(1)
            )
        )
        news.save_revision().publish()
    html, queries = get(client, ZJ)
    assert "刚刚发布的新闻" in html and loads(queries, "cms_pages_newspage")
    html, queries = get(client, SC)
    assert "刚刚发布的新闻" not in html
    assert not loads(queries, "cms_pages_newspage")  # sichuan's lists are still cached

    with schema_context("zhejiang"):
        NewsPage.objects.get(pk=news.pk).unpublish()
    assert "刚刚发布的新闻" not in get(client, ZJ)[0]


def test_an_activity_leaves_the_cached_home_list_when_it_ends(client, monkeypatch):
    from types import SimpleNamespace

    from django.core.cache.backends import locmem

    now = timezone.now()
    with schema_context("zhejiang"):
        ActivityIndexPage.objects.get().add_child(
            instance=ActivityPage(
                title="即将结束的活动",
                slug="ending-soon",
                start=now - datetime.timedelta(hours=2),
                end=now + datetime.timedelta(seconds=60),
            )
        ).save_revision().publish()
    assert "即将结束的活动" in get(client, ZJ)[0]
    html, queries = get(client, ZJ)
    assert "即将结束的活动" in html and not loads(queries, "cms_pages_activitypage")
    # A minute later (the clock moved, not the test: a slow machine must not make the activity end
    # before the cached copy was seen): both the query's "now" and the cache's expiry clock.
    real_now, real_time = timezone.now, time.time
    monkeypatch.setattr(timezone, "now", lambda: real_now() + datetime.timedelta(seconds=61))
    monkeypatch.setattr(locmem, "time", SimpleNamespace(time=lambda: real_time() + 61))
    html, queries = get(client, ZJ)
    assert "即将结束的活动" not in html and loads(queries, "cms_pages_activitypage")


def test_branding_in_the_cached_header_changes_on_the_next_request(client):
    get(client, ZJ)
    get(client, SC)
    html, queries = get(client, ZJ)
    assert not loads(queries, "themes_branding")
    with schema_context("zhejiang"):
        branding = Branding.for_site(Site.objects.get())
        branding.site_name = "浙江省文化馆云"
        branding.save()
    html = get(client, ZJ)[0]
    assert '<a class="brand" href="/">浙江省文化馆云</a>' in html
    assert "<title>浙江文化云 · 浙江省文化馆云</title>" in html
    html, queries = get(client, SC)
    assert "浙江省文化馆云" not in html and not loads(queries, "themes_branding")


def test_a_published_translation_appears_in_the_cached_language_switcher(client):
    assert 'class="language-switcher"' not in get(client, ZJ)[0]
    get(client, SC)
    with schema_context("zhejiang"):
        home = HomePage.objects.get(locale__language_code="zh-hans")
        english = home.copy_for_translation(Locale.objects.get(language_code="en"))
        english.title = "Zhejiang Culture Cloud"
        english.save_revision().publish()
    assert 'href="/en/" lang="en" hreflang="en">English</a>' in get(client, ZJ)[0]
    assert 'class="language-switcher"' not in get(client, SC)[0]


def test_the_wagtail_site_comes_from_the_cache_and_a_site_change_is_seen(client):
    get(client, ZJ)
    _, queries = get(client, ZJ)
    assert not loads(queries, "wagtailcore_site")
    with schema_context("zhejiang"):
        site = Site.objects.get()
        site.root_page = NewsIndexPage.objects.get()
        site.save()
    html, queries = get(client, ZJ)
    assert loads(queries, "wagtailcore_site")
    assert "<h1>新闻动态</h1>" in html and 'id="home-news"' not in html  # the new root page
    assert '<h2 id="home-news">' in get(client, SC)[0]


def test_saving_an_image_moves_the_content_version(settings, tmp_path):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    settings.MEDIA_ROOT = tmp_path
    with schema_context("zhejiang"):
        before = content_version()
        Image.objects.create(title="封面", file=get_test_image_file())
        assert content_version() > before


def test_the_site_switcher_is_read_once_for_every_tenant(client):
    """The switcher lists every site, the same on each tenant: read once for all of them (at 1,000
    tenants reading it per tenant cost each tenant's first page ~300 ms)."""
    from django.core.cache import caches

    caches["pages"].clear()  # the shared cache the switcher is kept in
    zhejiang_page, zhejiang_queries = get(client, ZJ)
    sichuan_page, sichuan_queries = get(client, SC)

    def reads_the_sites(queries: list[str]) -> bool:
        return any('FROM "tenants_culturesite"' in q and "region_code" in q.split("ORDER BY")[-1] for q in queries)

    assert reads_the_sites(zhejiang_queries)
    assert not reads_the_sites(sichuan_queries)
    assert "四川" in zhejiang_page and "浙江" in sichuan_page  # each lists the other
