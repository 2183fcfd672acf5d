"""A visitor walks zhejiang's demo content on a phone: home → activity → venue → resource → site search.

Every page of the walk must fit the 360 px screen (no horizontal scrolling), have exactly one
h1 and no axe-core violation of impact serious or critical. The same pages are checked once
more at desktop width, going to the venue through the venue index this time.

What the pages should show (times, addresses, rooms, metadata) is read from the test database,
so the assertions follow the demo content rather than repeat it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from .test_public_site import serious_violations

ZHEJIANG = "zhejiang.culture.localhost"
PHONE_WIDTH = 360
SEARCH_WORD = "广场舞"
SEARCH_HIT = "全国广场舞展演"


@dataclass(frozen=True)
class Activity:
    title: str
    start: str  # as the page writes it: 2026年3月10日 14:00
    start_iso: str  # the <time datetime> value
    venue_title: str


@dataclass(frozen=True)
class Venue:
    title: str
    address: str
    rooms: tuple[str, ...]
    map_url: str


@dataclass(frozen=True)
class Resource:
    title: str
    dublin_core: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Demo:
    venue_activity: Activity  # an upcoming activity held in the venue
    open_air_activity: Activity  # the 广场舞 showcase: no venue, only a location note
    venue: Venue
    resource: Resource  # the first resource the home page lists


def _activity(page) -> Activity:
    start = timezone.localtime(page.start)
    return Activity(
        title=page.title,
        start=f"{start.year}年{start.month}月{start.day}日 {start:%H:%M}",
        start_iso=start.isoformat(),
        venue_title=page.venue.title if page.venue else "",
    )


@pytest.fixture(scope="module")
def zhejiang_demo(live_platform, django_db_blocker) -> Demo:
    """zhejiang's demo pages as the walk should find them; its search index rebuilt (committed).

    The task worker keeps the search index up to date and does not run during tests.
    """
    from cms_pages.models import ActivityPage, ResourcePage, VenuePage

    with pytest.MonkeyPatch.context() as mp:
        # Module-scoped, so it may run before Playwright sets this (see conftest's docstring).
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with django_db_blocker.unblock(), schema_context("zhejiang"):
            call_command("wagtail_update_index", verbosity=0)
            upcoming = list(ActivityPage.upcoming())
            venue_activity = next(a for a in upcoming if a.venue_id)
            open_air = next(a for a in upcoming if SEARCH_HIT in a.title)
            venue = VenuePage.objects.live().get(pk=venue_activity.venue_id)
            resource = ResourcePage.objects.live().order_by("-first_published_at").first()
            demo = Demo(
                venue_activity=_activity(venue_activity),
                open_air_activity=_activity(open_air),
                venue=Venue(
                    title=venue.title,
                    address=venue.address,
                    rooms=tuple(room.name for room in venue.rooms.all()),
                    map_url=venue.map_url,
                ),
                resource=Resource(title=resource.title, dublin_core=tuple(resource.dublin_core())),
            )
    assert open_air.venue_id is None, "the walk expects the 广场舞 showcase to have no venue"
    assert demo.venue.rooms, "the demo venue should have rooms"
    assert demo.venue.map_url, "the demo venue should have coordinates"
    return demo


def check_page(page, *, max_width: int | None = None) -> None:
    """One h1, no horizontal overflow (on a phone), no serious or critical axe-core violation."""
    expect(page.locator("h1")).to_have_count(1)
    if max_width is not None:
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= max_width, f"{page.url} scrolls sideways: {scroll_width}px wide at {max_width}px"
    violations = serious_violations(page)
    assert violations == [], f"axe-core on {page.url}: " + ", ".join(f"{v['id']} ({v['impact']})" for v in violations)


def check_activity_page(page, activity: Activity) -> None:
    expect(page.locator("article h1")).to_have_text(activity.title)
    facts = page.locator("article dl.facts")
    start = facts.locator("time").first
    expect(start).to_have_attribute("datetime", activity.start_iso)
    expect(start).to_have_text(activity.start)
    expect(facts.locator("dt", has_text="时间")).to_be_visible()
    expect(facts.locator("dt", has_text="地点")).to_be_visible()


def check_venue_page(page, venue: Venue) -> None:
    expect(page.locator("article h1")).to_have_text(venue.title)
    facts = page.locator("article dl.facts")
    expect(facts).to_contain_text(venue.address)
    expect(facts.locator(f'a[href="{venue.map_url}"]')).to_be_visible()
    expect(facts.locator(f'a[href="{venue.map_url}"]')).to_contain_text("OpenStreetMap")
    expect(facts.locator("a[data-map=amap]")).to_contain_text("高德地图")
    expect(facts.locator("a[data-map=baidu]")).to_contain_text("百度地图")
    room_cells = page.locator("section[aria-labelledby=venue-rooms] tbody tr td:first-child")
    expect(room_cells).to_contain_text(list(venue.rooms))  # each room, with its 预定 link (bookings)


def check_resource_page(page, resource: Resource) -> None:
    expect(page.locator("article h1")).to_have_text(resource.title)
    metadata = page.locator("section.metadata")
    expect(metadata.locator("h2")).to_have_text("资源元数据")
    for element, label, value in resource.dublin_core:
        value_cell = metadata.locator(f'dd[data-dc="{element}"]')
        expect(value_cell).to_be_visible()
        expect(value_cell).to_have_text(value)
    labels = [label for _, label, _ in resource.dublin_core]
    expect(metadata.locator("dt")).to_have_text(labels)


def check_search_results(page) -> None:
    expect(page.locator("h1")).to_have_text("站内搜索")
    expect(page.locator("#search-q")).to_have_value(SEARCH_WORD)
    expect(page.get_by_role("status")).to_contain_text("找到")
    hit = page.locator(".search-results h2 a", has_text=SEARCH_HIT)
    expect(hit).to_have_count(1)
    marks = hit.locator("mark")
    expect(marks.first).to_be_visible()
    # The query may be segmented (广场舞 or 广场 + 舞): every highlighted piece is part of it.
    marked = marks.all_inner_texts()
    assert marked and all(text in SEARCH_WORD for text in marked), marked
    assert "".join(marked) == SEARCH_WORD, f"{SEARCH_WORD} should be highlighted whole in the title: {marked}"


def test_phone_walk_through_demo_content(live_platform, phone_page, zhejiang_demo):
    page = phone_page
    demo = zhejiang_demo

    # Home: the upcoming activities list.
    assert page.goto(live_platform.url(ZHEJIANG)).status == 200
    expect(page.locator("h1")).to_have_text("浙江文化云")
    check_page(page, max_width=PHONE_WIDTH)
    activities = page.locator("section[aria-labelledby=home-activities]")
    activities.get_by_role("link", name=demo.venue_activity.title, exact=True).tap()

    # Activity: title, time, venue.
    page.wait_for_url("**/activities/**")
    check_activity_page(page, demo.venue_activity)
    check_page(page, max_width=PHONE_WIDTH)
    venue_link = page.locator("article dl.facts dd a", has_text=demo.venue.title)
    expect(venue_link).to_have_text(demo.venue_activity.venue_title)
    venue_link.tap()

    # Venue: address, map link, rooms.
    page.wait_for_url("**/venues/**")
    check_venue_page(page, demo.venue)
    check_page(page, max_width=PHONE_WIDTH)

    # Back home, then a resource from the home page's list.
    page.locator("header.site-header a.brand").tap()
    page.wait_for_url(live_platform.url(ZHEJIANG))
    resources = page.locator("section[aria-labelledby=home-resources]")
    resources.get_by_role("link", name=demo.resource.title, exact=True).tap()
    page.wait_for_url("**/resources/**")
    check_resource_page(page, demo.resource)
    check_page(page, max_width=PHONE_WIDTH)

    # The header search box.
    search_box = page.get_by_role("searchbox", name="搜索本站")
    search_box.tap()
    search_box.fill(SEARCH_WORD)
    search_box.press("Enter")
    page.wait_for_url("**/search/?q=*")
    check_search_results(page)
    check_page(page, max_width=PHONE_WIDTH)

    # The hit leads to the activity, which has no venue: only where it takes place.
    page.locator(".search-results h2 a", has_text=SEARCH_HIT).tap()
    page.wait_for_url("**/activities/**")
    check_activity_page(page, demo.open_air_activity)
    expect(page.locator("article dl.facts dd a")).to_have_count(0)
    check_page(page, max_width=PHONE_WIDTH)


def test_desktop_walk_through_demo_content(live_platform, page, zhejiang_demo):
    demo = zhejiang_demo
    page.set_viewport_size({"width": 1280, "height": 900})

    assert page.goto(live_platform.url(ZHEJIANG)).status == 200
    check_page(page)

    # The activity without a venue; the venue through the venue index.
    page.goto(live_platform.url(ZHEJIANG, "/activities/"))
    check_page(page)
    page.locator("main .cards h3 a", has_text=SEARCH_HIT).click()
    page.wait_for_url("**/activities/**")
    check_activity_page(page, demo.open_air_activity)
    check_page(page)

    page.goto(live_platform.url(ZHEJIANG, "/venues/"))
    check_page(page)
    page.locator("main .cards h2 a", has_text=demo.venue.title).click()
    page.wait_for_url("**/venues/**")
    check_venue_page(page, demo.venue)
    check_page(page)

    page.goto(live_platform.url(ZHEJIANG, "/resources/"))
    check_page(page)
    page.locator("main .cards h3 a", has_text=demo.resource.title).click()
    page.wait_for_url("**/resources/**")
    check_resource_page(page, demo.resource)
    check_page(page)

    search_box = page.get_by_role("searchbox", name="搜索本站")
    search_box.fill(SEARCH_WORD)
    page.locator("form.header-search button[type=submit]").click()
    page.wait_for_url("**/search/?q=*")
    check_search_results(page)
    check_page(page)
