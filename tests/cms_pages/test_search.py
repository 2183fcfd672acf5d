"""Site search at /search/ with Chinese word segmentation, filters, highlighting; per tenant."""

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from cms_pages.models import ActivityIndexPage, ActivityPage, ResourceIndexPage, ResourcePage

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"


@pytest.fixture
def indexed():
    """Two pages whose words run together, then each tenant's index rebuilt (the worker does this live)."""
    with schema_context("zhejiang"):
        activities = ActivityIndexPage.objects.get()
        activities.add_child(
            instance=ActivityPage(
                title="全国广场舞展演活动",
                slug="guangchangwu-zhanyan",
                summary="全省各地市广场舞队伍汇聚一堂。",
                start=timezone.now() + timezone.timedelta(days=20),
                end=timezone.now() + timezone.timedelta(days=20, hours=2),
                category="performance",
            )
        ).save_revision().publish()
        resources = ResourceIndexPage.objects.get()
        resources.add_child(
            instance=ResourcePage(
                title="非物质文化遗产（非遗）展演",
                slug="feiyi-zhanyan",
                summary="传统技艺与民间艺术的影像记录。",
                kind="article",
                category="tradition",
            )
        ).save_revision().publish()
    for schema in ("zhejiang", "sichuan"):
        with schema_context(schema):
            call_command("wagtail_update_index", verbosity=0)


def titles(response) -> list[str]:
    import re

    html = response.content.decode()
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<h2><a [^>]+>(.*?)</a></h2>", html)]


def test_a_word_inside_a_longer_phrase_is_found_and_highlighted(client, indexed):
    response = client.get("/search/", {"q": "广场舞"}, HTTP_HOST=ZJ)
    assert response.status_code == 200
    assert "全国广场舞展演活动" in titles(response)
    assert (
        "<mark>广场</mark><mark>舞</mark>" in response.content.decode()
        or "<mark>广场舞</mark>" in response.content.decode()
    )


def test_abbreviation_finds_the_heritage_resource(client, indexed):
    response = client.get("/search/", {"q": "非遗"}, HTTP_HOST=ZJ)
    assert "非物质文化遗产（非遗）展演" in titles(response)
    assert "<mark>非遗</mark>" in response.content.decode()


def test_demo_content_is_found(client, indexed):
    assert any("网络书香过大年" in t for t in titles(client.get("/search/", {"q": "书香"}, HTTP_HOST=ZJ)))
    assert any("公开课" in t for t in titles(client.get("/search/", {"q": "图书馆公开课"}, HTTP_HOST=ZJ)))


def test_filters_by_type_and_category(client, indexed):
    assert titles(client.get("/search/", {"q": "展演", "type": "resource"}, HTTP_HOST=ZJ)) == [
        "非物质文化遗产（非遗）展演"
    ]
    assert "全国广场舞展演活动" in titles(client.get("/search/", {"q": "展演", "type": "activity"}, HTTP_HOST=ZJ))
    assert titles(client.get("/search/", {"q": "展演", "category": "tradition"}, HTTP_HOST=ZJ)) == [
        "非物质文化遗产（非遗）展演"
    ]
    assert titles(client.get("/search/", {"q": "展演", "from": "2999-01-01"}, HTTP_HOST=ZJ)) == []


def test_search_stays_within_the_tenant(client, indexed):
    assert "全国广场舞展演活动" not in titles(client.get("/search/", {"q": "广场舞"}, HTTP_HOST=SC))
    assert "非物质文化遗产（非遗）展演" not in titles(client.get("/search/", {"q": "非遗"}, HTTP_HOST=SC))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "文" * 101}, "搜索词：搜索词不能超过 100 个字"),
        ({"q": "展演", "type": "exe"}, "内容类型：没有这种内容类型"),
        ({"q": "展演", "category": "nope"}, "分类：没有这个分类"),
        ({"q": "展演", "from": "2026-13-45"}, "开始日期格式不正确"),
        ({"q": "展演", "from": "2026-12-01", "to": "2026-01-01"}, "结束日期不能早于开始日期"),
    ],
)
def test_bad_search_input_gets_a_chinese_message(client, params, message):
    response = client.get("/search/", params, HTTP_HOST=ZJ)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_markup_in_the_query_is_escaped(client, indexed):
    html = client.get("/search/", {"q": "<script>alert(1)</script>广场舞"}, HTTP_HOST=ZJ).content.decode()
    assert "<script>alert(1)</script>" not in html


def test_filters_work_without_a_keyword(client, indexed):
    response = client.get("/search/", {"category": "tradition"}, HTTP_HOST=ZJ)
    assert response.status_code == 200
    found = titles(response)
    assert "非物质文化遗产（非遗）展演" in found
    assert "全国广场舞展演活动" not in found
    assert titles(client.get("/search/", {"type": "activity"}, HTTP_HOST=ZJ))[0] == "全国广场舞展演活动"  # newest first


def test_results_come_before_the_folded_filters(client, indexed):
    html = client.get("/search/", {"q": "广场舞"}, HTTP_HOST=ZJ).content.decode()
    assert html.index('class="search-results"') < html.index('<details class="search-filters"')
    assert '<details class="search-filters">' in html  # folded when no filter is set
    html = client.get("/search/", {"q": "广场舞", "type": "activity"}, HTTP_HOST=ZJ).content.decode()
    assert '<details class="search-filters" open>' in html


def test_a_word_cut_wrongly_by_jieba_is_still_found(client, indexed):
    with schema_context("zhejiang"):
        news = ActivityIndexPage.objects.get()
        news.add_child(
            instance=ActivityPage(
                title="浙江非遗传承人走进社区",
                slug="feiyi-chuanchengren",
                start=timezone.now() + timezone.timedelta(days=3),
                end=timezone.now() + timezone.timedelta(days=3, hours=2),
            )
        ).save_revision().publish()
        call_command("wagtail_update_index", verbosity=0)
    assert "浙江非遗传承人走进社区" in titles(client.get("/search/", {"q": "非遗"}, HTTP_HOST=ZJ))


def test_national_search_covers_the_catalogue_with_the_origin(client):
    from federation import services as federation_services
    from tests.federation.conftest import new_resource, quiet_push_policy

    with schema_context("zhejiang"):
        quiet_push_policy()
        new_resource("浙江剪纸非遗精品图集")
        assert federation_services.deliver_pending()["dead"] == 0
    html = client.get("/search/", {"q": "剪纸"}, HTTP_HOST="national.culture.localhost").content.decode()
    assert "国家资源服务总目录中的结果" in html
    section = html[html.index("国家资源服务总目录中的结果") :]
    assert "<mark>剪纸</mark>" in section and "来源：浙江文化云" in section
    # A province's own search does not include the national catalogue.
    assert "国家资源服务总目录中的结果" not in client.get("/search/", {"q": "剪纸"}, HTTP_HOST=ZJ).content.decode()


def test_a_query_in_traditional_characters_finds_simplified_pages(client, indexed):
    assert "全国广场舞展演活动" in titles(client.get("/search/", {"q": "廣場舞"}, HTTP_HOST=ZJ))
