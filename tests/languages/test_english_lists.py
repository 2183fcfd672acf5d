"""English section and home lists show every item: the English version where there is one, else
the Chinese original marked as such and linked under /en/ (where it is served with the
"not translated yet" note); never both, never a restricted one."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from wagtail.models import PageViewRestriction

from cms_pages.models import NewsIndexPage, NewsPage
from languages import services
from languages.demo import provision_languages

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"


def _publish(index, title: str, slug: str) -> NewsPage:
    article = NewsPage(title=title, slug=slug, summary=f"{title}的摘要。")
    index.add_child(instance=article)
    article.save_revision().publish()
    return article


@pytest.fixture
def english_news():
    """zhejiang's English home and sections, one article translated, one not, one restricted."""
    provision_languages(["zhejiang"])
    with schema_context("zhejiang"):
        index = NewsIndexPage.objects.get(locale__language_code="zh-hans")
        untranslated = _publish(index, "乡村春晚报名开始", "chunwan")
        translated = _publish(index, "剪纸艺术展开幕", "jianzhi")
        services.translate_page(translated, "en", {"剪纸艺术展开幕": "Paper-cut art show opens"})
        secret = _publish(index, "内部通知不公开", "neibu")
        PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)
        english_index = index.get_translation(index.locale.__class__.objects.get(language_code="en"))
        return {"index_url": english_index.url, "untranslated_path": untranslated.url}


def _cards(html: str) -> dict[str, dict]:
    soup = BeautifulSoup(html, "html.parser")
    cards = {}
    for card in soup.select("li.card h3, li.card h2"):
        link = card.find("a")
        cards[link.get_text()] = {
            "href": link["href"],
            "lang": link.get("lang"),
            "badge": card.select_one(".tag-original").get_text() if card.select_one(".tag-original") else None,
        }
    return cards


@pytest.mark.parametrize("where", ["section", "home"])
def test_english_lists_show_the_chinese_items_not_translated_yet(client, english_news, where):
    path = english_news["index_url"] if where == "section" else "/en/"
    assert path.startswith("/en/")
    html = client.get(path, HTTP_HOST=ZJ).content.decode()
    cards = _cards(html)
    untranslated = english_news["untranslated_path"]
    assert cards["乡村春晚报名开始"] == {"href": "/en" + untranslated, "lang": "zh-Hans", "badge": "In Chinese"}
    # The translated one once, in English, unmarked.
    assert cards["Paper-cut art show opens"]["badge"] is None
    assert cards["Paper-cut art show opens"]["href"].startswith("/en/")
    assert "剪纸艺术展开幕" not in cards
    assert "内部通知不公开" not in html
    # The link opens the original under /en/, saying it is not translated yet.
    page = client.get(cards["乡村春晚报名开始"]["href"], HTTP_HOST=ZJ)
    assert page.status_code == 200
    assert 'class="untranslated-notice"' in page.content.decode()


def test_the_chinese_lists_are_unchanged(client, english_news):
    cards = _cards(client.get("/news/", HTTP_HOST=ZJ).content.decode())
    assert cards["乡村春晚报名开始"] == {"href": english_news["untranslated_path"], "lang": None, "badge": None}
    assert "剪纸艺术展开幕" in cards and "Paper-cut art show opens" not in cards


def test_the_english_section_query_count_does_not_grow_with_untranslated_items(client, english_news, settings):
    settings.PAGE_CACHE_SECONDS = 0
    path = english_news["index_url"]
    client.get(path, HTTP_HOST=ZJ)
    with CaptureQueriesContext(connection) as before:
        client.get(path, HTTP_HOST=ZJ)
    with schema_context("zhejiang"):
        index = NewsIndexPage.objects.get(locale__language_code="zh-hans")
        for n in range(5):
            _publish(index, f"未翻译新闻{n}", f"weifanyi-{n}")
    client.get(path, HTTP_HOST=ZJ)
    with CaptureQueriesContext(connection) as after:
        response = client.get(path, HTTP_HOST=ZJ)
    assert "未翻译新闻4" in response.content.decode()
    assert len(after.captured_queries) <= len(before.captured_queries)


def test_a_body_block_lists_each_resource_once_in_the_language_read(client):
    """A block of the body (推荐阅读资源) is not tied to a section: it lists the resources of the
    language being read, not one card per language a resource exists in."""
    from cms_pages.models import ResourcePage
    from core.scripts import to_traditional

    simplified = "网络书香过大年：经典诵读精选"
    traditional = to_traditional(simplified)
    with schema_context("zhejiang"):
        resource = ResourcePage.objects.get(title=simplified, locale__language_code="zh-hans")
        article = NewsPage.objects.get(slug="wangluo-shuxiang", locale__language_code="zh-hans")
        services.sync_traditional(resource)
        article_in_traditional = services.sync_traditional(article)
        urls = {"zh-hans": article.url, "zh-hant": article_in_traditional.url}
    chinese = _cards(client.get(urls["zh-hans"], HTTP_HOST=ZJ).content.decode())
    assert simplified in chinese and traditional not in chinese
    hant = _cards(client.get(urls["zh-hant"], HTTP_HOST=ZJ).content.decode())
    assert traditional in hant and simplified not in hant
    assert hant[traditional]["badge"] is None


def test_a_traditional_section_lists_an_article_not_converted_yet(client):
    """zh-Hant pages are converted by the worker after publishing: until then the Simplified
    article is listed on the zh-Hant section, marked, and opens under /zh-hant/."""
    with schema_context("zhejiang"):
        index = NewsIndexPage.objects.get(locale__language_code="zh-hans")
        traditional_index = services.sync_traditional(index)
        article = _publish(index, "剪纸艺术展开幕", "jianzhi")  # the worker's conversion has not run
        path, index_url = article.url, traditional_index.url
    assert index_url.startswith("/zh-hant/")
    cards = _cards(client.get(index_url, HTTP_HOST=ZJ).content.decode())
    assert cards["剪纸艺术展开幕"] == {"href": "/zh-hant" + path, "lang": "zh-Hans", "badge": "簡體中文原文"}
    assert client.get("/zh-hant" + path, HTTP_HOST=ZJ).status_code == 200


def test_the_english_volunteer_opportunities_list_the_chinese_ones_not_translated_yet(client):
    """服务项目 is a list like the sections: under /en/ an opportunity with no English version is
    listed as its Chinese original, marked and linked under /en/ (it was an empty list)."""
    from volunteers.models import OpportunityIndexPage, OpportunityPage

    provision_languages(["zhejiang"])
    with schema_context("zhejiang"):
        index = OpportunityIndexPage.objects.get(locale__language_code="zh-hans")
        opportunity = OpportunityPage(title="周末图书馆导读志愿服务", slug="daodu-zhiyuan", summary="为读者导读。")
        index.add_child(instance=opportunity)
        opportunity.save_revision().publish()
        english = index.get_translations().filter(locale__language_code="en").first()
        path = english.url if english else "/en" + index.url
    cards = _cards(client.get(path, HTTP_HOST=ZJ).content.decode())
    assert cards["周末图书馆导读志愿服务"] == {
        "href": "/en" + opportunity.url,
        "lang": "zh-Hans",
        "badge": "In Chinese",
    }
    chinese = _cards(client.get(index.url, HTTP_HOST=ZJ).content.decode())
    assert chinese["周末图书馆导读志愿服务"]["badge"] is None
