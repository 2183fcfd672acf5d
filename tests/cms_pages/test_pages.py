"""The CMS page types: tree rules, rendering in a tenant, validation, identifiers, query budgets, isolation."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from cms_pages import models as m
from cms_pages.demo import seed_demo_content
from cms_pages.demo_local import LOCAL
from volunteers.models import OpportunityIndexPage

pytestmark = pytest.mark.django_db

ZHEJIANG = "zhejiang.culture.localhost"
SICHUAN = "sichuan.culture.localhost"
PAGE_QUERY_BUDGET = 6  # a page's own queries, beyond the shared shell (see below)

INDEXES = {
    m.NewsIndexPage: m.NewsPage,
    m.ActivityIndexPage: m.ActivityPage,
    m.ResourceIndexPage: m.ResourcePage,
    m.VenueIndexPage: m.VenuePage,
}


@pytest.fixture
def zhejiang_demo():
    """The demo content of 浙江文化云 (rolled back with the test)."""
    with schema_context("zhejiang"):
        seed_demo_content("浙江文化云", "zhejiang")
        yield m.HomePage.objects.get()


def _path(page) -> str:
    """The page's path on its tenant's host (every tenant's site root is /home/)."""
    return page.url_path.removeprefix("/home")


# --- the tree --------------------------------------------------------------------------------


def test_home_allows_indexes_standard_live_and_campaign_pages():
    assert set(m.HomePage.allowed_subpage_models()) == {
        *INDEXES,
        m.StandardPage,
        m.LiveStreamPage,
        m.CampaignPage,
        OpportunityIndexPage,  # 志愿服务 (volunteers)
    }


@pytest.mark.parametrize(("index", "child"), list(INDEXES.items()))
def test_each_index_holds_only_its_own_children(index, child):
    assert index.allowed_parent_page_models() == [m.HomePage]
    assert index.allowed_subpage_models() == [child]
    assert child.allowed_parent_page_models() == [index]
    assert child.allowed_subpage_models() == []


def test_live_campaign_and_standard_pages_live_under_home():
    assert m.LiveStreamPage.allowed_parent_page_models() == [m.HomePage]
    assert m.CampaignPage.allowed_parent_page_models() == [m.HomePage]
    assert set(m.StandardPage.allowed_parent_page_models()) == {m.HomePage, m.StandardPage}


def test_page_types_can_be_created_only_under_their_parents(zhejiang_demo):
    home = zhejiang_demo
    news_index = m.NewsIndexPage.objects.get()
    activity_index = m.ActivityIndexPage.objects.get()
    assert m.NewsPage.can_create_at(news_index)
    assert not m.NewsPage.can_create_at(home)
    assert not m.NewsPage.can_create_at(activity_index)
    assert m.ActivityPage.can_create_at(activity_index)
    assert not m.ActivityPage.can_create_at(news_index)
    assert not m.ResourcePage.can_create_at(home)
    assert not m.VenuePage.can_create_at(news_index)
    assert m.StandardPage.can_create_at(home)
    assert not m.StandardPage.can_create_at(news_index)
    assert m.LiveStreamPage.can_create_at(home)
    assert not m.CampaignPage.can_create_at(news_index)
    # One index of each kind per site.
    assert not m.NewsIndexPage.can_create_at(home)


def test_chinese_verbose_names():
    for model in [
        m.HomePage,
        m.StandardPage,
        *INDEXES,
        *INDEXES.values(),
        m.LiveStreamPage,
        m.CampaignPage,
        m.VenueRoom,
    ]:
        name = str(model._meta.verbose_name)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in name), model
    for field in ["start", "venue", "booking_enabled", "capacity", "per_person_limit", "requires_approval"]:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(m.ActivityPage._meta.get_field(field).verbose_name))


# --- demo content and rendering --------------------------------------------------------------


