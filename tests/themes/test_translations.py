"""zh-Hans first, English and Traditional Chinese on every site, minority languages per tenant."""

import pytest
from django_tenants.utils import schema_context
from wagtail.models import Locale

from cms_pages.models import HomePage
from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"


def translate_home(schema: str, language: str, title: str) -> None:
    with schema_context(schema):
        home = HomePage.objects.get(locale__language_code="zh-hans")
        translated = home.copy_for_translation(Locale.objects.get(language_code=language))
        translated.title = title
        translated.save_revision().publish()


def test_every_site_has_chinese_english_and_traditional_chinese():
    for schema in ["national", "zhejiang", "dalian"]:
        with schema_context(schema):
            codes = set(Locale.objects.values_list("language_code", flat=True))
            assert codes == {"zh-hans", "en", "zh-hant"}
            assert Locale.get_default().language_code == "zh-hans"


def test_translated_home_pages_have_their_own_urls_and_a_switcher(client):
    translate_home("zhejiang", "en", "Zhejiang Culture Cloud")
    translate_home("zhejiang", "zh-hant", "浙江文化雲")
    html = client.get("/", HTTP_HOST=ZJ).content.decode()
    assert '<html lang="zh-hans"' in html
    assert 'href="/en/" lang="en" hreflang="en">English</a>' in html
    assert 'href="/zh-hant/" lang="zh-hant" hreflang="zh-hant">繁體中文</a>' in html

    english = client.get("/en/", HTTP_HOST=ZJ)
    assert english.status_code == 200
    assert "<h1>Zhejiang Culture Cloud</h1>" in english.content.decode()
    assert '<html lang="en"' in english.content.decode()
    assert "<h1>浙江文化雲</h1>" in client.get("/zh-hant/", HTTP_HOST=ZJ).content.decode()
    # Another tenant has no English home page yet: its Chinese page, canonical to the original.
    fallback = client.get("/en/", HTTP_HOST="sichuan.culture.localhost").content.decode()
    assert "<h1>四川文化云</h1>" in fallback
    assert '<link rel="canonical" href="http://sichuan.culture.localhost:8000/">' in fallback


def test_site_admin_switches_on_a_minority_language_for_this_tenant_only(client):
    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    response = client.post("/admin/locales/new/", {"language_code": "bo"}, HTTP_HOST=ZJ)
    assert response.status_code == 302, response.content.decode()[:500]
    translate_home("zhejiang", "bo", "ཀྲེ་ཅང་རིག་གནས་སྤྲིན།")
    response = client.get("/bo/", HTTP_HOST=ZJ)
    assert response.status_code == 200
    assert '<html lang="bo"' in response.content.decode()
    with schema_context("sichuan"):
        assert not Locale.objects.filter(language_code="bo").exists()
    assert client.get("/bo/", HTTP_HOST="sichuan.culture.localhost").status_code == 404
