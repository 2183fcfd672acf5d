"""Registration asks for consent to the site's own policies and records it (PIPL); people choose the
name they are shown by; /me/ shows the saved (masked) real-name data; phones get a numeric keypad."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django_tenants.utils import schema_context

from accounts.models import PolicyConsent
from accounts.policies import DEFAULT_VERSION

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"
PLATFORM = "culture.localhost"
User = get_user_model()
PASSWORD = "Shuxiang-2026!"
VALID_ID = "330106199003074250"


@pytest.fixture(autouse=True)
def texts_in_memory(settings):
    settings.NOTIFICATIONS_SMS_BACKEND = "notifications.sms.MemorySMSBackend"


def register(client, host=ZJ, **fields):
    data = {"mobile": "13912340001", "display_name": "书香", "password1": PASSWORD, "password2": PASSWORD}
    data.update(fields)
    return client.post("/accounts/register/", {k: v for k, v in data.items() if v is not None}, HTTP_HOST=host)


def policy_page(schema: str, slug: str):
    from wagtail.models import Page

    with schema_context(schema):
        return Page.objects.get(slug=slug, depth=3)


def input_tag(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)


def test_form_offers_a_numeric_keypad_and_links_this_sites_policies(client):
    html = client.get("/accounts/register/", HTTP_HOST=ZJ).content.decode()
    mobile = input_tag(html, "mobile")
    assert 'type="tel"' in mobile and 'inputmode="numeric"' in mobile and 'autocomplete="tel"' in mobile
    assert 'autocomplete="email"' in input_tag(html, "email")
    assert 'autocomplete="nickname"' in input_tag(html, "display_name")
    assert 'autocomplete="new-password"' in input_tag(html, "password1")
    consent = input_tag(html, "consent")
    assert 'type="checkbox"' in consent and "checked" not in consent  # never ticked for them
    assert 'href="/privacy/"' in html and 'href="/user-agreement/"' in html
    # The linked pages are this site's own.
    for slug, title in (("privacy", "浙江文化云隐私政策"), ("user-agreement", "浙江文化云用户协议")):
        page = client.get(f"/{slug}/", HTTP_HOST=ZJ)
        assert page.status_code == 200 and title in page.content.decode()
    assert "四川文化云隐私政策" in client.get("/privacy/", HTTP_HOST=SC).content.decode()
    # /me/'s new-number field too.
    client.force_login(User.objects.get(username="zhejiang_editor"))
    me = client.get("/me/", HTTP_HOST=ZJ).content.decode()
    assert 'type="tel"' in input_tag(me, "mobile") and 'inputmode="numeric"' in input_tag(me, "mobile")


def test_registration_without_consent_is_refused_and_nothing_is_saved(client):
    before = User.objects.count(), PolicyConsent.objects.count()
    response = register(client)
    assert response.status_code == 200
    assert "请阅读并同意《隐私政策》和《用户协议》后再注册" in response.content.decode()
    assert (User.objects.count(), PolicyConsent.objects.count()) == before
    assert "_auth_user_id" not in client.session


def test_consent_records_which_version_of_each_policy_on_which_site_and_when(client):
    response = register(client, consent="on")
    assert response.status_code == 302
    user = User.objects.get(first_name="书香")
    rows = {c.kind: c for c in PolicyConsent.objects.filter(user=user)}
    assert set(rows) == {"privacy", "user-agreement"}
    for kind, row in rows.items():
        page = policy_page("zhejiang", kind)
        assert row.site_schema == "zhejiang" and row.policy_url == f"/{kind}/"
        assert row.version == f"page-{page.pk}-rev-{page.live_revision_id}"
        assert row.policy_date == page.last_published_at.date()
        assert row.consented_at is not None


def test_a_revised_policy_is_the_version_the_next_person_agrees_to(client):
    page = policy_page("sichuan", "privacy")
    with schema_context("sichuan"):
        revision = page.specific.save_revision()
        revision.publish()
    cache.clear()
    register(client, host=SC, consent="on", mobile="13912340002", display_name="蜀绣")
    row = PolicyConsent.objects.get(user__first_name="蜀绣", kind="privacy")
    assert row.site_schema == "sichuan" and row.version == f"page-{page.pk}-rev-{revision.pk}"


def test_a_site_without_its_own_policies_uses_the_platforms(client):
    response = register(client, host=PLATFORM, consent="on", mobile="13912340003", display_name="平台读者")
    assert response.status_code == 302
    rows = PolicyConsent.objects.filter(user__first_name="平台读者")
    assert {(r.kind, r.version, r.site_schema) for r in rows} == {
        ("privacy", DEFAULT_VERSION, "public"),
        ("user-agreement", DEFAULT_VERSION, "public"),
    }
    page = client.get("/accounts/policy/privacy/", HTTP_HOST=PLATFORM)
    assert page.status_code == 200 and "我们收集哪些个人信息" in page.content.decode()
    assert client.get("/accounts/policy/cookies/", HTTP_HOST=PLATFORM).status_code == 404


def test_people_are_shown_by_the_name_they_chose(client):
    register(client, consent="on", mobile="13912340004", display_name="  越剧 迷 ")
    user = User.objects.get(first_name="越剧 迷")
    html = client.get("/me/", HTTP_HOST=ZJ).content.decode()
    assert '<dd class="display-name">越剧 迷</dd>' in html and user.username not in html
    assert client.post("/me/name/", {"display_name": "青瓷"}, HTTP_HOST=ZJ).status_code == 302
    user.refresh_from_db()
    assert user.first_name == "青瓷" and user.display_name == "青瓷"
    response = client.post("/me/name/", {"display_name": "\u200b"}, HTTP_HOST=ZJ)
    assert response.status_code == 400 and "昵称：" in response.content.decode()
    user.refresh_from_db()
    assert user.first_name == "青瓷"


def test_registration_needs_a_display_name(client):
    before = User.objects.count()
    response = register(client, consent="on", mobile="13912340005", display_name="")
    assert "昵称：请填写昵称" in response.content.decode()
    assert User.objects.count() == before


def test_me_shows_the_saved_real_name_data_masked_not_empty_fields(client):
    from accounts.services import set_personal_data

    register(client, consent="on", mobile="13912340006", display_name="王")
    user = User.objects.get(first_name="王")
    html = client.get("/me/", HTTP_HOST=ZJ).content.decode()
    assert "尚未实名登记" in html and "修改实名信息" not in html
    response = client.post("/me/", {"real_name": "王晓明", "id_number": VALID_ID}, HTTP_HOST=ZJ)
    assert response.status_code == 302
    set_personal_data(user, mobile="13912340006")
    html = client.get("/me/", HTTP_HOST=ZJ).content.decode()
    saved = re.search(r'<dl class="saved-real-name">(.*?)</dl>', html, re.S).group(1)
    assert "王**" in saved and "330106********4250" in saved and "139****0006" in saved
    assert VALID_ID not in html and "王晓明" not in html and "13912340006" not in html
    # The form to change them is folded away, and empty (never prefilled with the plaintext).
    assert re.search(r"<details>\s*<summary>修改实名信息</summary>", html)
    assert 'value="' not in input_tag(html, "id_number")