def test_demo_content_is_created_once(zhejiang_demo):
    own = LOCAL["zhejiang"]  # the shared programmes plus the site's own (cms_pages.demo_local)
    assert m.NewsPage.objects.live().count() == 3 + len(own.news)
    assert m.ActivityPage.objects.live().count() == 3 + len(own.activities)
    assert m.ResourcePage.objects.live().count() == 3 + len(own.resources)
    assert m.VenuePage.objects.count() == 1 + len(own.venues)
    venue = m.VenuePage.objects.get(slug="main-venue")
    assert venue.rooms.count() == 2
    assert m.LiveStreamPage.objects.live().filter(slug="live").count() == 1  # live.demo adds live-now, live-replay
    assert m.CampaignPage.objects.get().daily_vote_limit == 2
    assert seed_demo_content("浙江文化云", "zhejiang") is False
    assert m.NewsPage.objects.count() == 3 + len(own.news)
    # The newest news is the site's own culture; the shared programmes name the region.
    assert "龙泉青瓷" in m.NewsPage.objects.order_by("-date").first().title
    assert "浙江" in m.NewsPage.objects.get(slug="wangluo-shuxiang").title


def test_dalian_gets_its_dance_contest():
    with schema_context("dalian"):
        seed_demo_content("大连文化云", "dalian")
        assert m.CampaignPage.objects.get().title == "“唱大连、爱大连、舞动大连”广场舞大赛"


def test_every_page_type_renders_in_its_tenant(client, zhejiang_demo):
    with schema_context("zhejiang"):
        about = zhejiang_demo.add_child(
            instance=m.StandardPage(title="关于我们", slug="about", summary="浙江文化云简介")
        )
        about.save_revision().publish()
        pages = [
            zhejiang_demo,
            about,
            *INDEXES,
            *INDEXES.values(),
            m.LiveStreamPage,
            m.CampaignPage,
        ]
        pages = [p if not isinstance(p, type) else p.objects.live().first() for p in pages]
        targets = [(type(p).__name__, _path(p), p.title) for p in pages]
    for name, path, title in targets:
        response = client.get(path, HTTP_HOST=ZHEJIANG)
        assert response.status_code == 200, (name, path)
        html = response.content.decode()
        assert html.count("<h1") == 1, name
        assert f">{title}</h1>" in html, name


def test_home_page_lists_news_activities_and_resources(client, zhejiang_demo):
    html = client.get("/", HTTP_HOST=ZHEJIANG).content.decode()
    assert "<h1>浙江文化云</h1>" in html
    assert "浙江“网络书香过大年”阅读推广活动启动" in html
    assert "图书馆公开课：从甲骨文到简帛——汉字的故事" in html
    assert "年画里的中国年" in html


def test_venue_page_shows_rooms_map_and_accessibility(client, zhejiang_demo):
    with schema_context("zhejiang"):
        venue = m.VenuePage.objects.get(slug="main-venue")
    html = client.get(_path(venue), HTTP_HOST=ZHEJIANG).content.decode()
    assert "多功能报告厅" in html and "非遗传习室" in html
    assert "https://www.openstreetmap.org/?mlat=30.270300&amp;mlon=120.143800" in html
    assert "无障碍卫生间" in html
    scripts = re.findall(r"<script[^>]*>", html)
    assert all(re.search(r'src="/static/', tag) for tag in scripts), scripts  # no third-party map script
    assert "uri.amap.com/marker" in html and "api.map.baidu.com/marker" in html  # links, not scripts
    assert "图书馆公开课" in html  # upcoming activities held here


def test_activity_booking_settings(client, zhejiang_demo):
    with schema_context("zhejiang"):
        lesson = m.ActivityPage.objects.get(slug="gongkaike")
        assert (lesson.booking_enabled, lesson.capacity, lesson.per_person_limit, lesson.requires_approval) == (
            True,
            200,
            2,
            False,
        )
        assert lesson.venue.specific_class is m.VenuePage
        lesson.booking_enabled, lesson.capacity = True, None
        with pytest.raises(ValidationError) as excinfo:
            lesson.full_clean()
        assert "capacity" in excinfo.value.message_dict
        lesson.capacity, lesson.end = 10, lesson.start - datetime.timedelta(hours=1)
        with pytest.raises(ValidationError) as excinfo:
            lesson.full_clean()
        assert excinfo.value.message_dict["end"] == ["结束时间不能早于开始时间"]


# --- venues: coordinates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("latitude", "90.5", "纬度"),
        ("latitude", "-91", "纬度"),
        ("longitude", "180.1", "经度"),
        ("longitude", "-200", "经度"),
    ],
)
def test_bad_coordinates_are_rejected_in_chinese(zhejiang_demo, field, value, label):
    with schema_context("zhejiang"):
        venue = m.VenuePage.objects.get(slug="main-venue")
        setattr(venue, field, Decimal(value))
        with pytest.raises(ValidationError) as excinfo:
            venue.full_clean()
        messages = excinfo.value.message_dict[field]
        assert any(label in message for message in messages), messages


