"""Under /en/ the interface reads in English: no Chinese is left on the page but what people wrote.

A walk through the pages a foreign visitor meets on 浙江文化云 (home, a venue, an activity, an
article, a digital resource, the training catalogue and a course, sign-in, registration, the
personal centre and 我的预约). Every run of Chinese characters in the visible text (and in the
labels a screen reader reads) must come from the database (titles, addresses, names people
typed), never from a template or from code: a run either equals a whole run of some stored text,
or is a long piece of one (a summary cut short). Short stray words ("时间", "名额", "月"/"日" of a
date) left in a template are not stored as a whole run anywhere, so they fail the test.
"""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models
from django_tenants.utils import schema_context

from cms_pages.models import ActivityPage, NewsPage, ResourcePage, VenuePage
from languages.demo import provision_languages
from tests.training.factories import make_course

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
CHINESE_RUN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
TAG = re.compile(r"<[^>]+>")
LABEL_ATTRIBUTES = ("aria-label", "placeholder", "alt", "title")
LONG_PIECE = 5  # a run this long that is part of a stored text is content (e.g. a cut summary)


def _stored_runs(schema: str) -> tuple[set[str], list[str]]:
    """Every run of Chinese in the text stored in `schema` (and the public schema)."""
    whole: set[str] = set()
    texts: list[str] = []
    for schema_name in ("public", schema):
        with schema_context(schema_name):
            tables = set(connection.introspection.table_names())
            for model in apps.get_models():
                if model._meta.proxy or not model._meta.managed or model._meta.db_table not in tables:
                    continue
                text_fields = [
                    f.attname
                    for f in model._meta.concrete_fields
                    if isinstance(f, models.CharField | models.TextField | models.JSONField)
                ]
                if not text_fields:
                    continue
                for row in model._base_manager.values_list(*text_fields):
                    for value in row:
                        if value in (None, ""):
                            continue
                        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                        text = TAG.sub("", text)
                        if HAN.search(text):
                            texts.append(text)
                            whole.update(CHINESE_RUN.findall(text))
    return whole, texts


def _leftover_chinese(html: str, whole: set[str], texts: list[str]) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    for element in soup(["script", "style", "template"]):
        element.decompose()
    # Text marked as another language on purpose: the language switcher's own names, metadata.
    for element in soup.select("body [lang]"):
        if not element["lang"].lower().startswith("en"):
            element.decompose()
    pieces = [str(s) for s in soup.find_all(string=True)]
    for attribute in LABEL_ATTRIBUTES:
        pieces += [element[attribute] for element in soup.find_all(attrs={attribute: True})]
    found = []
    for piece in pieces:
        for match in CHINESE_RUN.finditer(piece):
            run = match.group()
            if not HAN.search(run) and len(run) <= 2:
                continue  # lone punctuation between two pieces of content
            if len(run) == 1 and piece[match.end() : match.end() + 1] in ("*", "＊"):
                continue  # a masked name (王**): the first character of a stored name
            if run in whole or (len(run) >= LONG_PIECE and any(run in text for text in texts)):
                continue
            found.append(run)
    return sorted(set(found))


@pytest.fixture
def zhejiang_in_english():
    provision_languages(["zhejiang"])
    with schema_context("zhejiang"):
        course = make_course("非遗保护工作实务培训")
        live = {"locale__language_code": "zh-hans"}
        paths = [
            "/en/",
            "/en" + VenuePage.objects.live().filter(**live).first().url,
            "/en" + ActivityPage.objects.live().filter(**live).first().url,
            "/en" + NewsPage.objects.live().filter(**live).first().url,
            "/en" + ResourcePage.objects.live().filter(**live).first().url,
            "/en/training/",
            f"/en/training/courses/{course.pk}/",
        ]
    return paths


def _leftovers_on(client, paths) -> dict:
    """Chinese left on each of zhejiang's pages that is not stored content, by path (each must open)."""
    whole, texts = _stored_runs("zhejiang")
    leftovers = {}
    for path in paths:
        response = client.get(path, HTTP_HOST=ZJ)
        assert response.status_code == 200, path
        found = _leftover_chinese(response.content.decode(), whole, texts)
        if found:
            leftovers[path] = found
    return leftovers


def test_public_pages_under_en_leave_no_chinese_but_content(client, zhejiang_in_english):
    paths = [*zhejiang_in_english, "/en/accounts/login/", "/en/accounts/register/", "/en/accounts/password/reset/"]
    assert _leftovers_on(client, paths) == {}


def test_account_pages_under_en_leave_no_chinese_but_content(client):
    user = get_user_model().objects.create_user(username="visitor_en", password="x-long-password-1", first_name="Ann")
    client.force_login(user)
    assert _leftovers_on(client, ["/en/me/", "/en/me/bookings/", "/en/me/learning/"]) == {}


def test_the_chinese_sign_in_keeps_its_address_and_the_english_one_signs_in_to_the_same_session(client):
    """Moving the account pages under the language prefixes keeps every old link working."""
    user = get_user_model().objects.create_user(username="visitor_zh", password="x-long-password-1", first_name="Li")
    chinese = client.get("/accounts/login/", HTTP_HOST=ZJ)
    assert chinese.status_code == 200 and "登录文化云" in chinese.content.decode()
    english = client.get("/en/accounts/login/?next=/en/", HTTP_HOST=ZJ)
    assert english.status_code == 200
    assert "Sign in to Culture Cloud" in english.content.decode()
    response = client.post(
        "/en/accounts/login/", {"username": "visitor_zh", "password": "x-long-password-1"}, HTTP_HOST=ZJ
    )
    assert response.status_code == 302 and response["Location"] == "/en/me/"
    # The same session serves the Chinese personal centre.
    me = client.get("/me/", HTTP_HOST=ZJ)
    assert me.status_code == 200 and "个人中心" in me.content.decode()
    assert user.display_name in me.content.decode()


