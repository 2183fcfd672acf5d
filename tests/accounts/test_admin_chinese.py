"""Staff pages in Chinese and branded 文化云; flash messages shown once where they belong; Wagtail's
restricted-page sign-in replaced by the themed one."""

import pytest
from django.utils import translation

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
PASSWORD = "Wenhua-2026"


def sign_in(client, username):
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD}, HTTP_HOST=ZJ)
    assert response.status_code == 302, response.content.decode()[:500]


def test_logged_out_message_shows_on_the_sign_in_page_and_never_on_the_next_dashboard(client):
    sign_in(client, "zhejiang_admin")
    response = client.post("/admin/logout/", HTTP_HOST=ZJ, follow=True)
    html = response.content.decode()
    assert "注销成功" in html  # once, on the page the person lands on
    sign_in(client, "zhejiang_editor")
    dashboard = client.get("/admin/", HTTP_HOST=ZJ).content.decode()
    assert "注销成功" not in dashboard


def test_admin_sign_in_is_branded_and_in_chinese(client):
    html = client.get("/admin/login/", HTTP_HOST=ZJ).content.decode()
    assert "登录文化云管理后台" in html
    assert "登录Wagtail" not in html and "Sign in to Wagtail" not in html
    assert "culture-cloud-logo.svg" in html


def test_missing_wagtail_strings_are_supplied_in_chinese():
    with translation.override("zh-hans"):
        assert translation.gettext("Privacy and access") == "隐私与访问"
        assert translation.gettext("Search all pages…") == "搜索全部页面…"
        assert "个页面" in translation.ngettext(
            '%(total)s Page <span class="w-sr-only">created in %(site_name)s</span>',
            '%(total)s Pages <span class="w-sr-only">created in %(site_name)s</span>',
            17,
        )
        # Django's own validators already speak Chinese
        from django.contrib.auth.password_validation import MinimumLengthValidator

        assert "至少" in MinimumLengthValidator().get_help_text()


def test_wagtails_restricted_page_sign_in_goes_to_the_themed_one(client):
    response = client.get("/_util/login/", {"next": "/news/"}, HTTP_HOST=ZJ)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fnews%2F"
    response = client.get("/_util/login/", {"next": "https://evil.example/"}, HTTP_HOST=ZJ)
    assert response["Location"] == "/accounts/login/"


def test_a_page_for_signed_in_visitors_sends_them_to_the_themed_sign_in(client):
    from django_tenants.utils import schema_context
    from wagtail.models import PageViewRestriction

    from cms_pages.models import NewsIndexPage

    with schema_context("zhejiang"):
        news = NewsIndexPage.objects.get()
        PageViewRestriction.objects.create(page=news, restriction_type=PageViewRestriction.LOGIN)
    response = client.get("/news/", HTTP_HOST=ZJ)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/news/")
