"""Email addresses and mobile numbers: one account each, proven before they sign in or receive resets (issue 9, sign-in item 4)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
User = get_user_model()


@pytest.fixture(autouse=True)
def texts(settings):
    from notifications import sms

    settings.NOTIFICATIONS_SMS_BACKEND = "notifications.sms.MemorySMSBackend"
    sms.outbox.clear()
    return sms.outbox


def sign_in(client, identifier, password=DEMO_PASSWORD):
    return client.post("/accounts/login/", {"username": identifier, "password": password}, HTTP_HOST=ZJ)


def link_in_last_mail() -> str:
    return (
        re.search(r"http://\S+", mail.outbox[-1].body).group(0).removeprefix("http://zhejiang.culture.localhost:8000")
    )


def test_an_email_typed_in_signs_in_and_resets_only_after_its_link_is_opened(client):
    victim = User.objects.get(username="sichuan_editor")
    User.objects.filter(pk=victim.pk).update(email="victim@example.cn", email_verified=True)
    attacker = User.objects.get(username="zhejiang_moderator")
    # Wagtail's user admin or a shell puts the victim's address on another account: not proven.
    attacker.email = "VICTIM@example.cn"
    attacker.save()
    attacker.refresh_from_db()
    assert attacker.email_verified is False
    # Signing in with the address reaches the account that proved it, never the other one.
    assert sign_in(client, "victim@example.cn").status_code == 302
    assert int(client.session["_auth_user_id"]) == victim.pk
    # A reset for the address goes to the proven account only.
    client.logout()
    client.post("/accounts/password/reset/", {"email": "victim@example.cn"}, HTTP_HOST=ZJ)
    assert len(mail.outbox) == 1 and "sichuan_editor" in mail.outbox[0].body
    assert "zhejiang_moderator" not in mail.outbox[0].body


def test_changing_the_email_on_me_needs_the_link(client):
    user = User.objects.get(username="zhejiang_editor")
    client.force_login(user)
    response = client.post("/me/email/", {"email": "New@Example.cn"}, HTTP_HOST=ZJ)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email != "new@example.cn"  # nothing changes before the link is opened
    assert mail.outbox[-1].to == ["new@example.cn"]
    assert sign_in(type(client)(), "new@example.cn").status_code == 200  # not usable yet
    html = client.get(link_in_last_mail(), HTTP_HOST=ZJ).content.decode()
    assert "邮箱已验证" in html
    user.refresh_from_db()
    assert user.email == "new@example.cn" and user.email_verified
    assert sign_in(type(client)(), "new@example.cn").status_code == 302


def test_an_address_another_account_proved_cannot_be_claimed(client):
    User.objects.filter(username="sichuan_editor").update(email="taken@example.cn", email_verified=True)
    client.force_login(User.objects.get(username="zhejiang_editor"))
    response = client.post("/me/email/", {"email": "TAKEN@example.cn"}, HTTP_HOST=ZJ)
    assert response.status_code == 400
    assert "新邮箱：该邮箱已被其他账号使用" in response.content.decode()
    assert mail.outbox == []


def test_a_forged_or_outdated_link_changes_nothing(client):
    user = User.objects.get(username="zhejiang_editor")
    client.force_login(user)
    client.post("/me/email/", {"email": "mine@example.cn"}, HTTP_HOST=ZJ)
    path = link_in_last_mail()
    response = client.get(path[:-3] + "xyz/", HTTP_HOST=ZJ)
    assert response.status_code == 400 and "验证链接无效或已过期" in response.content.decode()
    # Someone else proves the address first: the old link no longer takes it.
    User.objects.filter(username="sichuan_editor").update(email="mine@example.cn", email_verified=True)
    response = client.get(path, HTTP_HOST=ZJ)
    assert response.status_code == 400 and "该邮箱已被其他账号使用" in response.content.decode()


def test_changing_the_mobile_needs_the_texted_code(client, texts):
    user = User.objects.get(username="zhejiang_editor")
    client.force_login(user)
    assert client.post("/me/mobile/", {"mobile": "+86 136-0000-1234"}, HTTP_HOST=ZJ).status_code == 302
    assert texts[-1].mobile == "13600001234"
    user.refresh_from_db()
    assert user.mobile == ""  # not before the code
    assert "136****1234" in client.get("/me/", HTTP_HOST=ZJ).content.decode()
    wrong = client.post("/me/mobile/confirm/", {"code": "000000"}, HTTP_HOST=ZJ)
    assert wrong.status_code == 400 and "短信验证码：验证码不正确" in wrong.content.decode()
    code = re.search(r"验证码是 (\d{6})", texts[-1].text).group(1)
    assert client.post("/me/mobile/confirm/", {"code": code}, HTTP_HOST=ZJ).status_code == 302
    user.refresh_from_db()
    assert user.mobile == "13600001234" and user.mobile_verified
    assert sign_in(type(client)(), "136 0000 1234").status_code == 302


def test_five_wrong_codes_void_it(client, texts):
    client.force_login(User.objects.get(username="zhejiang_editor"))
    client.post("/me/mobile/", {"mobile": "13600005678"}, HTTP_HOST=ZJ)
    for _ in range(5):
        response = client.post("/me/mobile/confirm/", {"code": "999999"}, HTTP_HOST=ZJ)
    assert "验证码错误次数过多" in response.content.decode()
    code = re.search(r"验证码是 (\d{6})", texts[-1].text).group(1)
    response = client.post("/me/mobile/confirm/", {"code": code}, HTTP_HOST=ZJ)
    assert "验证码已过期" in response.content.decode()


def test_a_number_typed_in_elsewhere_goes_to_whoever_proves_it(client, texts):
    from accounts.services import set_personal_data

    squatter = User.objects.get(username="sichuan_moderator")
    set_personal_data(squatter, mobile="13600009999")  # typed in, never proven
    assert sign_in(type(client)(), "13600009999").status_code == 200  # an unproven number signs nobody in
    owner = User.objects.get(username="zhejiang_editor")
    client.force_login(owner)
    client.post("/me/mobile/", {"mobile": "13600009999"}, HTTP_HOST=ZJ)
    code = re.search(r"验证码是 (\d{6})", texts[-1].text).group(1)
    client.post("/me/mobile/confirm/", {"code": code}, HTTP_HOST=ZJ)
    owner.refresh_from_db()
    squatter.refresh_from_db()
    assert owner.mobile == "13600009999" and owner.mobile_verified
    assert squatter.mobile == ""


def test_a_proven_number_cannot_be_claimed(client, texts):
    holder = User.objects.get(username="sichuan_moderator")
    from accounts.services import set_personal_data

    set_personal_data(holder, mobile="13600008888")
    User.objects.filter(pk=holder.pk).update(mobile_verified=True)
    client.force_login(User.objects.get(username="zhejiang_editor"))
    response = client.post("/me/mobile/", {"mobile": "13600008888"}, HTTP_HOST=ZJ)
    assert response.status_code == 400 and "该手机号已被其他账号使用" in response.content.decode()
    assert texts == []


def test_wagtails_account_page_does_not_change_the_email(client):
    client.force_login(User.objects.get(username="zhejiang_admin"))
    html = client.get("/admin/account/", HTTP_HOST=ZJ).content.decode()
    assert 'name="name_email-email"' not in html


def test_registration_by_email_mails_a_link_first(client):
    response = client.post(
        "/accounts/register/",
        {
            "email": "reader@example.cn",
            "display_name": "读者",
            "password1": "Shuxiang-2026!",
            "password2": "Shuxiang-2026!",
            "consent": "on",
        },
        HTTP_HOST=ZJ,
    )
    assert response.status_code == 302
    user = User.objects.get(email="reader@example.cn")
    assert not user.email_verified
    assert sign_in(type(client)(), "reader@example.cn", "Shuxiang-2026!").status_code == 200
    client.get(link_in_last_mail(), HTTP_HOST=ZJ)
    assert sign_in(type(client)(), "reader@example.cn", "Shuxiang-2026!").status_code == 302
