"""The portal's shared theme in a real browser (issue 12): home, activity, resource, venue, search
and catalogue pages of two tenants at 360 px and 1280 px, in normal and 关怀模式, never scrolling
sideways and with no serious axe-core violation; 关怀模式 switched on by its toggle and remembered;
the home page's weight on a phone with no third-party request.

One browser and one server for the whole module; screenshots go to var/screenshots/portal/ (for
people to look at, not compared).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from .conftest import PHONE_USER_AGENT
from .test_public_site import serious_violations

TENANTS = ("zhejiang", "sichuan")
NATIONAL = "national.culture.localhost"
WIDTHS = (360, 1280)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "portal"
HOME_BUDGET_BYTES = 300 * 1024  # first load at 360 px, lazy images below the fold excluded


@pytest.fixture(scope="module")
def theme_paths(live_platform, django_db_blocker) -> dict[str, dict[str, str]]:
    """{tenant host: {page name: path}} of the pages the theme is checked on."""
    from cms_pages.models import ActivityPage, ResourcePage, VenuePage

    paths: dict[str, dict[str, str]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # module-scoped: may run before Playwright sets it
        with django_db_blocker.unblock():
            for schema in TENANTS:
                with schema_context(schema):
                    activity = ActivityPage.objects.live().public().order_by("-start").first()
                    resource = ResourcePage.objects.live().public().first()
                    venue = VenuePage.objects.live().public().exclude(latitude=None).first() or (
                        VenuePage.objects.live().public().first()
                    )
                    paths[f"{schema}.culture.localhost"] = {
                        "home": "/",
                        "activity": urlsplit(activity.url).path,
                        "resource": urlsplit(resource.url).path,
                        "venue": urlsplit(venue.url).path,
                        "search": "/search/?q=文化",
                    }
    paths[NATIONAL] = {"catalogue": "/catalogue/"}
    return paths


@pytest.fixture(scope="module")
def contexts(browser):
    """One phone-sized and one desktop context, shared by the walk (module scope)."""
    made = {
        360: browser.new_context(
            viewport={"width": 360, "height": 740},
            user_agent=PHONE_USER_AGENT,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
        ),
        1280: browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN"),
    }
    yield made
    for context in made.values():
        context.close()


def _set_care(page, on: bool) -> None:
    page.evaluate(f"window.localStorage.setItem('culture-care-mode', '{'1' if on else '0'}')")


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_fit_the_screen_and_pass_axe_in_both_modes(live_platform, contexts, theme_paths, width):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = contexts[width].new_page()
    problems = []
    try:
        for care in (False, True):
            for host, pages in theme_paths.items():
                page.goto(live_platform.url(host, "/"))
                _set_care(page, care)
                for name, path in pages.items():
                    response = page.goto(live_platform.url(host, path))
                    assert response.status == 200, f"{host}{path}: {response.status}"
                    assert page.evaluate("document.documentElement.classList.contains('care')") is care
                    mode = "care" if care else "normal"
                    page.screenshot(path=str(SCREENSHOTS / f"{host.split('.')[0]}-{name}-{width}-{mode}.png"))
                    scroll_width = page.evaluate("document.documentElement.scrollWidth")
                    inner_width = page.evaluate("window.innerWidth")
                    if scroll_width > inner_width:
                        problems.append(f"{host}{path} ({mode}, {width}px) scrolls sideways: {scroll_width}px")
                    if width == 360 or name == "home":  # axe at the phone width; the desktop home too
                        for violation in serious_violations(page):
                            problems.append(f"{host}{path} ({mode}, {width}px): axe {violation['id']}")
    finally:
        page.close()
    assert problems == [], "\n".join(problems)


def test_care_mode_toggle_is_visible_and_remembered(live_platform, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(live_platform.url("zhejiang.culture.localhost"))
        toggle = page.get_by_role("button", name="关怀模式")
        expect(toggle).to_be_visible()
        expect(toggle).to_have_attribute("aria-pressed", "false")
        size_before = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        toggle.click()
        expect(page.locator("html")).to_have_class("care")
        expect(toggle).to_have_attribute("aria-pressed", "true")
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= size_before * 1.2
        page.reload()  # remembered in this browser
        expect(page.locator("html")).to_have_class("care")
        page.get_by_role("button", name="关怀模式").click()
        expect(page.locator("html")).not_to_have_class("care")
    finally:
        context.close()


def test_home_page_weight_on_a_phone_and_no_third_party_request(live_platform, browser):
    host = "zhejiang.culture.localhost"
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, user_agent=PHONE_USER_AGENT, is_mobile=True, locale="zh-CN"
    )
    page = context.new_page()
    sizes: dict[str, int] = {}
    hosts: set[str] = set()

    def on_response(response):
        hosts.add(urlsplit(response.url).hostname or "")
        try:
            sizes[response.url] = len(response.body())
        except Exception:  # noqa: BLE001 (redirects have no body)
            sizes[response.url] = 0

    page.on("response", on_response)
    try:
        page.goto(live_platform.url(host), wait_until="load")
        total = sum(sizes.values())
        print(f"home page first load at 360 px: {total / 1024:.0f} KB in {len(sizes)} responses")
        assert total <= HOME_BUDGET_BYTES, sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
        assert hosts == {host}, f"third-party requests: {hosts - {host}}"
    finally:
        context.close()


@pytest.fixture
def banner_slides(django_db_blocker):
    """Three banner slides on zhejiang's home page (committed), removed after; served by a server of
    their own (`banner_server`): the shared one may hold zhejiang's home in its own page cache,
    which a publish in this process cannot reach."""
    import io

    from django.core.files.images import ImageFile
    from PIL import Image as PILImage
    from wagtail.images.models import Image

    from cms_pages.models import HomeBannerSlide, HomePage

    with django_db_blocker.unblock(), schema_context("zhejiang"):
        home = HomePage.objects.get()
        images = []
        for n, colour in enumerate(("#8E2A2A", "#2A5D8E", "#2E7D4F")):
            buffer = io.BytesIO()
            PILImage.new("RGB", (1280, 600), colour).save(buffer, "PNG")
            image = Image.objects.create(title=f"轮播测试{n}", file=ImageFile(buffer, name=f"banner-test-{n}.png"))
            images.append(image)
            HomeBannerSlide.objects.create(
                page=home, sort_order=n, image=image, title=f"轮播测试{n}", alt_text=f"测试图片{n}", link_url="/"
            )
        home.save_revision().publish()
    yield
    with django_db_blocker.unblock(), schema_context("zhejiang"):
        HomeBannerSlide.objects.filter(image__in=images).delete()
        for image in images:
            image.delete()
        HomePage.objects.get().save_revision().publish()


@pytest.fixture
def banner_server(banner_slides, django_db_blocker):
    from django.db import connection

    from tests.live_server import running_server

    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    with running_server(db_name, label="portal-banner") as server:
        yield server


def test_banner_swipes_pauses_and_stays_still_with_reduced_motion(banner_server, browser):
    url = f"http://zhejiang.culture.localhost:{banner_server.port}/"
    for motion in ("no-preference", "reduce"):
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, has_touch=True, reduced_motion=motion, locale="zh-CN"
        )
        page = context.new_page()
        try:
            page.goto(url)
            banner = page.locator("[data-banner]")
            expect(banner.locator(".banner-slide")).to_have_count(3)
            expect(banner.locator("img").first).to_have_attribute("alt", "测试图片0")
            track = banner.locator(".banner-track")
            assert "x" in track.evaluate("el => getComputedStyle(el).scrollSnapType")  # swipeable by touch
            pause = banner.locator("[data-banner-pause]")
            expect(pause).to_be_visible()
            if motion == "reduce":  # no autoplay: it starts paused, and 播放 is offered
                expect(pause).to_have_attribute("aria-pressed", "true")
                expect(pause).to_have_text("播放")
            else:
                expect(pause).to_have_attribute("aria-pressed", "false")
                pause.click()
                expect(pause).to_have_attribute("aria-pressed", "true")
            banner.get_by_role("button", name="下一张").click()
            for _ in range(50):  # page.wait_for_function evaluates a string: the CSP forbids it
                if track.evaluate("el => el.scrollLeft") > 100:
                    break
                page.wait_for_timeout(100)
            assert track.evaluate("el => el.scrollLeft") > 100, "下一张 did not turn the banner"
            assert serious_violations(page) == []
        finally:
            context.close()
