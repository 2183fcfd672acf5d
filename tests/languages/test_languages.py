"""zh-Hant pages converted automatically and kept in sync; English through wagtail-localize;
untranslated pages say so; lang and hreflang; Tibetan on 四川 only."""

import pytest
from django_tenants.utils import schema_context
from wagtail.models import Locale

from cms_pages.models import HomePage, NewsIndexPage, NewsPage
from languages import services
from languages.demo import ENGLISH, provision_languages

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"


def test_a_simplified_page_gets_a_traditional_version_kept_in_sync(client):
    from wagtail_localize.models import StringTranslation

    with schema_context("zhejiang"):
        news = NewsIndexPage.objects.get(locale__language_code="zh-hans")
        article = NewsPage(title="群星奖获奖节目走进乡村", slug="qunxing", summary="观众里面有很多老年人。")
        news.add_child(instance=article)
        article.save_revision().publish()
        traditional = services.sync_traditional(article)
        assert traditional.title == "群星獎獲獎節目走進鄉村"
        assert traditional.summary == "觀眾裡面有很多老年人。"
        assert traditional.locale.language_code == "zh-hant" and traditional.live
        assert traditional.get_parent().locale.language_code == "zh-hant"  # the tree came first

        # An editor corrects one string in wagtail-localize; the Simplified page then changes.
        summary = StringTranslation.objects.get(locale__language_code="zh-hant", data="觀眾裡面有很多老年人。")
        summary.data = "觀眾中有許多長者。"
        summary.translation_type = StringTranslation.TRANSLATION_TYPE_MANUAL
        summary.save()
        article.title = "群星奖获奖节目走进社区"
        article.save_revision().publish()
        traditional = services.sync_traditional(article)
        assert traditional.title == "群星獎獲獎節目走進社區"  # converted again
        assert traditional.summary == "觀眾中有許多長者。"  # the editor's correction kept
        url = traditional.url

    response = client.get(url, HTTP_HOST=ZJ)
    html = response.content.decode()
    assert '<html lang="zh-hant"' in html
    assert 'hreflang="zh-hans"' in html and 'hreflang="x-default"' in html


def test_a_translation_is_never_pushed_to_the_national_catalogue():
    from federation.models import Record

    with schema_context("zhejiang"):
        news = NewsIndexPage.objects.get(locale__language_code="zh-hans")
        article = NewsPage(title="推送测试", slug="tuisong", push_to_national=True)
        news.add_child(instance=article)
        article.save_revision().publish()
        traditional = services.sync_traditional(article)
        assert Record.objects.filter(uid=article.uid).exists()
        assert not Record.objects.filter(uid=traditional.uid).exists()


def test_demo_english_home_and_sections_and_untranslated_pages_say_so(client):
    provision_languages(["zhejiang"])
    english = client.get("/en/", HTTP_HOST=ZJ).content.decode()
    assert '<html lang="en"' in english
    assert "Zhejiang Culture Cloud" in english
    assert ">Events<" in english and ">News<" in english  # the navigation in English
    assert 'hreflang="zh-hant"' in english
    # A site without English pages: the Chinese original, saying so, with a link to it.
    with schema_context("sichuan"):
        article = NewsPage.objects.filter(locale__language_code="zh-hans").first()
        path = article.url
    html = client.get("/en" + path, HTTP_HOST=SC).content.decode()
    assert '<html lang="zh-hans"' in html
    assert 'class="untranslated-notice"' in html
    assert f'<a href="{path}" lang="zh-Hans"' in html
    # Idempotent: a second run changes nothing.
    with schema_context("zhejiang"):
        before = HomePage.objects.get(locale__language_code="en").latest_revision_id
    provision_languages(["zhejiang"])
    with schema_context("zhejiang"):
        assert HomePage.objects.get(locale__language_code="en").latest_revision_id == before
    assert ENGLISH["zhejiang"]["浙江文化云"] == "Zhejiang Culture Cloud"


def test_tibetan_is_on_for_sichuan_only(client):
    provision_languages(["sichuan"])
    response = client.get("/bo/", HTTP_HOST=SC)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="bo"' in html and "སི་ཁྲོན་རིག་གནས་སྤྲིན།" in html
    assert 'hreflang="bo"' in client.get("/", HTTP_HOST=SC).content.decode()
    with schema_context("zhejiang"):
        assert not Locale.objects.filter(language_code="bo").exists()
    assert client.get("/bo/", HTTP_HOST=ZJ).status_code == 404


def test_the_search_page_offers_its_other_languages(client):
    html = client.get("/search/", {"q": "广场舞"}, HTTP_HOST=ZJ).content.decode()
    assert 'href="/en/search/?q=' in html and 'hreflang="en"' in html
    english = client.get("/en/search/", {"q": "广场舞"}, HTTP_HOST=ZJ)
    assert english.status_code == 200
    assert "Site search" in english.content.decode()


def test_an_untranslated_page_under_a_translated_section_shows_the_original_saying_so(client):
    """zhejiang has English section pages; an article with no English version below one of them
    is shown in Chinese with the notice, not a 404."""
    provision_languages(["zhejiang"])
    with schema_context("zhejiang"):
        article = NewsPage.objects.live().filter(locale__language_code="zh-hans").first()
        path = article.url
    response = client.get("/en" + path, HTTP_HOST=ZJ)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans"' in html
    assert 'class="untranslated-notice"' in html
    assert article.title in html


def test_the_english_catalogue_translates_every_interface_string():
    """locale/en is complete: no empty or fuzzy entry (fuzzy ones Django ignores, so the Chinese
    would show under /en/)."""
    from pathlib import Path

    import polib

    catalogue = polib.pofile(str(Path(__file__).resolve().parents[2] / "locale/en/LC_MESSAGES/django.po"))
    untranslated = [
        entry.msgid
        for entry in catalogue
        if not entry.obsolete
        and ("fuzzy" in entry.flags or not (entry.msgstr or all(entry.msgstr_plural.values() or [""])))
    ]
    assert untranslated == []


def test_the_national_catalogue_reads_in_english_under_en(client):
    provision_languages(["national"])
    html = client.get("/en/catalogue/", HTTP_HOST="national.culture.localhost").content.decode()
    assert "National Resource Catalogue" in html
    assert "All sources" in html and "国家资源服务总目录" not in html
