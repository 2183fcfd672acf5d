"""One account everywhere, in a real browser: shared session across tenant subdomains, sign-out
everywhere, and OpenID Connect for a tenant on its own domain."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from tenants.demo import DEMO_PASSWORD

ZHEJIANG = "zhejiang.culture.localhost"
SICHUAN = "sichuan.culture.localhost"
DALIAN_OWN = "dalian-culture.localhost"
PLATFORM = "culture.localhost"


@pytest.fixture
def oidc_client_on_live_port(live_platform, django_db_blocker):
    """Register the sites' OIDC callback URLs with the live server's port (committed: the server reads them)."""
    from accounts.oidc import ensure_site_client

    with django_db_blocker.unblock(), override_settings(PLATFORM_PORT=str(live_platform.port)):
        ensure_site_client()
    yield
    with django_db_blocker.unblock():
        ensure_site_client()


def sign_in(page, live_platform, host, username="sichuan_editor"):
    page.goto(live_platform.url(host, "/accounts/login/"))
    page.get_by_label("手机号、邮箱或用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_sign_in_once_then_every_subdomain_and_sign_out_everywhere(live_platform, page, forget_browser_sessions):
    sign_in(page, live_platform, ZHEJIANG)
    expect(page).to_have_url(live_platform.url(ZHEJIANG, "/me/"))
    expect(page.locator("h1")).to_have_text("个人中心")

    # Another tenant: no second sign-in.
    page.goto(live_platform.url(SICHUAN, "/me/"))
    expect(page).to_have_url(live_platform.url(SICHUAN, "/me/"))
    expect(page.get_by_text("四川文化云编辑").first).to_be_visible()  # the display name, not the user name
    expect(page.get_by_text("编辑", exact=True)).to_be_visible()  # this user's role in 四川

    # Sign out on 四川: signed out on 浙江 too.
    page.get_by_role("button", name="退出登录").click()
    page.goto(live_platform.url(ZHEJIANG, "/me/"))
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/me/$"))


def test_own_domain_signs_in_with_the_unified_account_and_lands_back(
    live_platform, page, oidc_client_on_live_port, forget_browser_sessions
):
    page.goto(live_platform.url(DALIAN_OWN, "/me/"))
    expect(page).to_have_url(re.compile(r"dalian-culture\.localhost:\d+/accounts/login/"))
    page.get_by_role("link", name="使用文化云统一账号登录").click()

    # The national account service on the platform host asks for the one password.
    expect(page).to_have_url(re.compile(rf"//{re.escape(PLATFORM)}:\d+/accounts/login/"))
    page.get_by_label("手机号、邮箱或用户名").fill("dalian_editor")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url(live_platform.url(DALIAN_OWN, "/me/"))
    expect(page.get_by_text("大连文化云编辑").first).to_be_visible()
    expect(page.get_by_text("编辑", exact=True)).to_be_visible()


def test_already_signed_in_on_the_platform_means_no_password_on_the_own_domain(
    live_platform, page, oidc_client_on_live_port, forget_browser_sessions
):
    sign_in(page, live_platform, ZHEJIANG, username="dalian_admin")
    page.goto(live_platform.url(DALIAN_OWN, "/accounts/login/?next=/me/"))
    page.get_by_role("link", name="使用文化云统一账号登录").click()
    expect(page).to_have_url(live_platform.url(DALIAN_OWN, "/me/"))
    expect(page.get_by_text("大连文化云站点管理员").first).to_be_visible()


def test_forged_state_gets_a_chinese_error_page(live_platform, page, oidc_client_on_live_port):
    page.goto(live_platform.url(DALIAN_OWN, "/oidc/authenticate/?next=/me/"))  # a real state in the session...
    response = page.goto(
        live_platform.url(DALIAN_OWN, "/oidc/callback/?code=stolen&state=forged")
    )  # ...and a forged one
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("登录请求已失效或被篡改")


def test_forged_redirect_uri_is_refused_by_the_account_service(live_platform, page, oidc_client_on_live_port):
    sign_in(page, live_platform, ZHEJIANG)
    page.goto(
        live_platform.url(
            PLATFORM,
            "/o/authorize/?client_id=culture-sites&response_type=code&scope=openid&state=x"
            "&redirect_uri=http://evil.example/cb&code_challenge=" + "a" * 43 + "&code_challenge_method=S256",
        )
    )
    expect(page).to_have_url(re.compile(rf"//{re.escape(PLATFORM)}:\d+/o/authorize/"))  # never sent to evil.example
    expect(page.get_by_role("alert")).to_contain_text("回调地址未在文化云登记")