def test_staff_pages_outside_the_admin_under_en_leave_no_chinese_but_content(client):
    """The front desk's check-in, bookings, volunteer and training management read in English."""
    from roles.services import TRAINING_MANAGER, grant_role
    from tenants.demo import DEMO_PASSWORD

    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    with schema_context("zhejiang"):
        grant_role(get_user_model().objects.get(username="zhejiang_admin"), TRAINING_MANAGER)
    paths = [
        "/en/bookings/staff/",
        "/en/bookings/staff/check-in/",
        "/en/volunteers/manage/",
        "/en/training/manage/",
        "/en/training/manage/report/",
        "/en/training/manage/import/",
    ]
    assert _leftovers_on(client, paths) == {}
    # The check-in scanner's messages are on the page, in English, for its script.
    html = client.get("/en/bookings/staff/check-in/", HTTP_HOST=ZJ).content.decode()
    status = BeautifulSoup(html, "html.parser").select_one("#scanner-status")
    assert status["data-t-aim"] == "Point the camera at the e-ticket QR code"


def _script_texts(html: str) -> list[str]:
    """The words a page hands its scripts (data-t-* attributes)."""
    soup = BeautifulSoup(html, "html.parser")
    return [
        value for element in soup.find_all(True) for name, value in element.attrs.items() if name.startswith("data-t-")
    ]


def test_live_and_campaign_scripts_get_their_words_in_english(client):
    from cms_pages.models import CampaignPage, LiveStreamPage

    with schema_context("zhejiang"):
        live = LiveStreamPage.objects.live().filter(locale__language_code="zh-hans").first()
        campaign = CampaignPage.objects.live().filter(locale__language_code="zh-hans").first()
        paths = ["/en" + live.url, "/en" + campaign.url]
    for path in paths:
        texts = _script_texts(client.get(path, HTTP_HOST=ZJ).content.decode())
        assert texts, path
        assert [text for text in texts if HAN.search(text)] == [], path
    chinese = _script_texts(client.get(paths[0].removeprefix("/en"), HTTP_HOST=ZJ).content.decode())
    assert "还没有评论。" in chinese  # unprefixed: Chinese, as before


def test_error_pages_read_in_the_visitors_language(client):
    """The unknown-host and closed-site pages are rendered before the language is known: they
    read it from the address's prefix or the browser's Accept-Language; the 500 page from the
    language the request was being read in."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from tenants.services import set_site_active

    no_runs: tuple[set[str], list[str]] = (set(), [])
    unknown = client.get("/en/", HTTP_HOST="nowhere.culture.localhost")
    assert unknown.status_code == 404
    assert _leftover_chinese(unknown.content.decode(), *no_runs) == []
    assert "This site cannot be found" in unknown.content.decode()
    browser = client.get("/", HTTP_HOST="nowhere.culture.localhost", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert "This site cannot be found" in browser.content.decode()
    assert "找不到这个站点" in client.get("/", HTTP_HOST="nowhere.culture.localhost").content.decode()

    set_site_active("sichuan", False)
    try:
        closed = client.get("/en/", HTTP_HOST="sichuan.culture.localhost")
        assert closed.status_code == 503
        html = closed.content.decode()
        assert "四川文化云 is closed" in html
        whole, texts = _stored_runs("sichuan")
        assert _leftover_chinese(html, whole, texts) == []
    finally:
        set_site_active("sichuan", True)

    with translation.override("en"):
        error = render_to_string("500.html")
    assert '<html lang="en">' in error and _leftover_chinese(error, *no_runs) == []
    with translation.override("zh-hans"):
        assert "抱歉，服务器出错了" in render_to_string("500.html")


def test_a_vote_cast_under_en_is_answered_in_english(client):
    """The campaign script shows the server's answer as it comes: under /en/ it is English."""
    from campaigns.models import CampaignEntry
    from cms_pages.models import CampaignPage
    from tests.websocket_helpers import hours, make_user, publish_under_home

    campaign = publish_under_home(
        "zhejiang",
        CampaignPage(title="英文投票测试", slug="en-vote", start=hours(-1), end=hours(72), daily_vote_limit=2),
    )
    with schema_context("zhejiang"):
        entry = CampaignEntry.objects.create(campaign=campaign, number=1, title="作品1", author="作者1")
    client.force_login(make_user(signed_in=False))
    connection.set_schema_to_public()
    answer = client.post(
        f"/en/campaigns/{campaign.pk}/vote/", {"entry": entry.pk}, HTTP_HOST=ZJ, HTTP_ACCEPT="application/json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["message"] == "Vote cast! Votes left today: 1."
    # A refusal too: the reason comes from campaigns.services, in the language of the request.
    again = client.post(
        f"/en/campaigns/{campaign.pk}/vote/", {"entry": entry.pk}, HTTP_HOST=ZJ, HTTP_ACCEPT="application/json"
    )
    assert again.status_code == 409
    assert again.json()["message"] == "You have already voted for this entry today; you can vote for other entries"
    in_chinese = client.post(
        f"/campaigns/{campaign.pk}/vote/", {"entry": entry.pk}, HTTP_HOST=ZJ, HTTP_ACCEPT="application/json"
    )
    assert in_chinese.json()["message"] == "今天已经为这个作品投过票了，可以投给其他作品"
