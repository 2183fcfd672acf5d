"""The public national catalogue: listing, Chinese search, filters, details, featuring, tenancy."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from cms_pages import models as m
from federation import services
from federation.models import Record

from .conftest import national_record, new_resource, quiet_push_policy

pytestmark = pytest.mark.django_db

NATIONAL = "national.culture.localhost"
ZHEJIANG = "zhejiang.culture.localhost"


def pushed(schema: str, title: str, *, category: str | None = None) -> m.ResourcePage:
    """A resource published in `schema` and delivered to the national catalogue."""
    with schema_context(schema):
        quiet_push_policy()
        page = new_resource(title)
        if category:
            page.category = category
            page.save_revision().publish()
        assert services.deliver_pending()["dead"] == 0
    assert national_record(page.uid).title == title
    return page


def site_name(schema: str) -> str:
    from tenants.models import CultureSite

    return CultureSite.objects.get(schema_name=schema).name


def get(client, path: str, host: str = NATIONAL, **params):
    response = client.get(path, params, HTTP_HOST=host)
    connection.set_schema_to_public()
    return response, response.content.decode()


def test_catalogue_lists_live_records_of_several_origins_with_origin_names(client):
    zj = pushed("zhejiang", "浙江目录测试资源")
    sc = pushed("sichuan", "四川目录测试资源")

    response, html = get(client, "/catalogue/")

    assert response.status_code == 200
    assert "国家资源服务总目录" in html
    for page, schema, code in ((zj, "zhejiang", "330000"), (sc, "sichuan", "510000")):
        title_at = html.index(page.title)
        card = html[html.rindex("<li>", 0, title_at) :][:1500]  # from the card's start (its tags)
        card = card[: card.find("<li>", 4)] if card.find("<li>", 4) > 0 else card
        assert f"来源：{site_name(schema)}" in card
        assert "数字资源" in card and "中华优秀传统文化" in card  # kind and category labels
        assert f"urn:culture:{code}:resource:{page.uid}" in card
        assert timezone.localdate().isoformat() in card
    # Newest first: sichuan's item was pushed after zhejiang's.
    assert html.index(sc.title) < html.index(zj.title)
    # The demo world's records from the provinces and cities are listed too (20 a page).
    with schema_context("national"):
        live = Record.objects.filter(status="live").count()
        origins = set(Record.objects.filter(status="live").values_list("origin_name", flat=True))
    assert f"共 {live} 个条目" in html
    assert len(re.findall(r'<li>\s*<span class="tag">', html)) == min(20, live)
    for name in origins:  # every origin is offered in the 来源 filter
        assert f">{name}</option>" in html


def test_pages_hold_twenty_records(client):
    with schema_context("national"):
        live = Record.objects.filter(status="live").count()
    if live <= 20:
        for n in range(21 - live):
            pushed("zhejiang", f"分页测试资源{n}")
        live = 21
    response, html = get(client, "/catalogue/", page="2")
    assert response.status_code == 200
    assert len(re.findall(r'<li>\s*<span class="tag">', html)) == min(20, live - 20)
    assert "上一页" in html
    response, html = get(client, "/catalogue/", page="不是页码")  # a bad page number: the first page
    assert response.status_code == 200 and "下一页" in html


def test_chinese_search_finds_words_inside_a_title(client):
    page = pushed("zhejiang", "全国广场舞展演活动")
    other = pushed("sichuan", "川剧变脸艺术精选")

    response, html = get(client, "/catalogue/", q="广场舞")

    assert response.status_code == 200
    assert f'href="/catalogue/{page.uid}/"' in html
    assert "全国<mark>广场舞</mark>展演活动" in html  # highlighted like the site search
    assert other.title not in html
    assert "川剧" not in html.split('<ol class="search-results', 1)[1]  # only items with both words

    response, html = get(client, "/catalogue/", q="变脸")
    assert other.title.replace("变脸", "<mark>变脸</mark>") in html and page.title not in html

    response, html = get(client, "/catalogue/", q="小百花越剧团")  # matches the creator (DC) as well
    assert "全国广场舞展演活动" in html


def test_filters_by_origin_kind_category_and_dates(client):
    zj = pushed("zhejiang", "浙江筛选测试资源", category="reading")
    sc = pushed("sichuan", "四川筛选测试资源")

    _, html = get(client, "/catalogue/", origin="510000")
    assert sc.title in html and zj.title not in html
    assert '<option value="510000" selected>' in html

    _, html = get(client, "/catalogue/", kind="activity")
    assert sc.title not in html and zj.title not in html
    with schema_context("national"):
        activities = Record.objects.filter(status="live", kind="activity").count()
    assert f"共 {activities} 个条目" in html

    _, html = get(client, "/catalogue/", category="reading")
    assert zj.title in html and sc.title not in html
    card = html[html.index(zj.title) - 400 :][:400]
    assert "全民阅读" in card  # the resource's label ("reading" is 阅读推广 for an activity)
    assert '<option value="reading" selected>全民阅读 / 阅读推广</option>' in html

    today = timezone.localdate()
    _, html = get(client, "/catalogue/", origin="330000", **{"from": today.isoformat(), "to": today.isoformat()})
    assert zj.title in html
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    _, html = get(client, "/catalogue/", origin="330000", to=yesterday)
    assert zj.title not in html
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    _, html = get(client, "/catalogue/", **{"from": tomorrow})
    assert "共 0 个条目" in html and "没有找到符合条件的条目" in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-13-45"}, "日期格式应为 YYYY-MM-DD（开始日期）"),
        ({"to": "昨天"}, "日期格式应为 YYYY-MM-DD（结束日期）"),
        ({"from": "2026-11-20", "to": "2026-11-01"}, "结束日期不能早于开始日期（结束日期）"),
        ({"kind": "podcast"}, "没有这种内容类型（类型）"),
        ({"category": "<script>"}, "没有这个分类（分类）"),
        ({"origin": "99999x"}, "没有这个来源站点（来源）"),
        ({"q": "广" * 101}, "搜索词不能超过 100 个字（搜索词）"),
        ({"q": "！？。"}, "搜索词中没有可搜索的文字（搜索词）"),
    ],
)
def test_bad_filter_value_names_the_field_and_is_left_out(client, params, message):
    page = pushed("zhejiang", "错误条件下仍然列出的资源")
    response, html = get(client, "/catalogue/", **params)
    assert response.status_code == 200
    assert message in html and 'role="alert"' in html
    assert page.title in html  # the other conditions (none here) still apply: the newest item is listed
    assert "<script>" not in html.split("<main", 1)[1]


def test_a_bad_value_leaves_the_other_filters_working(client):
    zj = pushed("zhejiang", "浙江组合条件资源")
    sc = pushed("sichuan", "四川组合条件资源")
    _, html = get(client, "/catalogue/", origin="330000", kind="nonsense")
    assert "没有这种内容类型（类型）" in html
    assert zj.title in html and sc.title not in html


def test_detail_links_to_the_origin_with_identifier_and_attribution(client):
    page = pushed("zhejiang", "越剧《梁山伯与祝英台》全本")
    with schema_context("zhejiang"):
        origin_url = m.ResourcePage.objects.get(pk=page.pk).get_full_url()
    assert origin_url.startswith("http://zhejiang.culture.localhost")

    response, html = get(client, f"/catalogue/{page.uid}/")

    assert response.status_code == 200
    assert "<h1>越剧《梁山伯与祝英台》全本</h1>" in html
    assert "浙江小百花越剧团演出的经典剧目。" in html  # summary
    assert "来源：浙江文化云" in html
    assert f"urn:culture:330000:resource:{page.uid}" in html
    assert html.count('rel="canonical"') == 1
    assert f'<link rel="canonical" href="{origin_url}">' in html
    assert re.search(rf'<a class="button" href="{re.escape(origin_url)}">查看原文', html)
    # Dublin Core metadata as the origin described the resource.
    assert "<dt>创建者</dt><dd>浙江小百花越剧团</dd>" in html
    assert "<dt>主题</dt><dd>越剧；戏曲</dd>" in html
    assert "<dt>资源类型</dt><dd>视频</dd><dt>时长</dt><dd>2:05:00</dd>" in html


def test_activity_detail_shows_dates_and_venue(client):
    with schema_context("national"):
        record = Record.objects.filter(kind="activity", status="live", is_local=False).first()
    assert record is not None, "the demo world pushes activities to the national site"
    payload = record.envelope["payload"]
    response, html = get(client, f"/catalogue/{record.uid}/")
    assert response.status_code == 200
    assert "开始时间" in html
    start = timezone.localtime(datetime.datetime.fromisoformat(payload["start"]))
    assert start.strftime("%Y-%m-%d %H:%M") in html
    if payload.get("venue_name"):
        assert payload["venue_name"] in html


def test_withdrawn_item_is_404_and_deleted_item_is_410_gone(client):
    page = pushed("zhejiang", "将被撤回的资源")
    with schema_context("zhejiang"):
        page.unpublish()
        services.deliver_pending()
    assert national_record(page.uid).status == "unpublished"
    response, _ = get(client, f"/catalogue/{page.uid}/")
    assert response.status_code == 404
    _, html = get(client, "/catalogue/")
    assert page.title not in html

    with schema_context("zhejiang"):
        m.ResourcePage.objects.get(pk=page.pk).delete()
        services.deliver_pending()
    assert national_record(page.uid).status == "deleted"
    response, html = get(client, f"/catalogue/{page.uid}/")
    assert response.status_code == 410
    assert "已由来源站点浙江文化云撤销" in html
    assert 'rel="canonical"' not in html

    response, _ = get(client, "/catalogue/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    response, _ = get(client, "/catalogue/not-a-uuid/")
    assert response.status_code == 404


def test_catalogue_pages_are_read_only(client):
    page = pushed("zhejiang", "只读目录资源")
    for path in ("/catalogue/", f"/catalogue/{page.uid}/"):
        response = client.post(path, {"q": "x"}, HTTP_HOST=NATIONAL)
        assert response.status_code == 405
        assert client.head(path, HTTP_HOST=NATIONAL).status_code == 200


def test_featured_item_shows_on_the_national_home_page_until_unfeatured(client):
    with schema_context("national"):  # without the demo's picks
        for demo_pick in Record.objects.filter(featured=True):
            services.set_featured(demo_pick, False)
    page = pushed("sichuan", "川剧精选推荐资源")
    _, html = get(client, "/")  # warms the page cache and the home fragments
    assert page.title not in html and "各地精选" not in html

    with schema_context("national"):
        record = Record.objects.get(uid=page.uid)
        services.set_featured(record, True)
        assert Record.objects.get(uid=page.uid).featured
    response, html = get(client, "/")
    assert response.status_code == 200
    section = html[html.index("各地精选") :][:2000]
    assert page.title in section
    assert f'href="/catalogue/{page.uid}/"' in section
    assert f"来源：{site_name('sichuan')}" in section

    with schema_context("national"):
        services.set_featured(record, False)
    _, html = get(client, "/")
    assert page.title not in html
    assert "各地精选" not in html  # nothing else is featured


def test_featured_item_withdrawn_by_its_origin_leaves_the_home_page(client):
    page = pushed("zhejiang", "被撤回的精选资源")
    with schema_context("national"):
        services.set_featured(Record.objects.get(uid=page.uid), True)
    _, html = get(client, "/")
    assert page.title in html
    with schema_context("zhejiang"):
        page.unpublish()
        services.deliver_pending()
    _, html = get(client, "/")
    assert page.title not in html


def test_province_home_page_has_no_featured_section(client):
    page = pushed("zhejiang", "只在国家首页精选的资源")
    with schema_context("national"):
        services.set_featured(Record.objects.get(uid=page.uid), True)
    _, html = get(client, "/", host=ZHEJIANG)
    assert "各地精选" not in html


def test_only_national_editors_may_feature_and_only_live_items():
    page = pushed("zhejiang", "推荐权限测试资源")
    User = get_user_model()
    editor = User.objects.create_user("catalogue_editor", password="Catalogue-2026-x")
    outsider = User.objects.create_user("catalogue_outsider", password="Catalogue-2026-x")
    with schema_context("national"):
        editor.user_permissions.add(
            Permission.objects.get(content_type__app_label="federation", codename="change_record")
        )
        editor = User.objects.get(pk=editor.pk)  # fresh permission cache
        record = Record.objects.get(uid=page.uid)
        assert services.can_feature(editor) and not services.can_feature(outsider)
        with pytest.raises(PermissionDenied):
            services.set_featured(record, True, by=outsider)
        assert not Record.objects.get(pk=record.pk).featured
        services.set_featured(record, True, by=editor)
        assert Record.objects.get(pk=record.pk).featured
        seq = Record.objects.get(pk=record.pk).seq
        assert seq == record.seq  # featuring is not a change of the item (feeds, OAI-PMH)
    with schema_context("zhejiang"):  # the same permission name means nothing in a province
        assert not services.can_feature(User.objects.get(pk=editor.pk))
        local = Record.objects.get(uid=page.uid)
        with pytest.raises(ValueError, match="只有国家平台"):
            services.set_featured(local, True)
    with schema_context("zhejiang"):
        page.unpublish()
        services.deliver_pending()
    with schema_context("national"):
        withdrawn = Record.objects.get(uid=page.uid)
        with pytest.raises(ValueError, match="只能推荐已发布的条目"):
            services.set_featured(withdrawn, True)
        services.set_featured(withdrawn, False)  # unfeaturing always works
        assert not Record.objects.get(pk=record.pk).featured


def test_catalogue_is_national_only_and_never_leaks_another_province(client):
    zj = pushed("zhejiang", "浙江本省资源")
    sc = pushed("sichuan", "四川不应出现在浙江的资源")

    response, html = get(client, "/catalogue/", host=ZHEJIANG)
    assert response.status_code == 404
    assert sc.title not in html and zj.title not in html
    response, html = get(client, f"/catalogue/{sc.uid}/", host=ZHEJIANG)
    assert response.status_code == 404 and sc.title not in html
    response, html = get(client, f"/catalogue/{zj.uid}/", host=ZHEJIANG)
    assert response.status_code == 404
    for host in ("sichuan.culture.localhost", "dalian.culture.localhost"):
        response, html = get(client, "/catalogue/", host=host, q="浙江本省资源")
        assert response.status_code == 404 and zj.title not in html
    # The national site lists both.
    _, html = get(client, "/catalogue/")
    assert zj.title in html and sc.title in html


# SET search_path, the origins for the filter, the count, the page of records: whatever the
# number of results and filters (the site, branding and navigation come from the tenant's cache).
LIST_QUERIES = 4


def test_catalogue_list_takes_the_same_queries_whatever_the_number_of_results(
    client, settings, django_assert_num_queries, django_assert_max_num_queries
):
    settings.PAGE_CACHE_SECONDS = 0
    for n in range(3):
        pushed("zhejiang", f"查询预算测试资源{n}")
    get(client, "/catalogue/")  # warm the tenant caches (site, branding, navigation)

    # Page 1 also shows the demo world's records, which have cover images: at most two more
    # queries (the images and their renditions, federation.covers.covers_by_sha).
    with django_assert_max_num_queries(LIST_QUERIES + 2):
        _, html = get(client, "/catalogue/", page="1")
    assert len(re.findall(r'<li>\s*<span class="tag">', html)) == 20

    with django_assert_num_queries(LIST_QUERIES):
        _, html = get(client, "/catalogue/", q="查询预算测试资源0")
    assert "共 1 个条目" in html

    with django_assert_num_queries(LIST_QUERIES):
        _, html = get(
            client,
            "/catalogue/",
            origin="330000",
            kind="resource",
            category="tradition",
            q="查询预算",
            page="2",
            **{"from": "2020-01-01", "to": "2099-12-31"},
        )
    assert "共 3 个条目" in html

    with django_assert_num_queries(LIST_QUERIES - 1):  # nothing found: no page to load
        _, html = get(client, "/catalogue/", origin="330000", kind="news", q="不存在的内容")
    assert "共 0 个条目" in html


def test_detail_takes_a_bounded_number_of_queries(client, settings, django_assert_num_queries):
    settings.PAGE_CACHE_SECONDS = 0
    page = pushed("zhejiang", "详情查询预算资源")
    get(client, f"/catalogue/{page.uid}/")
    with django_assert_num_queries(2):  # SET search_path, the record
        response, _ = get(client, f"/catalogue/{page.uid}/")
    assert response.status_code == 200
