"""Page privacy (Wagtail view restrictions): a restricted page is never listed where its
restriction is not checked, and a restriction change drops the tenant's cached pages at once."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.utils import timezone
from django_tenants.utils import schema_context
from wagtail.models import PageViewRestriction

from cms_pages import models as m

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SECRET = "绝密内部培训"  # in the title of every restricted page here; never shown to an anonymous visitor


@pytest.fixture(autouse=True)
def _empty_caches():
    caches["pages"].clear()
    caches["default"].clear()
    yield
    caches["pages"].clear()
    caches["default"].clear()


def _path(page) -> str:
    return page.url_path.removeprefix("/home")


def restrict(page, restriction_type: str = "login") -> PageViewRestriction:
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=restriction_type, password="mima-2026" if restriction_type == "password" else ""
    )
    if restriction_type == "groups":
        restriction.groups.add(Group.objects.get(name="编辑"))
    return restriction


def publish(parent, page):
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def restricted_world(restriction_type: str) -> dict:
    """In zhejiang: a restricted news item, resource, activity (at the demo venue) and venue, and
    a page whose body lists resources and upcoming activities."""
    now = timezone.now()
    venue_index = m.VenueIndexPage.objects.get()
    venue = m.VenuePage.objects.live().first()
    pages = {
        "news": publish(m.NewsIndexPage.objects.get(), m.NewsPage(title=f"{SECRET}通知", summary="内部")),
        "resource": publish(
            m.ResourceIndexPage.objects.get(),
            m.ResourcePage(title=f"{SECRET}课件", kind="article", category="art"),
        ),
        "activity": publish(
            m.ActivityIndexPage.objects.get(),
            m.ActivityPage(
                title=f"{SECRET}活动",
                start=now + datetime.timedelta(hours=1),  # first among the upcoming ones
                end=now + datetime.timedelta(hours=2),
                venue=venue,
            ),
        ),
        "venue": publish(venue_index, m.VenuePage(title=f"{SECRET}场馆", address="内部地址")),
    }
    for page in pages.values():
        restrict(page, restriction_type)
    home = m.HomePage.objects.get()
    lists = publish(
        home,
        m.StandardPage(
            title="资源与活动一览",
            slug="lists",
            body=[
                {"type": "resource_list", "value": {"title": "最新资源", "category": "", "count": 12}},
                {"type": "upcoming_activities", "value": {"title": "近期活动", "count": 12}},
            ],
        ),
    )
    return {"pages": pages, "venue": venue, "lists": lists, "home": home}


def list_urls(world: dict) -> list[str]:
    return [
        "/",
        _path(m.NewsIndexPage.objects.get()),
        _path(m.ResourceIndexPage.objects.get()),
        _path(m.ActivityIndexPage.objects.get()),
        _path(m.VenueIndexPage.objects.get()),
        _path(world["venue"]),
        _path(world["lists"]),
        "/rss.xml",
        "/sitemap.xml",
        "/search/?q=绝密",  # the query itself is echoed: not the whole title
    ]


@pytest.mark.parametrize("restriction_type", ["password", "login", "groups"])
def test_a_restricted_page_is_in_no_list_of_its_site(client, restriction_type):
    with schema_context("zhejiang"):
        world = restricted_world(restriction_type)
        urls = list_urls(world)
        public_activity = m.ActivityPage.upcoming().first()
    for url in urls:
        response = client.get(url, HTTP_HOST=ZJ)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), f"restricted title listed on {url}"
    # The lists still work: the public items are there.
    assert public_activity.title in client.get(_path(world["lists"]), HTTP_HOST=ZJ).content.decode()


def test_a_restriction_on_a_section_hides_everything_below_it(client):
    with schema_context("zhejiang"):
        news_index = m.NewsIndexPage.objects.get()
        publish(news_index, m.NewsPage(title=f"{SECRET}简报"))
        restrict(news_index)
    assert SECRET not in client.get("/", HTTP_HOST=ZJ).content.decode()
    assert SECRET not in client.get("/rss.xml", HTTP_HOST=ZJ).content.decode()


def test_a_restricted_page_is_still_reached_by_its_url_and_asks_for_its_restriction(client):
    with schema_context("zhejiang"):
        world = restricted_world("password")
        news = world["pages"]["news"]
    response = client.get(_path(news), HTTP_HOST=ZJ)
    assert response.status_code == 200  # Wagtail's password form, not a 404
    assert 'name="password"' in response.content.decode()
    assert "内部" not in response.content.decode()


def test_adding_a_restriction_drops_the_cached_page_and_lists_at_once(client):
    with schema_context("zhejiang"):
        news = publish(m.NewsIndexPage.objects.get(), m.NewsPage(title=f"{SECRET}公告", summary="仅限内部"))
    path = _path(news)
    for url in (path, "/"):
        client.get(url, HTTP_HOST=ZJ)
        assert client.get(url, HTTP_HOST=ZJ)["X-Page-Cache"] == "hit"
    with schema_context("zhejiang"):
        restriction = restrict(news)
    response = client.get(path, HTTP_HOST=ZJ)
    assert response.status_code == 302 and "/login" in response["Location"]
    assert SECRET not in client.get("/", HTTP_HOST=ZJ).content.decode()

    # Changing it (to a password) and removing it take effect at once too.
    with schema_context("zhejiang"):
        restriction.restriction_type, restriction.password = "password", "mima-2026"
        restriction.save()
    assert 'name="password"' in client.get(path, HTTP_HOST=ZJ).content.decode()
    with schema_context("zhejiang"):
        restriction.delete()
    response = client.get(path, HTTP_HOST=ZJ)
    assert response.status_code == 200 and "仅限内部" in response.content.decode()
    assert SECRET in client.get("/", HTTP_HOST=ZJ).content.decode()


def test_a_restriction_in_one_tenant_hides_nothing_in_another(client):
    with schema_context("sichuan"):
        public_news = m.NewsPage.objects.live().public().order_by("-date", "-pk").first()
    with schema_context("zhejiang"):
        restrict(m.NewsIndexPage.objects.get())
    assert public_news.title in client.get("/", HTTP_HOST="sichuan.culture.localhost").content.decode()
