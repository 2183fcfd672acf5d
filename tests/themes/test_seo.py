"""Per-tenant robots.txt, sitemap, canonical and Open Graph tags, and the site switcher."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"


def test_robots_txt_points_at_the_sitemap_on_the_primary_url(client, settings):
    port = settings.PLATFORM_PORT
    body = client.get("/robots.txt", HTTP_HOST=ZJ).content.decode()
    assert f"Sitemap: http://zhejiang.culture.localhost:{port}/sitemap.xml" in body
    assert "Disallow: /admin/" in body
    # dalian is public on its own domain: asked on either of its hosts, robots.txt names that one
    for host in ("dalian-culture.localhost", "dalian.culture.localhost"):
        body = client.get("/robots.txt", HTTP_HOST=host).content.decode()
        assert f"Sitemap: http://dalian-culture.localhost:{port}/sitemap.xml" in body


def test_sitemap_lists_this_tenants_pages_only(client, settings):
    body = client.get("/sitemap.xml", HTTP_HOST=ZJ).content.decode()
    assert f"<loc>http://zhejiang.culture.localhost:{settings.PLATFORM_PORT}/</loc>" in body
    assert "sichuan" not in body


def test_sitemap_on_another_host_of_the_tenant_redirects_to_the_primary_one(client, settings):
    response = client.get("/sitemap.xml", HTTP_HOST="dalian.culture.localhost")
    assert response.status_code == 301
    assert response["Location"] == f"http://dalian-culture.localhost:{settings.PLATFORM_PORT}/sitemap.xml"
    body = client.get("/sitemap.xml", HTTP_HOST="dalian-culture.localhost").content.decode()
    assert f"<loc>http://dalian-culture.localhost:{settings.PLATFORM_PORT}/</loc>" in body
    assert "dalian.culture.localhost" not in body


def test_canonical_and_open_graph_tags_on_the_tenants_domain(client, settings):
    html = client.get("/", HTTP_HOST="sichuan.culture.localhost").content.decode()
    assert f'<link rel="canonical" href="http://sichuan.culture.localhost:{settings.PLATFORM_PORT}/">' in html
    assert '<meta property="og:site_name" content="四川文化云">' in html
    assert '<meta property="og:title" content="四川文化云">' in html


def test_site_switcher_lists_every_open_site_and_is_cached(client):
    from tenants.services import set_site_active

    html = client.get("/", HTTP_HOST=ZJ).content.decode()
    assert "切换站点" in html
    for name, url in [
        ("国家公共文化云", "http://national.culture.localhost:8000/"),
        ("四川文化云", "http://sichuan.culture.localhost:8000/"),
        ("大连文化云", "http://dalian-culture.localhost:8000/"),
    ]:
        assert f'<a href="{url}">{name}</a>' in html
    assert 'aria-current="page">浙江文化云</a>' in html
    set_site_active("liaoning", False)
    html = client.get("/", HTTP_HOST=ZJ).content.decode()
    assert "辽宁文化云" not in html
    set_site_active("liaoning", True)

    from django.core.cache import cache
    from django.template import Context, Template
    from django.test import RequestFactory

    template = Template("{% load culture_theme %}{% site_switcher %}")
    cache.clear()
    for expected in (2, 0):  # the sites and their domains, then from the cache
        with CaptureQueriesContext(connection) as queries:
            template.render(Context({"request": RequestFactory().get("/")}))
        selects = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
        assert len(selects) == expected, selects


def test_news_rss_per_tenant_on_its_own_host(client):
    from django_tenants.utils import schema_context

    from cms_pages.models import NewsPage

    with schema_context("zhejiang"):
        titles = list(NewsPage.objects.live().values_list("title", flat=True))
    response = client.get("/rss.xml", HTTP_HOST=ZJ)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    body = response.content.decode()
    assert "<title>浙江文化云 · 新闻动态</title>" in body
    assert titles and all(title in body for title in titles)
    assert "<link>http://zhejiang.culture.localhost:8000/news/" in body
    assert "sichuan.culture.localhost" not in body
    html = client.get("/", HTTP_HOST=ZJ).content.decode()
    assert 'type="application/rss+xml"' in html


def test_home_page_is_light_and_has_no_third_party_assets(client):
    import re

    html = client.get("/", HTTP_HOST=ZJ).content.decode()
    assets = re.findall(r'<(?:link|script|img)[^>]+(?:href|src)="([^"]+)"', html)
    third_party = [a for a in assets if a.startswith(("http://", "https://", "//")) and "culture.localhost" not in a]
    assert third_party == []
    total = len(html.encode())
    for asset in {a for a in assets if a.startswith("/static/")}:
        response = client.get(asset, HTTP_HOST=ZJ)
        total += len(b"".join(response.streaming_content) if response.streaming else response.content)
    assert total <= 300 * 1024, f"{total} bytes"


def test_main_navigation_lists_the_sites_sections(client):
    html = client.get("/news/", HTTP_HOST=ZJ).content.decode()
    assert '<nav class="site-nav" aria-label="主导航">' in html
    for title, url in [
        ("新闻动态", "/news/"),
        ("活动预约", "/activities/"),
        ("场馆导航", "/venues/"),
        ("数字资源", "/resources/"),
    ]:
        assert f'href="{url}"' in html and title in html
    assert '<a href="/news/" aria-current="page">新闻动态</a>' in html
