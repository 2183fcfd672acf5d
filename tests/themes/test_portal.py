"""The portal's shared theme (issue 12), seen through real HTTP: brand colours refused when they
fail contrast, the footer's fields, service entrances by capability, the banner, booking states,
map links, titles and Open Graph images, 关怀模式 without JavaScript."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.demo import DEMO_PASSWORD
from themes.colour import contrast_ratio
from themes.geo import gcj02_to_bd09, wgs84_to_bd09, wgs84_to_gcj02

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"


# --- coordinate conversion against published values ---------------------------------------

# (WGS-84 lat, lng) → (GCJ-02 lat, lng): the test vectors of googollee/eviltransform and of the
# coordtransform libraries (Shanghai, Shenzhen, Beijing, Tiananmen).
GCJ_CASES = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
]


@pytest.mark.parametrize(("wgs", "gcj"), GCJ_CASES)
def test_wgs84_to_gcj02_matches_published_values(wgs, gcj):
    lat, lng = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9) and lng == pytest.approx(gcj[1], abs=1e-9)


def test_gcj02_to_bd09_matches_published_values():
    lat, lng = gcj02_to_bd09(39.915, 116.404)
    assert lat == pytest.approx(39.92133699351021, abs=1e-9)
    assert lng == pytest.approx(116.41036949371029, abs=1e-9)


def test_wgs84_to_bd09_lands_where_baidu_says():
    # eviltransform's Baidu sample (BD-09 29.199786, 120.019809 ↔ WGS-84 29.19613…, 120.00877…),
    # within its inverse's published precision (about 10 m).
    lat, lng = wgs84_to_bd09(29.196131605295484, 120.00877901149691)
    assert lat == pytest.approx(29.199786, abs=1e-4) and lng == pytest.approx(120.019809, abs=1e-4)


def test_outside_china_coordinates_are_not_shifted():
    assert wgs84_to_gcj02(48.8584, 2.2945) == (48.8584, 2.2945)


# --- brand colours ---------------------------------------------------------------------------


def test_contrast_ratio_of_known_pairs():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # the classic near miss


def _branding_url() -> str:
    from wagtail.models import Site

    with schema_context("zhejiang"):
        return f"/admin/settings/themes/branding/{Site.objects.get().pk}/"


def _branding_form(**changes) -> dict:
    data = {
        "site_name": "浙江文化云",
        "primary_colour": "#B22222",
        "accent_colour": "#C8A060",
        "service_entrances-count": "0",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_low_contrast_colours_are_refused_in_chinese_and_nothing_changes(client):
    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    response = client.post(
        _branding_url(), _branding_form(primary_colour="#FFD700", accent_colour="#8E2A2A"), HTTP_HOST=ZJ
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "主色 #FFD700 与白色文字" in html and "低于无障碍标准（WCAG 2 AA）要求的 4.5:1" in html
    assert "辅助色 #8E2A2A 与深色正文文字" in html
    page = client.get("/", HTTP_HOST=ZJ).content.decode()
    assert "#FFD700" not in page and "#8E2A2A" not in page
    # A dark enough colour is taken.
    response = client.post(_branding_url(), _branding_form(primary_colour="#0B5394"), HTTP_HOST=ZJ)
    assert response.status_code == 302
    assert "--primary: #0B5394" in client.get("/", HTTP_HOST=ZJ).content.decode()


# --- footer ----------------------------------------------------------------------------------


@pytest.fixture
def zj_branding():
    from wagtail.models import Site

    from themes.models import Branding

    with schema_context("zhejiang"):
        branding = Branding.for_site(Site.objects.get())
        yield branding


@pytest.mark.django_db
def test_footer_shows_organisations_contact_records_and_policies(client, zj_branding):
    with schema_context("zhejiang"):
        zj_branding.host_organisation = "浙江省文化和旅游厅"
        zj_branding.operator_organisation = "浙江省文化馆"
        zj_branding.contact_phone = "0571-12345678"
        zj_branding.address = "杭州市西湖区示例路 1 号"
        zj_branding.icp_number = "浙ICP备12345678号-1"
        zj_branding.police_number = "浙公网安备33010602000001号"
        zj_branding.save()
    html = client.get("/", HTTP_HOST=ZJ).content.decode()
    footer = html[html.index('<footer class="site-footer">') :]
    for text in ("浙江省文化和旅游厅", "浙江省文化馆", "0571-12345678", "杭州市西湖区示例路 1 号"):
        assert text in footer
    assert "<dt>主办单位</dt><dd>浙江省文化和旅游厅</dd>" in footer
    assert '<a href="https://beian.miit.gov.cn/" rel="noopener" target="_blank">浙ICP备12345678号-1' in footer
    assert 'href="https://beian.mps.gov.cn/#/query/webSearch?code=33010602000001"' in footer
    # The site's own policy pages (accounts.policies), or the platform's default texts.
    assert re.search(r'<a href="/(accounts/policy/)?privacy/">隐私政策</a>', footer)
    assert re.search(r'<a href="/(accounts/policy/)?user-agreement/">用户协议</a>', footer)
    # Another tenant's footer has none of it.
    sichuan = client.get("/", HTTP_HOST=SC).content.decode()
    assert "浙ICP备12345678号-1" not in sichuan and "浙江省文化和旅游厅" not in sichuan


# --- home page: service entrances, banner, booking states ------------------------------------


def _entrances(html: str) -> list[str]:
    return re.findall(r'data-service="([a-z]+)"', html)


@pytest.mark.django_db
def test_service_entrances_follow_capabilities_and_the_chosen_order(client, zj_branding, monkeypatch):
    from django.core.cache import cache

    from cms_pages.models import ActivityIndexPage
    from themes import services

    shown = _entrances(client.get("/", HTTP_HOST=ZJ).content.decode())
    assert shown[:3] == ["activities", "venues", "resources"]
    assert "training" in shown and "demand" in shown  # 需求征集 (feedback:demand)
    # A platform without the 需求征集 view (its URL name does not resolve) shows no entrance to it.
    monkeypatch.setitem(services.SERVICE_URL_NAMES, "demand", ("feedback:no-such-view",))
    cache.clear()
    assert "demand" not in _entrances(client.get("/?fresh=1", HTTP_HOST=ZJ).content.decode())

    with schema_context("zhejiang"):
        ActivityIndexPage.objects.get().unpublish()  # the site has no activities any more
        zj_branding.service_entrances = [
            ("entrance", {"service": "training", "label": "学习"}),
            ("entrance", {"service": "activities", "label": ""}),
            ("entrance", {"service": "resources", "label": ""}),
        ]
        zj_branding.save()
    html = client.get("/", HTTP_HOST=ZJ).content.decode()
    assert _entrances(html) == ["training", "resources"]
    assert '<span class="service-label">学习</span>' in html
    assert _entrances(client.get("/", HTTP_HOST=SC).content.decode())[:1] == ["activities"]  # sichuan untouched


@pytest.fixture
def picture():
    from django.core.files.images import ImageFile
    from PIL import Image as PILImage
    from wagtail.images.models import Image

    def make(title: str) -> Image:
        import io

        buffer = io.BytesIO()
        PILImage.new("RGB", (1600, 900), "#8E2A2A").save(buffer, "PNG")
        return Image.objects.create(title=title, file=ImageFile(buffer, name=f"{title}.png"))

    return make


@pytest.mark.django_db
def test_banner_shows_editor_chosen_slides_with_alt_text_and_pause_control(client, picture):
    from cms_pages.models import HomeBannerSlide, HomePage, ResourceIndexPage

    with schema_context("zhejiang"):
        home = HomePage.objects.get()
        target = ResourceIndexPage.objects.get()
        for n, link in enumerate([{"link_page": target}, {"link_url": "https://example.org/yueju"}]):
            HomeBannerSlide.objects.create(
                page=home,
                sort_order=n,
                image=picture(f"banner{n}"),
                title=f"越剧{n}",
                alt_text=f"越剧演员在舞台上{n}",
                **link,
            )
        home.save_revision().publish()
    html = client.get("/", HTTP_HOST=ZJ).content.decode()
    banner = html[
        html.index('<section class="banner"') : html.index("</section>", html.index('<section class="banner"'))
    ]
    assert 'type="image/webp"' in banner and "srcset=" in banner
    assert 'alt="越剧演员在舞台上0"' in banner and 'alt="越剧演员在舞台上1"' in banner
    assert f'href="{target.url}"' in banner and 'href="https://example.org/yueju"' in banner
    assert 'fetchpriority="high"' in banner and banner.count('loading="lazy"') == 1  # only the first is eager
    assert "data-banner-pause" in banner
    assert '<section class="banner"' not in client.get("/", HTTP_HOST=SC).content.decode()


@pytest.mark.django_db
def test_activity_cards_say_whether_seats_are_left(client):
    from bookings.availability import booking_states
    from bookings.models import Booking, Session
    from cms_pages.models import ActivityIndexPage, ActivityPage

    with schema_context("zhejiang"):
        index = ActivityIndexPage.objects.get()
        start = timezone.now() + datetime.timedelta(days=3)
        pages = {}
        for slug in ("open", "full", "free"):
            pages[slug] = index.add_child(
                instance=ActivityPage(
                    title=f"状态{slug}",
                    slug=f"state-{slug}",
                    start=start,
                    end=start + datetime.timedelta(hours=2),
                    booking_enabled=slug != "free",
                    capacity=2,
                )
            )
        opens = timezone.now() - datetime.timedelta(days=1)
        Session.objects.create(
            activity=pages["open"],
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=2),
            capacity=5,
            opens_at=opens,
        )
        full = Session.objects.create(
            activity=pages["full"],
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=2),
            capacity=1,
            opens_at=opens,
        )
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(is_superuser=False).first()
        Booking.objects.create(
            session=full, user=user, order_number="T1", pickup_code="TTTT2222", quantity=1, status="confirmed"
        )
        activities = list(ActivityPage.upcoming().filter(slug__startswith="state-"))
        with CaptureQueriesContext(connection) as ctx:
            states = booking_states(activities)
        assert len(ctx.captured_queries) == 1  # one query for the whole list
        index_url = index.url
        assert {a.slug: states[a.pk] for a in activities} == {
            "state-open": "open",
            "state-full": "full",
            "state-free": "free",
        }
    html = client.get(index_url, HTTP_HOST=ZJ).content.decode()
    assert re.search(r"状态open.*?booking-state-open\">可预约", html, re.S)
    assert re.search(r"状态full.*?booking-state-full\">已约满", html, re.S)


# --- detail pages: maps, titles, Open Graph ----------------------------------------------------


@pytest.mark.django_db
def test_venue_links_to_amap_and_baidu_at_converted_coordinates(client):
    from cms_pages.models import VenuePage

    with schema_context("zhejiang"):
        venue = VenuePage.objects.exclude(latitude=None).first()
        venue.latitude, venue.longitude = Decimal("39.915"), Decimal("116.404")
        venue.save_revision().publish()
        url = venue.url
    html = client.get(url, HTTP_HOST=ZJ).content.decode()
    assert "https://uri.amap.com/marker?position=116.410244%2C39.916404" in html  # GCJ-02
    gcj = wgs84_to_gcj02(39.915, 116.404)
    bd_lat, bd_lng = gcj02_to_bd09(*gcj)
    assert f"location={bd_lat:.6f}%2C{bd_lng:.6f}" in html and "coord_type=bd09ll" in html  # BD-09
    assert f'data-copy="{venue.address}"' in html  # the copy button (shown by culture.js)


@pytest.mark.django_db
def test_titles_are_not_doubled_and_pages_share_their_cover(client, picture, settings):
    from cms_pages.models import NewsPage

    home = client.get("/", HTTP_HOST=ZJ).content.decode()
    assert "<title>浙江文化云</title>" in home
    with schema_context("zhejiang"):
        news = NewsPage.objects.live().first()
        news.cover_image = picture("cover")
        news.save_revision().publish()
        url = news.url
    html = client.get(url, HTTP_HOST=ZJ).content.decode()
    assert f"<title>{news.title} · 浙江文化云</title>" in html
    og = re.search(r'<meta property="og:image" content="([^"]+)">', html).group(1)
    assert og.startswith(f"http://{ZJ}:{settings.PLATFORM_PORT}/media/") and og.endswith(".jpg")
    assert '<meta property="og:image:width" content="1200">' in html
    assert "<picture>" in html and 'type="image/webp"' in html  # the cover itself, WebP with a fallback


@pytest.mark.django_db
def test_care_mode_link_works_without_javascript(client):
    html = client.get("/?care=1", HTTP_HOST=ZJ).content.decode()
    assert re.search(r'<html lang="[^"]+" class="care">', html)
    assert 'href="?care=0"' in html and 'aria-pressed="true"' in html
    assert 'class="care"' not in client.get("/", HTTP_HOST=ZJ).content.decode()
