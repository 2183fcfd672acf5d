"""A foreign visitor in a real browser (English locale) on 浙江文化云's English pages: the home
page, a section list with the items not translated yet, an untranslated article, the training
catalogue and an activity's booking box; the header says "Zhejiang Culture Cloud" and nothing
scrolls sideways on a phone or has a serious axe-core violation.

The English home is a new site root (a translation of the home page): Wagtail's cached site root
paths must be read after it exists, so the walk runs on its own server (`english_server`), as
tests/browser/test_restricted_content.py does: the shared `live_platform` keeps in-process caches
from earlier tests that a change made in this process cannot reach."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from .test_bookings_walk import PHONE_WIDTH, ZHEJIANG
from .test_public_site import serious_violations


@pytest.fixture
def english_zhejiang(django_db_blocker):
    """浙江's home and sections in English with its English name, committed; removed after."""
    from wagtail.models import Locale, Page
    from wagtail.models import Site as WagtailSite
    from wagtail_localize.models import Translation

    from languages import demo, services
    from themes.models import Branding

    with django_db_blocker.unblock(), schema_context("zhejiang"):
        english = Locale.objects.get(language_code="en")
        translations_before = set(Translation.objects.values_list("pk", flat=True))
        for page in demo._home_and_sections():
            services.translate_page(page, "en", demo.ENGLISH["zhejiang"])
        demo._name_site_in_english(demo.ENGLISH_SITE_NAMES["zhejiang"])
    yield
    with django_db_blocker.unblock(), schema_context("zhejiang"):
        for home in Page.objects.filter(locale=english, depth=2):
            home.delete()
        Translation.objects.exclude(pk__in=translations_before).delete()
        branding = Branding.for_site(WagtailSite.objects.get(is_default_site=True))
        branding.site_name_en = ""
        branding.save()


@pytest.fixture
def english_server(english_zhejiang, django_db_blocker):
    from dataclasses import dataclass

    from tests.live_server import running_server

    @dataclass(frozen=True)
    class Server:
        port: int

        def url(self, host: str, path: str = "/") -> str:
            return f"http://{host}:{self.port}{path}"

    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    with running_server(db_name, label="browser-english") as server:
        yield Server(port=server.port)


@pytest.fixture
def english_phone(browser):
    from .conftest import PHONE_USER_AGENT, PHONE_VIEWPORT

    context = browser.new_context(
        viewport=PHONE_VIEWPORT,
        screen=PHONE_VIEWPORT,
        user_agent=PHONE_USER_AGENT,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
    )
    page = context.new_page()
    yield page
    context.close()


def _check(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways: {width}px"
    violations = serious_violations(page)
    assert violations == [], f"axe-core on {page.url}: " + ", ".join(f"{v['id']} ({v['impact']})" for v in violations)


def test_a_foreign_visitor_reads_a_province_in_english(english_server, english_phone):
    live_platform = english_server
    page = english_phone
    page.goto(live_platform.url(ZHEJIANG, "/en/"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header .brand")).to_have_text("Zhejiang Culture Cloud")
    expect(page).to_have_title("Zhejiang Culture Cloud")
    # The home page's lists are not empty: the Chinese items, marked as such.
    news = page.locator("#home-news + ul .card")
    expect(news.first).to_be_visible()
    expect(news.first.locator(".tag-original")).to_have_text("In Chinese")
    expect(news.first.locator("h3 a")).to_have_attribute("lang", "zh-Hans")
    _check(page)

    # A section list, from the English navigation.
    news_link = page.locator(".site-nav a", has_text="News")
    href = news_link.get_attribute("href")
    assert href.startswith("/en/")
    page.goto(live_platform.url(ZHEJIANG, href))
    expect(page.locator("h1")).to_have_text("News")
    first = page.locator("main .card h3 a").first
    title = first.inner_text()
    expect(page.locator("main .card .tag-original").first).to_have_text("In Chinese")
    _check(page)

    # The untranslated article: still under /en/, in Chinese, saying so in English.
    first.click()
    assert "/en/news/" in page.url
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator(".untranslated-notice")).to_contain_text("not available in English yet")
    expect(page.locator("header .brand")).to_have_text("Zhejiang Culture Cloud")
    expect(page.locator("header .brand")).to_have_attribute("href", "/en/")
    _check(page)

    # The training catalogue and an activity with its booking box, in English.
    page.goto(live_platform.url(ZHEJIANG, "/en/training/"))
    expect(page.locator("h1")).not_to_contain_text("培训")
    _check(page)
    page.goto(live_platform.url(ZHEJIANG, "/en/activities/"))
    activity = page.locator("main .card h3 a").first
    activity.click()
    assert "/en/activities/" in page.url
    expect(page.locator(".untranslated-notice")).to_be_visible()
    _check(page)


def test_an_unknown_address_answers_in_the_browsers_language(live_platform, english_phone):
    response = english_phone.goto(live_platform.url("nowhere.culture.localhost", "/"))
    assert response.status == 404
    expect(english_phone.locator("h1")).to_have_text("This site cannot be found")
    expect(english_phone.locator("html")).to_have_attribute("lang", "en")
