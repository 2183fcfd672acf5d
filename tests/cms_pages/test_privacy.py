"""Page privacy (Wagtail view restrictions): a restricted page is never listed where its
restriction is not checked, and a restriction change drops the tenant's cached pages at once."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.utils import timezone
from django_tenants.utils import schema_context
from wagtail.models import PageViewRestriction

from cms_pages import models as m

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SECRET = "绝密内部培训"  # in the title of every restricted page here; never shown to an anonymous visitor


@pytest.fixture(autouse=True)
def _empty_caches():
    caches["pages"].clear()
    caches["default"].clear()
    yield
    caches["pages"].clear()
    caches["default"].clear()


def _path(page) -> str:
    return page.url_path.removeprefix("/home")


def restrict(page, restriction_type: str = "login") -> PageViewRestriction:
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=restriction_type, password="mima-2026" if restriction_type == "password" else ""
    )
    if restriction_type == "groups":
        restriction.groups.add(Group.objects.get(name="编辑"))
    return restriction


def publish(parent, page):
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def restricted_world(restriction_type: str) -> dict:
    """In zhejiang: a restricted news item, resource, activity (at the demo venue) and venue, and
    a page whose body lists resources and upcoming activities."""
    now = timezone.now()
    venue_index = m.VenueIndexPage.objects.get()
    venue = m.VenuePage.objects.live().first()
    pages = {
        "news": publish(m.NewsIndexPage.objects.get(), m.NewsPage(title=f"{SECRET}通知", summary="内部")),
        "resource": publish(
            m.ResourceIndexPage.objects.get(),
            m.ResourcePage(title=f"{SECRET}课件", kind="article", category="art"),
        ),
        "activity": publish(
            m.ActivityIndexPage.objects.get(),
            m.ActivityPage(
                title=f"{SECRET}活动",
                start=now + datetime.timedelta(hours=1),  # first among the upcoming ones
                end=now + datetime.timedelta(hours=2),
                venue=venue,
            ),
        ),
        "venue": publish(venue_index, m.VenuePage(title=f"{SECRET}场馆", address="内部地址")),
    }
    for page in pages.values():
        restrict(page, restriction_type)
    home = m.HomePage.objects.get()
    lists = publish(
        home,
        m.StandardPage(
            title="资源与活动一览",
            slug="lists",
            body=[
                {"type": "resource_list", "value": {"title": "最新资源", "category": "", "count": 12}},
                {"type": "upcoming_activities", "value": {"title": "近期活动", "count": 12}},
            ],
        ),
    )
    return {"pages": pages, "venue": venue, "lists": lists, "home": home}


def list_urls(world: dict) -> list[str]:
    return [
        "/",
        _path(m.NewsIndexPage.objects.get()),
        _path(m.ResourceIndexPage.objects.get()),
        _path(m.ActivityIndexPage.objects.get()),
        _path(m.VenueIndexPage.objects.get()),
        _path(world["venue"]),
        _path(world["lists"]),
        "/rss.xml",
        "/sitemap.xml",
        "/search/?q=绝密",  # the query itself is echoed: not the whole title
    ]


@pytest.mark.parametrize("restriction_type", ["password", "login", "groups"])
def test_a_restricted_page_is_in_no_list_of_its_site(client, restriction_type):
    with schema_context("zhejiang"):
        world = restricted_world(restriction_type)
        urls = list_urls(world)
        public_activity = m.ActivityPage.upcoming().first()
    for url in urls:
        response = client.get(url, HTTP_HOST=ZJ)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), f"restricted title listed on {url}"
    # The lists still work: the public items are there.
    assert public_activity.title in client.get(_path(world["lists"]), HTTP_HOST=ZJ).content.decode()


def test_a_restriction_on_a_section_hides_everything_below_it(client):
    with schema_context("zhejiang"):
        news_index = m.NewsIndexPage.objects.get()
        publish(news_index, m.NewsPage(title=f"{SECRET}简报"))
        restrict(news_index)
    assert SECRET not in client.get("/", HTTP_HOST=ZJ).content.decode()
    assert SECRET not in client.get("/rss.xml", HTTP_HOST=ZJ).content.decode()


def test_a_restricted_page_is_still_reached_by_its_url_and_asks_for_its_restriction(client):
    with schema_context("zhejiang"):
        world = restricted_world("password")
        news = world["pages"]["news"]
    response = client.get(_path(news), HTTP_HOST=ZJ)
    assert response.status_code == 200  # Wagtail's password form, not a 404
    assert 'name="password"' in response.content.decode()
    assert "内部" not in response.content.decode()


def test_adding_a_restriction_drops_the_cached_page_and_lists_at_once(client):
    with schema_context("zhejiang"):
        news = publish(m.NewsIndexPage.objects.get(), m.NewsPage(title=f"{SECRET}公告", summary="仅限内部"))
    path = _path(news)
    for url in (path, "/"):
        client.get(url, HTTP_HOST=ZJ)
        assert client.get(url, HTTP_HOST=ZJ)["X-Page-Cache"] == "hit"
    with schema_context("zhejiang"):
        restriction = restrict(news)
    response = client.get(path, HTTP_HOST=ZJ)
    assert response.status_code == 302 and "/login" in response["Location"]
    assert SECRET not in client.get("/", HTTP_HOST=ZJ).content.decode()

    # Changing it (to a password) and removing it take effect at once too.
    with schema_context("zhejiang"):
        restriction.restriction_type, restriction.password = "password", "mima-2026"
        restriction.save()
    assert 'name="password"' in client.get(path, HTTP_HOST=ZJ).content.decode()
    with schema_context("zhejiang"):
        restriction.delete()
    response = client.get(path, HTTP_HOST=ZJ)
    assert response.status_code == 200 and "仅限内部" in response.content.decode()
    assert SECRET in client.get("/", HTTP_HOST=ZJ).content.decode()


def test_a_restriction_in_one_tenant_hides_nothing_in_another(client):
    with schema_context("sichuan"):
        public_news = m.NewsPage.objects.live().public().order_by("-date", "-pk").first()
    with schema_context("zhejiang"):
        restrict(m.NewsIndexPage.objects.get())
    assert public_news.title in client.get("/", HTTP_HOST="sichuan.culture.localhost").content.decode()


# --- what hangs off a restricted page: its booking sessions and rooms -----------------------------


@pytest.mark.parametrize("restriction_type", ["password", "login"])
def test_a_restricted_activitys_sessions_and_venues_rooms_ask_for_the_restriction(client, restriction_type):
    from bookings.models import RoomSettings, Session

    now = timezone.now()
    with schema_context("zhejiang"):
        venue = publish(m.VenueIndexPage.objects.get(), m.VenuePage(title=f"{SECRET}场馆", address="内部地址"))
        room = m.VenueRoom.objects.create(page=venue, name=f"{SECRET}排练厅")
        RoomSettings.objects.create(room=room, bookable=True, closed_weekdays="")
        activity = publish(
            m.ActivityIndexPage.objects.get(),
            m.ActivityPage(
                title=f"{SECRET}讲座",
                start=now + datetime.timedelta(days=3),
                end=now + datetime.timedelta(days=3, hours=2),
                venue=venue,
                booking_enabled=True,
                capacity=10,
            ),
        )
        session = Session.objects.create(
            activity=activity,
            starts_at=now + datetime.timedelta(days=3),
            ends_at=now + datetime.timedelta(days=3, hours=2),
            capacity=10,
            opens_at=now - datetime.timedelta(days=1),
        )
        restrict(activity, restriction_type)
        restrict(venue, restriction_type)
    for url in (f"/bookings/sessions/{session.pk}/", f"/bookings/rooms/{room.pk}/"):
        response = client.get(url, HTTP_HOST=ZJ)
        assert SECRET not in response.content.decode(), url
        if restriction_type == "password":
            assert response.status_code == 200 and 'name="password"' in response.content.decode(), url
        else:
            assert response.status_code == 302 and "/login" in response["Location"], url
        assert "no-store" in response.get("Cache-Control", ""), url
    # Once the restriction is met (here: signed in), they are there as before.
    if restriction_type == "login":
        from accounts.services import ensure_account

        with schema_context("zhejiang"):
            ensure_account("privacy-reader", "Yuedu-2026-pw")
        assert client.login(username="privacy-reader", password="Yuedu-2026-pw")
        response = client.get(f"/bookings/sessions/{session.pk}/", HTTP_HOST=ZJ)
        assert response.status_code == 200 and SECRET in response.content.decode()


# --- language versions of a restricted page ----------------------------------------------------


def _traditional_world() -> dict:
    from languages.services import sync_traditional

    news_index = m.NewsIndexPage.objects.get(locale__language_code="zh-hans")
    later = publish(news_index, m.NewsPage(title=f"{SECRET}纪要", summary="仅限内部", slug="jiyao"))
    translated = sync_traditional(later)  # published while public: its zh-Hant version is public
    restrict(later)  # restricted afterwards, on the Simplified page only
    home = m.HomePage.objects.get(locale__language_code="zh-hans")
    section = publish(home, m.StandardPage(title="内部资料栏目", slug="neibu"))
    sync_traditional(section)
    restrict(section)  # a restricted section, then a page published below it
    below = publish(section, m.StandardPage(title=f"{SECRET}章程", slug="zhangcheng"))
    below_translated = sync_traditional(below)
    return {"later": translated, "below": below_translated}


def test_every_language_version_of_a_restricted_page_is_restricted_too(client):
    from core.scripts import to_traditional

    with schema_context("zhejiang"):
        world = _traditional_world()
        urls = {key: page.url for key, page in world.items()}
        hant_news = m.NewsIndexPage.objects.get(locale__language_code="zh-hant").url
        hant_home = m.HomePage.objects.get(locale__language_code="zh-hant").url
    secret = to_traditional(SECRET)
    for key, url in urls.items():
        response = client.get(url, HTTP_HOST=ZJ)
        assert response.status_code == 302 and "/login" in response["Location"], key
    for url in (hant_home, hant_news, "/sitemap.xml", hant_home + "search/?q=" + secret[:2]):
        html = client.get(url, HTTP_HOST=ZJ).content.decode()
        assert secret not in html, url


def test_groups_and_members_only_follow_the_original_and_a_version_may_be_more_private():
    from cms_pages.privacy import is_members_only, set_members_only
    from languages.services import sync_traditional

    with schema_context("zhejiang"):
        original = publish(
            m.NewsIndexPage.objects.get(locale__language_code="zh-hans"), m.NewsPage(title="分组可见", slug="fenzu")
        )
        version = sync_traditional(original)
        restriction = restrict(original, "groups")
        mirrored = PageViewRestriction.objects.get(page=version)
        assert mirrored.restriction_type == "groups"
        assert list(mirrored.groups.values_list("name", flat=True)) == ["编辑"]

        restriction.restriction_type = "login"
        restriction.save()
        restriction.groups.clear()
        set_members_only(restriction, True)
        mirrored = PageViewRestriction.objects.get(page=version)
        assert mirrored.restriction_type == "login" and not mirrored.groups.exists()
        assert is_members_only(mirrored)

        restriction.delete()
        assert not PageViewRestriction.objects.filter(page=version).exists()

        # A version restricted on its own while the original is public stays restricted.
        restrict(version, "password")
        assert PageViewRestriction.objects.filter(page=version, restriction_type="password").exists()
        # Deleting the original leaves a restricted version restricted.
        restrict(original)
        original.delete()
        assert PageViewRestriction.objects.filter(page=version).exists()


def test_a_shift_of_a_restricted_opportunity_is_signed_up_for_only_by_those_it_admits(client):
    from accounts.services import ensure_account
    from volunteers.models import OpportunityPage, Shift, SignUp

    now = timezone.now()
    with schema_context("zhejiang"):
        opportunity = OpportunityPage.objects.live().first()
        shift = Shift.objects.create(
            opportunity=opportunity,
            starts_at=now + datetime.timedelta(days=2),
            ends_at=now + datetime.timedelta(days=2, hours=3),
            place="内部",
            capacity=5,
        )
        restrict(opportunity, "groups")  # editors only
        ensure_account("privacy-volunteer", "Zhiyuan-2026-pw")
    assert client.login(username="privacy-volunteer", password="Zhiyuan-2026-pw")
    response = client.post(f"/volunteers/shifts/{shift.pk}/sign-up/", HTTP_HOST=ZJ)
    assert response.status_code == 302 and "/login" in response["Location"]
    with schema_context("zhejiang"):
        assert not SignUp.objects.filter(shift=shift).exists()


def test_the_command_mirrors_restrictions_written_without_signals():
    import io

    from django.core.management import call_command

    from languages.services import sync_traditional

    with schema_context("zhejiang"):
        original = publish(
            m.NewsIndexPage.objects.get(locale__language_code="zh-hans"), m.NewsPage(title="旧的限制", slug="jiu")
        )
        version = sync_traditional(original)
        # As before this rule existed (or a restore): the original restricted, its version not.
        PageViewRestriction.objects.bulk_create([PageViewRestriction(page=original, restriction_type="login")])
        assert not PageViewRestriction.objects.filter(page=version).exists()
    out = io.StringIO()
    call_command("mirror_page_restrictions", stdout=out)
    assert "zhejiang:" in out.getvalue()
    with schema_context("zhejiang"):
        assert PageViewRestriction.objects.filter(page=version, restriction_type="login").exists()
