"""The platform host answers robots.txt, a sitemap of the directory and a favicon; every tenant host
has a favicon (its branding's logo, else the default)."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django_tenants.utils import schema_context
from PIL import Image as PILImage
from usp.tree import sitemap_from_str

pytestmark = pytest.mark.django_db

PLATFORM = "culture.localhost"
TENANT_HOSTS = [
    "national.culture.localhost",
    "zhejiang.culture.localhost",
    "sichuan.culture.localhost",
    "liaoning.culture.localhost",
    "dalian.culture.localhost",
    "dalian-culture.localhost",
]


def test_platform_robots_txt_names_the_directory_sitemap_which_opens(client, settings):
    response = client.get("/robots.txt", HTTP_HOST=PLATFORM)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "Disallow: /operator/" in body
    sitemap_url = f"http://{PLATFORM}:{settings.PLATFORM_PORT}/sitemap.xml"
    assert f"Sitemap: {sitemap_url}" in body

    sitemap = client.get(urlsplit(sitemap_url).path, HTTP_HOST=urlsplit(sitemap_url).netloc)
    assert sitemap.status_code == 200
    pages = [p.url for p in sitemap_from_str(sitemap.content.decode()).all_pages()]
    assert pages == [f"http://{PLATFORM}:{settings.PLATFORM_PORT}/"]
    for url in pages:
        parts = urlsplit(url)
        answer = client.get(parts.path, HTTP_HOST=parts.netloc)
        assert answer.status_code == 200 and "国家公共文化云" in answer.content.decode()  # the directory


def test_every_host_has_a_favicon(client):
    default = client.get("/favicon.ico", HTTP_HOST=PLATFORM)
    assert default.status_code == 200 and default["Content-Type"] == "image/x-icon"
    assert default.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age=86400" in default["Cache-Control"]
    for host in TENANT_HOSTS:
        response = client.get("/favicon.ico", HTTP_HOST=host)
        assert response.status_code == 200, host
        assert response.content == default.content, host  # no logo in the demo: the default icon
    html = client.get("/", HTTP_HOST="zhejiang.culture.localhost").content.decode()
    assert '<link rel="icon" href="/favicon.ico">' in html
    assert '<link rel="icon" href="/favicon.ico">' in client.get("/", HTTP_HOST=PLATFORM).content.decode()


def test_a_tenants_favicon_is_its_logo_and_stays_on_that_tenant(client):
    from wagtail.images.models import Image
    from wagtail.models import Site

    from themes.models import Branding

    png = io.BytesIO()
    PILImage.new("RGB", (200, 120), (20, 90, 160)).save(png, "PNG")
    with schema_context("zhejiang"):
        logo = Image.objects.create(title="浙江文化云标志", file=ContentFile(png.getvalue(), name="zj-logo.png"))
        branding = Branding.for_site(Site.objects.get(is_default_site=True))
        branding.logo = logo
        branding.save()

    response = client.get("/favicon.ico", HTTP_HOST="zhejiang.culture.localhost")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    icon = PILImage.open(io.BytesIO(response.content))
    assert icon.size == (64, 64) and icon.convert("RGB").getpixel((32, 32)) == (20, 90, 160)
    # another tenant keeps the default icon
    other = client.get("/favicon.ico", HTTP_HOST="sichuan.culture.localhost")
    assert other["Content-Type"] == "image/x-icon"
