"""Register once, sign in with mobile/email/username, one session for every tenant host, lock-out, reset."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django_tenants.utils import schema_context

from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"
User = get_user_model()


def register(client, identifier, host=ZJ, password="Shuxiang-2026!", **extra):
    """Register with a mobile number, or an email address (an identifier with @), agreeing to the policies."""
    fields = {"email" if "@" in identifier else "mobile": identifier, "display_name": "读者", "consent": "on"}
    return client.post(
        "/accounts/register/",
        {**fields, "password1": password, "password2": password, **extra},
        HTTP_HOST=host,
    )


def verify_mobile_by_code(client, host=ZJ):
    from notifications import sms

    code = re.search(r"验证码是 (\d{6})", sms.outbox[-1].text).group(1)
    return client.post("/me/mobile/confirm/", {"code": code}, HTTP_HOST=host)


@pytest.fixture(autouse=True)
def texts_in_memory(settings):
    from notifications import sms

    settings.NOTIFICATIONS_SMS_BACKEND = "notifications.sms.MemorySMSBackend"
    sms.outbox.clear()
    return sms.outbox


def test_register_with_mobile_joins_this_site_only_and_masks_the_number(client):
    response = register(client, "+86 139-1234-5678", display_name="书香")
    assert response.status_code == 302 and response["Location"] == "/me/"
    user = User.objects.get(first_name="书香")
    assert user.mobile == "" and user.username.startswith("u")  # attached once the texted code is entered
    assert verify_mobile_by_code(client).status_code == 302
    user.refresh_from_db()
    assert user.mobile == "13912345678" and user.mobile_verified
    with schema_context("zhejiang"):
        assert list(user.groups.values_list("name", flat=True)) == ["成员"]
    with schema_context("sichuan"):
        assert not user.groups.exists()
    html = client.get("/me/", HTTP_HOST=ZJ).content.decode()
    assert "139****5678" in html and "13912345678" not in html


@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        ("12345", "手机号：手机号格式不正确，请输入 11 位中国大陆手机号"),
        ("not@an@email", "邮箱（没有手机号时填写）：邮箱格式不正确"),
        ("‮13912345678", "手机号：手机号格式不正确，请输入 11 位中国大陆手机号"),
        ("1" * 300, "40"),
        (" ", "手机号：请填写手机号，或在下方填写邮箱"),
    ],
)
def test_bad_identifier_is_refused_with_a_message(client, identifier, message):
    before = User.objects.count()
    response = register(client, identifier)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert User.objects.count() == before


def test_duplicate_accounts_are_refused(client):
    assert register(client, "13812340000").status_code == 302
    verify_mobile_by_code(client)
    client.logout()
    before = User.objects.count()
    for identifier, message in [("138 1234 0000", "该手机号已注册"), ("zhejiang_admin@example.cn", None)]:
        if message is None:
            User.objects.filter(username="zhejiang_admin").update(
                email="zhejiang_admin@example.cn", email_verified=True
            )
            message = "该邮箱已注册"
        response = register(client, identifier.upper() if "@" in identifier else identifier, host=SC)
        assert message in response.content.decode()
    assert User.objects.count() == before


def test_mismatched_and_weak_passwords_are_refused(client):
    response = client.post(
        "/accounts/register/",
        {
            "mobile": "13812340001",
            "display_name": "读者",
            "consent": "on",
            "password1": "Shuxiang-2026!",
            "password2": "other",
        },
        HTTP_HOST=ZJ,
    )
    assert "两次输入的密码不一致" in response.content.decode()
    response = register(client, "13812340001", password="123")
    assert "确认密码" in response.content.decode() or "密码：" in response.content.decode()
    assert not User.objects.filter(mobile_index__gt="").filter(first_name="x").exists()


@pytest.mark.parametrize("identifier", ["zhejiang_editor", "ZHEJIANG@example.cn", "13700001111"])
def test_sign_in_with_username_email_or_mobile(client, identifier):
    from accounts.services import set_personal_data

    user = User.objects.get(username="zhejiang_editor")
    user.email = "zhejiang@example.cn"
    user.save()
    set_personal_data(user, mobile="13700001111")
    User.objects.filter(pk=user.pk).update(email_verified=True, mobile_verified=True)
    response = client.post("/accounts/login/", {"username": identifier, "password": DEMO_PASSWORD}, HTTP_HOST=SC)
    assert response.status_code == 302, response.content.decode()
    assert int(client.session["_auth_user_id"]) == user.pk


def test_session_cookie_is_shared_under_the_platform_domain_only(client):
    response = client.post("/accounts/login/", {"username": "dalian_admin", "password": DEMO_PASSWORD}, HTTP_HOST=ZJ)
    assert response.cookies["sessionid"]["domain"] == "culture.localhost"
    assert response.cookies["sessionid"]["httponly"]

    other = type(client)()
    response = other.post(
        "/accounts/login/",
        {"username": "dalian_admin", "password": DEMO_PASSWORD},
        HTTP_HOST="dalian-culture.localhost",
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["domain"] == ""  # host-only: the platform cookie cannot reach this host


def test_session_id_rotates_at_login_and_logout_ends_it_everywhere(client):
    session = client.session
    session["seen"] = True
    session.save()
    anonymous_key = session.session_key
    client.post("/accounts/login/", {"username": "sichuan_editor", "password": DEMO_PASSWORD}, HTTP_HOST=ZJ)
    assert client.session.session_key != anonymous_key
    assert client.get("/me/", HTTP_HOST=SC).status_code == 200  # the same session on another tenant
    client.post("/accounts/logout/", HTTP_HOST=SC)
    response = client.get("/me/", HTTP_HOST=ZJ)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def sign_in(client, username, host, ip, password=DEMO_PASSWORD, path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password}, HTTP_HOST=host, REMOTE_ADDR=ip)


def _fail(client, username, host=ZJ, ip="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": "wrong"}, HTTP_HOST=host, REMOTE_ADDR=ip)


def test_password_reset_link_opens_on_the_tenant_where_it_was_asked_for(client, settings):
    User.objects.filter(username="sichuan_editor").update(email="editor@sichuan.example.cn", email_verified=True)
    response = client.post("/accounts/password/reset/", {"email": "editor@sichuan.example.cn"}, HTTP_HOST=SC)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+", mail.outbox[0].body).group(0)
    assert link.startswith("http://sichuan.culture.localhost:8000/accounts/password/reset/")
    path = link.removeprefix("http://sichuan.culture.localhost:8000")
    response = client.get(path, HTTP_HOST=SC, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "Sichuan-new-2026", "new_password2": "Sichuan-new-2026"}, HTTP_HOST=SC
    )
    assert response.status_code == 302
    assert client.login(username="sichuan_editor", password="Sichuan-new-2026")
    client.logout()
    # A used link is dead.
    response = client.get(path, HTTP_HOST=SC, follow=True)
    assert "链接已失效" in response.content.decode()


def test_expired_reset_link_is_refused(client, settings):
    User.objects.filter(username="zhejiang_editor").update(email="editor@zj.example.cn", email_verified=True)
    client.post("/accounts/password/reset/", {"email": "editor@zj.example.cn"}, HTTP_HOST=ZJ)
    path = re.search(r"http://zhejiang.culture.localhost:8000(\S+)", mail.outbox[0].body).group(1)
    settings.PASSWORD_RESET_TIMEOUT = -1
    response = client.get(path, HTTP_HOST=ZJ, follow=True)
    assert "链接已失效" in response.content.decode()


def test_reset_links_use_the_tenants_configured_url_never_the_request_host_port(client, settings):
    User.objects.filter(username="zhejiang_editor").update(email="editor@zj.example.cn", email_verified=True)
    # A Host header with a port of the client's choosing (or a proxy's internal port) ...
    client.post("/accounts/password/reset/", {"email": "editor@zj.example.cn"}, HTTP_HOST=ZJ + ":6666")
    body = mail.outbox[0].body
    # ... is not where the link points: the tenant's configured public URL is.
    assert "6666" not in body
    assert "http://zhejiang.culture.localhost:8000/accounts/password/reset/" in body
    settings.PLATFORM_SCHEME, settings.PLATFORM_PORT = "https", "443"
    client.post("/accounts/password/reset/", {"email": "editor@zj.example.cn"}, HTTP_HOST=ZJ + ":8000")
    assert "https://zhejiang.culture.localhost/accounts/password/reset/" in mail.outbox[1].body


def test_unknown_email_gets_the_same_answer_and_no_mail(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.cn"}, HTTP_HOST=ZJ)
    assert response.status_code == 302
    assert mail.outbox == []


def test_openid_discovery_document_on_the_platform_host(client):
    response = client.get("/.well-known/openid-configuration", HTTP_HOST="culture.localhost")
    assert response.status_code == 200
    document = response.json()
    assert document["authorization_endpoint"] == "http://culture.localhost:8000/o/authorize/"
    assert document["jwks_uri"].startswith("http://culture.localhost:8000/o/")
    assert "RS256" in document["id_token_signing_alg_values_supported"]
    # Tenants do not run the account service.
    assert client.get("/.well-known/openid-configuration", HTTP_HOST=ZJ).status_code == 404


def test_own_domain_login_page_offers_the_unified_account(client):
    html = client.get("/accounts/login/?next=/me/", HTTP_HOST="dalian-culture.localhost").content.decode()
    assert "使用文化云统一账号登录" in html and "/oidc/authenticate/?next=/me/" in html
    assert "使用文化云统一账号登录" not in client.get("/accounts/login/", HTTP_HOST=ZJ).content.decode()


def test_site_client_lists_callbacks_of_own_domains_only():
    from oauth2_provider.models import Application

    app = Application.objects.get(client_id="culture-sites")
    assert app.redirect_uris == "http://dalian-culture.localhost:8000/oidc/callback/"
    assert app.skip_authorization and app.algorithm == "RS256"
