"""The site's name in the language being read: English from the branding's English name,
Traditional converted from the Chinese name, the Chinese name where there is no English one."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django_tenants.utils import schema_context
from wagtail.models import Site

from languages.demo import provision_languages
from themes.models import Branding

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"


def _names(client, path: str, host: str = ZJ, *, og: bool = True) -> dict:
    """The site's name where a page shows it (Open Graph only on Wagtail pages)."""
    response = client.get(path, HTTP_HOST=host)
    assert response.status_code == 200, path
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    brand = soup.select_one("header .brand")
    names = {
        "header": brand.get_text(strip=True),
        "home": brand["href"],
        "title": soup.title.get_text(),
        "footer": soup.select_one(".footer-name").get_text(strip=True),
    }
    if og:
        names["og"] = soup.select_one('meta[property="og:site_name"]')["content"]
        names["og_locale"] = soup.select_one('meta[property="og:locale"]')["content"]
    return names


def test_the_site_name_follows_the_language(client):
    provision_languages(["zhejiang"])  # the demo fills the English name
    english = _names(client, "/en/news/")
    assert english["header"] == english["og"] == english["footer"] == "Zhejiang Culture Cloud"
    assert english["title"].endswith("· Zhejiang Culture Cloud")
    assert english["home"] == "/en/" and english["og_locale"] == "en_US"

    traditional = _names(client, "/zh-hant/news/")
    assert traditional["header"] == traditional["og"] == "浙江文化雲"
    assert traditional["home"] == "/zh-hant/" and traditional["og_locale"] == "zh_TW"

    chinese = _names(client, "/news/")
    assert chinese["header"] == chinese["og"] == "浙江文化云"
    assert chinese["home"] == "/" and chinese["og_locale"] == "zh_CN"

    # The English home page is titled with the site's name: not doubled.
    assert _names(client, "/en/")["title"] == "Zhejiang Culture Cloud"


def test_an_edited_english_name_shows_at_once_and_stays_on_its_site(client):
    client.get("/en/training/", HTTP_HOST=ZJ)  # cached fragments in place
    with schema_context("zhejiang"):
        branding = Branding.for_site(Site.objects.get(is_default_site=True))
        branding.site_name_en = "Zhejiang Public Culture"
        branding.save()
    assert _names(client, "/en/training/", og=False)["header"] == "Zhejiang Public Culture"
    # A site with no English name: its Chinese name, under /en/ too.
    with schema_context("sichuan"):
        branding = Branding.for_site(Site.objects.get(is_default_site=True))
        branding.site_name_en = ""
        branding.save()
    assert _names(client, "/en/training/", SC, og=False)["header"] == "四川文化云"


def test_the_demo_names_the_national_site_and_a_province_in_english():
    provision_languages(["national", "zhejiang"])
    for schema, name in (("national", "National Public Culture Cloud"), ("zhejiang", "Zhejiang Culture Cloud")):
        with schema_context(schema):
            assert Branding.for_site(Site.objects.get(is_default_site=True)).site_name_en == name
