"""The demo world shows federation at work: a full national catalogue with editors' picks on the
national home page, and a province (liaoning) carrying the national resources it pulled."""

import pytest
from django.core.cache import caches
from django_tenants.utils import schema_context

from cms_pages.models import ResourcePage
from federation.models import Record

pytestmark = pytest.mark.django_db


def test_national_home_page_features_items_from_several_origins(client):
    caches["pages"].clear()
    html = client.get("/", HTTP_HOST="national.culture.localhost").content.decode()
    section = html[html.index("各地精选") :]
    with schema_context("national"):
        picks = list(Record.objects.filter(featured=True))
    assert len({record.origin_code for record in picks}) >= 4
    for record in picks:
        assert record.title in section and f"/catalogue/{record.uid}/" in section


def test_liaoning_publishes_the_national_resources_it_pulled(client):
    with schema_context("national"):
        national = {r.uid: r.title for r in Record.objects.filter(is_local=True, kind="resource", status="live")}
    with schema_context("liaoning"):
        copies = Record.objects.filter(is_local=False, subscription__isnull=False, kind="resource")
        assert {c.uid for c in copies} == set(national) and national
        page = ResourcePage.objects.live().get(uid=next(iter(national)))
        assert page.get_parent().slug == "resources"
        url = page.url
    html = client.get(url, HTTP_HOST="liaoning.culture.localhost").content.decode()
    assert f"<h1>{page.title}</h1>" in html