def test_good_coordinates_pass(zhejiang_demo):
    with schema_context("zhejiang"):
        venue = m.VenuePage.objects.get(slug="main-venue")
        venue.latitude, venue.longitude = Decimal("-90"), Decimal("180")
        venue.full_clean()


# --- resources: identifiers and Dublin Core --------------------------------------------------


def test_resource_uid_is_minted_unique_and_not_editable(zhejiang_demo):
    field = m.ResourcePage._meta.get_field("uid")
    assert field.unique and not field.editable
    with schema_context("zhejiang"):
        uids = list(m.ResourcePage.objects.values_list("uid", flat=True))
    count = 3 + len(LOCAL["zhejiang"].resources)  # the shared programmes and the site's own
    assert len(uids) == count and all(uids) and len(set(uids)) == count


def test_copied_resource_gets_a_new_uid(zhejiang_demo):
    with schema_context("zhejiang"):
        original = m.ResourcePage.objects.get(slug="nianhua")
        copy = original.copy(update_attrs={"slug": "nianhua-copy", "title": "年画里的中国年（副本）"})
        copy.refresh_from_db()
        assert copy.uid and copy.uid != original.uid
        assert copy.creator == original.creator  # the rest of the metadata is kept
        original.refresh_from_db()
        assert m.ResourcePage.objects.filter(uid=original.uid).count() == 1


def test_dublin_core_fields_present(client, zhejiang_demo):
    elements = [
        "creator",
        "subject",
        "description",
        "publisher",
        "contributor",
        "date",
        "type",
        "format",
        "identifier",
        "source",
        "language",
        "relation",
        "coverage",
        "rights",
    ]
    for name in elements:
        m.ResourcePage._meta.get_field(name)
    with schema_context("zhejiang"):
        video = m.ResourcePage.objects.get(slug="baixing-dawutai")
        dc = {element: value for element, _label, value in video.dublin_core()}
    assert dc["title"] == video.title
    assert dc["identifier"] == f"urn:uuid:{video.uid}"
    assert dc["type"] == "MovingImage" and dc["publisher"] == "浙江文化云"
    html = client.get(_path(video), HTTP_HOST=ZHEJIANG).content.decode()
    assert 'data-dc="creator"' in html and f"urn:uuid:{video.uid}" in html
    assert video.stream_url in html


def test_video_resource_needs_a_file_or_stream(zhejiang_demo):
    with schema_context("zhejiang"):
        video = m.ResourcePage.objects.get(slug="baixing-dawutai")
        video.stream_url = ""
        with pytest.raises(ValidationError) as excinfo:
            video.full_clean()
        assert "stream_url" in excinfo.value.message_dict


# --- live and campaign -----------------------------------------------------------------------


def test_live_stream_status_follows_the_clock(zhejiang_demo):
    now = timezone.now()
    page = m.LiveStreamPage(
        title="直播", start=now - datetime.timedelta(minutes=5), end=now + datetime.timedelta(hours=1)
    )
    assert page.status == "live" and page.status_label == "进行中"
    page.start = now + datetime.timedelta(days=1)
    page.end = now + datetime.timedelta(days=1, hours=2)
    assert page.status == "upcoming"


# --- query budgets ---------------------------------------------------------------------------
#
# Every query counts, `SET search_path` included, with the full-page cache off. The per-tenant
# low-level caches (host → tenant, Wagtail's site root paths, content types, the site switcher)
# are warm, as they are after a site's first request; another tenant is served in between, so
# they must be kept per tenant to stay warm.

QUERY_BUDGET = 12


def _real_queries(client, path: str) -> list[str]:
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, HTTP_HOST=ZHEJIANG)
    assert response.status_code == 200, path
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SET search_path")]


