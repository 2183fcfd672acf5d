"""A visitor on a phone uses the national catalogue: 各地精选 on the national home page, a Chinese
search narrowed by origin, an item's detail page, and "查看原文" back to the province that made it.
Every page fits the 360 px screen, has one h1 and no serious axe-core violation."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from .test_content_walk import check_page

NATIONAL = "national.culture.localhost"
PHONE_WIDTH = 360


@pytest.fixture
def catalogue_demo(django_db_blocker):
    """What the walk expects, read from the demo world (committed, so the server sees it too)."""
    from federation.models import Record

    with django_db_blocker.unblock(), schema_context("national"):
        featured = Record.objects.filter(featured=True).order_by("-origin_updated_at", "-seq").first()
        dance = Record.objects.filter(
            is_local=False, status="live", origin_slug="sichuan", title__contains="广场舞"
        ).first()
        assert featured is not None and dance is not None, "the demo world has featured and pushed items"
        return featured, dance


def test_phone_visitor_searches_the_national_catalogue_and_reaches_the_origin(
    live_platform, phone_page, catalogue_demo
):
    page = phone_page
    featured, dance = catalogue_demo

    # National home page: an editors' pick leads to its catalogue entry.
    assert page.goto(live_platform.url(NATIONAL)).status == 200
    picks = page.locator("section", has=page.get_by_role("heading", name="各地精选"))
    picks.get_by_role("link", name=featured.title, exact=True).tap()
    page.wait_for_url(f"**/catalogue/{featured.uid}/")
    expect(page.locator("h1")).to_have_text(featured.title)
    expect(page.locator("dl.facts")).to_contain_text(featured.catalogue_id)
    check_page(page, max_width=PHONE_WIDTH)

    # The catalogue: a Chinese search narrowed to one origin.
    assert page.goto(live_platform.url(NATIONAL, "/catalogue/")).status == 200
    check_page(page, max_width=PHONE_WIDTH)
    page.get_by_label("搜索词").fill("广场舞")
    page.get_by_label("来源").select_option(label=dance.origin_name)
    page.get_by_role("button", name="检索").tap()
    page.wait_for_url("**/catalogue/?q=*")
    results = page.locator(".catalogue-results > li")
    expect(results.first).to_be_visible()
    for text in results.all_inner_texts():
        assert f"来源：{dance.origin_name}" in text
    expect(page.locator(".catalogue-results mark").first).to_have_text("广场舞")
    check_page(page, max_width=PHONE_WIDTH)

    # The item, with its identifier, attribution and the way back to its origin.
    page.locator(".catalogue-results h2 a", has_text=dance.title).tap()
    page.wait_for_url(f"**/catalogue/{dance.uid}/")
    expect(page.locator("p.attribution")).to_have_text(f"来源：{dance.origin_name}")
    expect(page.locator("dl.facts")).to_contain_text(dance.catalogue_id)
    canonical = page.locator("link[rel=canonical]").get_attribute("href")
    assert canonical == dance.canonical_url and canonical.startswith("http://sichuan.culture.localhost")
    check_page(page, max_width=PHONE_WIDTH)
    origin = page.get_by_role("link", name="查看原文")
    expect(origin).to_contain_text(dance.origin_name)  # for screen readers: whose original it is
    href = origin.get_attribute("href")
    # The origin's link carries the platform's normal port; follow it on the live server's.
    path = "/" + href.split("/", 3)[3]
    assert page.goto(live_platform.url("sichuan.culture.localhost", path)).status == 200
    expect(page.locator("h1")).to_have_text(dance.title)
