"""Full-page cache: per tenant and language, no queries on a hit, dropped when content changes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from cms_pages.models import HomePage, NewsPage
from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"


def news_path() -> str:
    with schema_context("zhejiang"):
        return NewsPage.objects.live().first().url


def test_second_view_is_served_from_the_cache_without_queries(client):
    path = news_path()
    first = client.get(path, HTTP_HOST=ZJ)
    assert first["X-Page-Cache"] == "miss"
    with CaptureQueriesContext(connection) as ctx:
        second = client.get(path, HTTP_HOST=ZJ)
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert second["X-Frame-Options"] == "DENY" or second.has_header("X-Frame-Options")
    assert [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SET")] == []


def test_cache_is_per_tenant(client):
    client.get("/", HTTP_HOST=ZJ)
    response = client.get("/", HTTP_HOST=SC)
    assert response["X-Page-Cache"] == "miss"
    assert "<h1>四川文化云</h1>" in response.content.decode()


def test_publishing_drops_the_tenants_cached_pages(client):
    client.get("/", HTTP_HOST=ZJ)
    client.get("/", HTTP_HOST=SC)
    assert client.get("/", HTTP_HOST=ZJ)["X-Page-Cache"] == "hit"
    with schema_context("zhejiang"):
        home = HomePage.objects.get(locale__language_code="zh-hans")
        home.title = "浙江文化云 · 新版"
        home.save_revision().publish()
    response = client.get("/", HTTP_HOST=ZJ)
    assert response["X-Page-Cache"] == "miss"
    assert "<h1>浙江文化云 · 新版</h1>" in response.content.decode()
    assert client.get("/", HTTP_HOST=SC)["X-Page-Cache"] == "hit"  # other tenants keep theirs


def test_branding_change_drops_cached_pages(client):
    from wagtail.models import Site

    from themes.models import Branding

    client.get("/", HTTP_HOST=ZJ)
    with schema_context("zhejiang"):
        branding = Branding.for_site(Site.objects.get())
        branding.primary_colour = "#123456"
        branding.save()
    response = client.get("/", HTTP_HOST=ZJ)
    assert response["X-Page-Cache"] == "miss" and "#123456" in response.content.decode()


def test_signed_in_visitors_are_not_served_cached_pages(client):
    client.get("/", HTTP_HOST=ZJ)
    assert client.login(username="zhejiang_editor", password=DEMO_PASSWORD)
    response = client.get("/", HTTP_HOST=ZJ)
    assert not response.has_header("X-Page-Cache")
    assert "个人中心" in response.content.decode()


def test_the_version_moves_again_when_the_change_commits_in_its_own_tenant(django_capture_on_commit_callbacks):
    """A request served between the change and its commit read the old rows: what it cached
    under the new version is dropped when the transaction commits (requests are atomic)."""
    from core.page_cache import content_changed, content_version

    with schema_context("zhejiang"):
        before = content_version()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            content_changed()
        assert content_version() == before + 1
    with schema_context("sichuan"):
        sichuan = content_version()
        for callback in callbacks:  # the commit may come while another schema is active
            callback()
        assert content_version() == sichuan
    with schema_context("zhejiang"):
        assert content_version() == before + 2