@pytest.mark.parametrize("kind", ["home", "news", "activity", "resource"])
def test_page_renders_within_12_queries_uncached(client, zhejiang_demo, settings, kind):
    settings.PAGE_CACHE_SECONDS = 0
    with schema_context("zhejiang"):
        page = {
            "home": lambda: zhejiang_demo,
            "news": lambda: m.NewsPage.objects.get(slug="wangluo-shuxiang"),  # holds a resource list block
            "activity": lambda: m.ActivityPage.objects.get(slug="gongkaike"),  # has a venue
            "resource": lambda: m.ResourcePage.objects.get(slug="baixing-dawutai"),
        }[kind]()
        path = _path(page)
    client.get(path, HTTP_HOST=ZHEJIANG)
    client.get("/", HTTP_HOST="sichuan.culture.localhost")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, HTTP_HOST=ZHEJIANG)
    assert response.status_code == 200
    queries = [q["sql"][:120] for q in ctx.captured_queries]
    assert len(queries) <= QUERY_BUDGET, f"{len(queries)} queries:\n" + "\n".join(queries)


def test_home_query_count_does_not_grow_with_content(client, zhejiang_demo):
    before = _real_queries(client, "/")
    with schema_context("zhejiang"):
        index = m.NewsIndexPage.objects.get()
        for n in range(4):
            index.add_child(instance=m.NewsPage(title=f"更多新闻{n}", slug=f"more-{n}")).save_revision().publish()
        activities = m.ActivityIndexPage.objects.get()
        venue = m.VenuePage.objects.get(slug="main-venue")
        start = timezone.now() + datetime.timedelta(days=1)
        for n in range(4):
            activities.add_child(
                instance=m.ActivityPage(
                    title=f"更多活动{n}",
                    slug=f"more-{n}",
                    start=start,
                    end=start + datetime.timedelta(hours=2),
                    venue=venue,
                )
            ).save_revision().publish()
    assert len(_real_queries(client, "/")) <= len(before)


def test_index_query_count_does_not_grow_with_children(client, zhejiang_demo, settings):
    settings.PAGE_CACHE_SECONDS = 0
    with schema_context("zhejiang"):
        index = m.NewsIndexPage.objects.get()
    client.get("/news/", HTTP_HOST=ZHEJIANG)  # warm the per-tenant caches (navigation, switcher)
    with CaptureQueriesContext(connection) as before:
        client.get("/news/", HTTP_HOST=ZHEJIANG)
    with schema_context("zhejiang"):
        for n in range(5):
            index.add_child(instance=m.NewsPage(title=f"新闻{n}", slug=f"extra-{n}")).save_revision().publish()
    client.get("/news/", HTTP_HOST=ZHEJIANG)
    with CaptureQueriesContext(connection) as after:
        response = client.get("/news/", HTTP_HOST=ZHEJIANG)
    assert "新闻4" in response.content.decode()
    assert len(after) <= len(before)


# --- tenant isolation ------------------------------------------------------------------------


def test_news_article_of_one_tenant_is_not_served_by_another(client, zhejiang_demo):
    with schema_context("zhejiang"):
        article = m.NewsIndexPage.objects.get().add_child(
            instance=m.NewsPage(title="只属于浙江的新闻", slug="zhejiang-only")
        )
        article.save_revision().publish()
        path = _path(article)
    assert path == "/news/zhejiang-only/"
    assert client.get(path, HTTP_HOST=ZHEJIANG).status_code == 200
    response = client.get(path, HTTP_HOST=SICHUAN)
    assert response.status_code == 404
    assert "只属于浙江的新闻" not in response.content.decode()


# --- the admin -------------------------------------------------------------------------------


def test_editor_forms_open_for_every_page_type(client, zhejiang_demo):
    from tenants.demo import DEMO_PASSWORD

    with schema_context("zhejiang"):
        home = zhejiang_demo
        # Index pages that exist already (at most one each, e.g. 志愿服务) cannot be added again.
        targets = [
            (model, home)
            for model in m.HomePage.allowed_subpage_models()
            if model not in INDEXES and model.can_create_at(home)
        ]
        targets += [(child, index.objects.get()) for index, child in INDEXES.items()]
        edit = [m.VenuePage.objects.get(slug="main-venue"), m.ResourcePage.objects.get(slug="nianhua")]
    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    for model, parent in targets:
        url = f"/admin/pages/add/{model._meta.app_label}/{model._meta.model_name}/{parent.pk}/"
        response = client.get(url, HTTP_HOST=ZHEJIANG)
        assert response.status_code == 200, url
    for page in edit:
        response = client.get(f"/admin/pages/{page.pk}/edit/", HTTP_HOST=ZHEJIANG)
        assert response.status_code == 200
    assert "功能室" in response.content.decode() or "都柏林核心元数据" in response.content.decode()
