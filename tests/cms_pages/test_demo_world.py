"""The demo world: each site has content from its own culture, covers on every card, venues at
real places, its own branding colours and policy pages — and provisioning again changes nothing."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from cms_pages.demo_local import CARD_MODELS, COLLECTION_NAME, LOCAL, ensure_covers, seed_local_content

pytestmark = pytest.mark.django_db

# Rough boxes around the cities the venues are in (lat_min, lat_max, lon_min, lon_max): a slip of
# a digit or swapped coordinates lands far outside.
CITY_BOXES = {
    "national": (39.7, 40.1, 116.2, 116.6),  # Beijing
    "zhejiang": (30.1, 30.4, 120.0, 120.3),  # Hangzhou
    "sichuan": (30.5, 30.8, 103.9, 104.2),  # Chengdu
    "liaoning": (41.6, 41.9, 123.2, 123.6),  # Shenyang
    "dalian": (38.8, 39.1, 121.4, 121.8),  # Dalian
}
OWN = {
    "national": ["云上群星奖", "文津图书奖"],
    "zhejiang": ["越剧", "龙泉青瓷", "西湖"],
    "sichuan": ["川剧", "蜀绣", "三星堆"],
    "liaoning": ["海洋文化", "辽宁鼓乐"],
    "dalian": ["唱大连、爱大连、舞动大连", "群文杯", "海洋文化"],  # a Liaoning city by the sea
}


def titles(schema: str) -> str:
    from wagtail.models import Page

    with schema_context(schema):
        return " ".join(Page.objects.live().values_list("title", flat=True))


@pytest.mark.parametrize("schema", list(OWN))
def test_each_site_shows_its_own_culture_and_not_the_others(client, schema):
    mine = titles(schema)
    for word in OWN[schema]:
        assert word in mine, word
    others = {w for s, words in OWN.items() if s != schema for w in words} - set(OWN[schema])
    # Other sites' specialities are theirs (群星奖 and 广场舞 are national programmes everywhere).
    local = " ".join(
        item["title"] for group in ("news", "activities", "resources") for item in getattr(LOCAL[schema], group)
    )
    assert not [w for w in others if w in local and w not in ("群文杯",)]


@pytest.mark.parametrize("schema", list(OWN))
def test_every_card_has_a_cover_drawn_for_it_in_the_sites_collection(schema):
    from cms_pages import models

    with schema_context(schema):
        for name in CARD_MODELS:
            model = getattr(models, name)
            pages = model.objects.live().filter(locale__language_code="zh-hans")
            if hasattr(model, "original_url"):
                pages = pages.filter(original_url="")
            assert pages.exists() or name == "LiveStreamPage"
            for page in pages.select_related("cover_image__collection"):
                assert page.cover_image is not None, page.title
                assert page.cover_image.collection.name == COLLECTION_NAME
                assert page.cover_image.file.size <= 60 * 1024 and page.cover_image.width == 1200


@pytest.mark.parametrize("schema", list(OWN))
def test_venues_are_real_places_in_the_city_with_wgs84_coordinates(schema):
    from cms_pages.models import VenuePage

    lat_min, lat_max, lon_min, lon_max = CITY_BOXES[schema]
    with schema_context(schema):
        own = [v["slug"] for v in LOCAL[schema].venues]
        venues = list(VenuePage.objects.filter(slug__in=own))
        assert len(venues) == len(own) >= 1
        for venue in venues:
            assert lat_min < venue.latitude < lat_max and lon_min < venue.longitude < lon_max, venue.title
            assert venue.address.startswith(("北京市", "浙江省", "四川省", "辽宁省"))


def test_sites_have_their_own_colours(client):
    from themes.models import Branding

    seen = set()
    for schema in OWN:
        with schema_context(schema):
            branding = Branding.objects.get()
            assert (branding.primary_colour, branding.accent_colour) == LOCAL[schema].colours
            seen.add(branding.primary_colour)
    assert len(seen) == len(OWN)


def test_seeding_again_creates_no_page_image_or_revision():
    from wagtail.images import get_image_model
    from wagtail.models import Page, Revision

    from cms_pages.demo import seed_policy_pages

    with schema_context("sichuan"):
        before = Page.objects.count(), get_image_model().objects.count(), Revision.objects.count()
        assert seed_local_content("四川文化云") == 0
        assert ensure_covers() == 0
        assert seed_policy_pages("四川文化云", "contact@sichuan.culture.localhost") == 0
        assert (Page.objects.count(), get_image_model().objects.count(), Revision.objects.count()) == before
