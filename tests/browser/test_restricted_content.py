"""A restricted page's title never appears to an anonymous visitor on any list page of its site,
nor on the national site (catalogue, search, home), in a real browser against a live server.

The server sees committed data only: the pages are created, pushed and restricted for real here,
and removed again (with their federation records) at the end. The server is started after that
(`fresh_server`): the shared `live_platform` keeps in-process caches from earlier tests, which a
change made in this process cannot reach (a deployment shares them through Redis or the cache
folder; tests use per-process memory)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.live_server import running_server

ZJ = "zhejiang.culture.localhost"
NATIONAL = "national.culture.localhost"
SECRET = "机密馆藏清点"  # in every restricted title; must never reach an anonymous visitor
SECRET_HANT = "機密館藏清點"  # the same in the zh-Hant versions


def _publish(parent, page):
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def restricted_world(django_db_blocker):
    from wagtail.models import Page, PageViewRestriction

    from cms_pages import models as m
    from federation import services
    from federation.models import OutboxEntry, Record
    from languages.services import sync_traditional

    created: dict[str, list] = {"zhejiang": [], "national": []}
    with django_db_blocker.unblock():
        with schema_context("zhejiang"):
            # Making zh-Hant versions also makes the zh-Hant tree above them (home, sections):
            # everything zh-Hant that is new is removed at the end (the database is kept).
            hant_before = set(Page.objects.filter(locale__language_code="zh-hant").values_list("pk", flat=True))
        try:
            with schema_context("zhejiang"):
                now = timezone.now()
                news = _publish(
                    m.NewsIndexPage.objects.get(),
                    m.NewsPage(title=f"{SECRET}通知", summary="内部", push_to_national=True),
                )
                services.deliver_pending()  # pushed while public: in the national catalogue now
                activity = _publish(
                    m.ActivityIndexPage.objects.get(),
                    m.ActivityPage(
                        title=f"{SECRET}活动",
                        start=now + datetime.timedelta(minutes=30),
                        end=now + datetime.timedelta(hours=1),
                        venue=m.VenuePage.objects.live().first(),
                        push_to_national=True,
                    ),
                )
                resource = _publish(
                    m.ResourceIndexPage.objects.get(),
                    m.ResourcePage(title=f"{SECRET}资源", kind="article", category="art", push_to_national=True),
                )
                services.deliver_pending()
                for page in (news, activity, resource):
                    sync_traditional(page)  # their zh-Hant versions, made while they were public
                for page in (news, activity, resource):
                    PageViewRestriction.objects.create(page=page, restriction_type="login")
                services.deliver_pending()  # withdrawn upstream
                created["zhejiang"] = [news, activity, resource]
            with schema_context("national"):
                own = _publish(
                    m.ResourceIndexPage.objects.get(),
                    m.ResourcePage(title=f"{SECRET}国家资源", kind="article", category="art"),
                )
                PageViewRestriction.objects.create(page=own, restriction_type="password", password="mima-2026")
                created["national"] = [own]
            connection.set_schema_to_public()
            yield created
        finally:
            for schema, pages in created.items():
                with schema_context(schema):
                    uids = [page.uid for page in pages]
                    for page in pages:
                        type(page).objects.filter(pk=page.pk).delete()
                    if schema == "zhejiang":
                        new_hant = Page.objects.filter(locale__language_code="zh-hant").exclude(pk__in=hant_before)
                        for pk in new_hant.order_by("depth").values_list("pk", flat=True):
                            version = Page.objects.filter(pk=pk).first()
                            if version is not None:  # not already gone with its parent
                                version.delete()
                    OutboxEntry.objects.filter(record__uid__in=uids).delete()
                    Record.objects.filter(uid__in=uids).delete()
                with schema_context("national"):
                    Record.objects.filter(uid__in=uids).delete()
            connection.set_schema_to_public()


@pytest.fixture
def fresh_server(restricted_world, django_db_blocker):
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    with running_server(db_name, label="browser-restricted") as server:
        yield server


def test_an_anonymous_visitor_never_sees_a_restricted_title_on_any_list(fresh_server, page, restricted_world):
    def url(host: str, path: str) -> str:
        return f"http://{host}:{fresh_server.port}{path}"

    zhejiang_lists = [
        "/",
        "/news/",
        "/activities/",
        "/resources/",
        "/venues/",
        "/venues/main-venue/",
        "/search/?q=机密",
        "/rss.xml",
        "/sitemap.xml",
        "/zh-hant/",
        "/zh-hant/news/",
        "/zh-hant/activities/",
        "/zh-hant/resources/",
        "/zh-hant/search/?q=機密",
    ]
    national_lists = ["/", "/resources/", "/search/?q=机密", "/catalogue/", "/catalogue/?q=机密", "/rss.xml"]
    for host, paths in ((ZJ, zhejiang_lists), (NATIONAL, national_lists)):
        for path in paths:
            response = page.goto(url(host, path))
            assert response.status == 200, f"{host}{path}"
            assert SECRET not in page.content(), f"restricted title shown on {host}{path}"
            assert SECRET_HANT not in page.content(), f"restricted title (zh-Hant) shown on {host}{path}"
    # The lists are real lists: public items show (the demo venue's name on its index).
    page.goto(url(ZJ, "/venues/"))
    assert page.locator("main a").count() > 0

    # The restricted page itself asks for a sign-in, and its catalogue entry is gone.
    news = restricted_world["zhejiang"][0]
    response = page.goto(url(ZJ, news.url_path.removeprefix("/home")))
    assert "/accounts/login/" in page.url or "/login" in page.url
    assert SECRET not in page.content()
    response = page.goto(url(NATIONAL, f"/catalogue/{news.uid}/"))
    assert response.status == 404
