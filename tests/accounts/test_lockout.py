"""Lock-out that cannot be bypassed or turned against people (issue 9, sign-in items 1–3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from accounts.lockout import DEVICE_COOKIE
from accounts.models import LoginThrottle
from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"
User = get_user_model()


def sign_in(client, username, ip, password=DEMO_PASSWORD, host=ZJ, path="/accounts/login/", **extra):
    return client.post(path, {"username": username, "password": password}, HTTP_HOST=host, REMOTE_ADDR=ip, **extra)


def fail(client, username, ip, host=ZJ):
    return sign_in(client, username, ip, password="wrong", host=host)


@pytest.fixture
def mobile_user():
    from accounts.services import set_personal_data

    user = User.objects.get(username="zhejiang_editor")
    user.email = "Editor@ZJ.example.cn"
    user.save()
    set_personal_data(user, mobile="13700002222")
    User.objects.filter(pk=user.pk).update(email_verified=True, mobile_verified=True)
    return user


def test_one_account_is_counted_however_its_identifier_is_typed(client, settings, mobile_user):
    spellings = [
        "+86 137-0000-2222",
        "137 0000 2222",
        "１３７００００２２２２",
        "editor@zj.example.cn",
        "zhejiang_editor",
    ]
    for spelling in spellings:
        assert fail(client, spelling, "10.1.0.1").status_code == 200
    # Five wrong passwords in five spellings are five failures of one account: it is locked here.
    response = sign_in(client, "EDITOR@zj.example.cn", "10.1.0.1")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


def test_unknown_identifiers_are_normalised_too(client, settings):
    for spelling in ["+86 139-0000-7777", "１３９００００７７７７", "13900007777", "139 0000 7777", "0086 13900007777"]:
        fail(client, spelling, "10.1.0.2")
    key_count = LoginThrottle.objects.filter(key__startswith="pair:id:").count()
    assert key_count == 1


def test_failures_for_one_account_do_not_lock_other_accounts_at_the_same_address(client, settings):
    # A library terminal: one person forgets a password five times ...
    for _ in range(settings.LOGIN_MAX_FAILURES):
        fail(client, "zhejiang_moderator", "203.0.113.10")
    assert sign_in(client, "zhejiang_moderator", "203.0.113.10").status_code == 429
    # ... the next reader at the same terminal signs in to their own account.
    other = type(client)()
    assert sign_in(other, "sichuan_admin", "203.0.113.10", host=SC).status_code == 302


def test_a_stranger_cannot_lock_the_owner_out_from_elsewhere(client, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        fail(client, "zhejiang_moderator", "198.51.100.66")
    owner = type(client)()
    # The owner at home (another address) is not locked by the stranger's five guesses.
    assert sign_in(owner, "zhejiang_moderator", "192.0.2.5").status_code == 302


def test_a_guess_spread_over_many_addresses_locks_unknown_browsers_only(client, settings):
    owner = type(client)()
    assert (
        sign_in(owner, "operator", "192.0.2.1", password="Operator-2026", host="culture.localhost").status_code == 302
    )
    device = owner.cookies[DEVICE_COOKIE].value
    owner.logout()  # the test client drops every cookie here; a browser keeps the device cookie
    owner.cookies[DEVICE_COOKIE] = device
    User.objects.filter(username="operator").update(email="operator@culture.example.cn")
    for n in range(settings.LOGIN_ACCOUNT_MAX_FAILURES):
        fail(type(client)(), "operator", f"198.51.100.{n + 1}", host="culture.localhost")
    # Any browser that never signed in to the account is locked out, even with the right password ...
    stranger = type(client)()
    response = sign_in(stranger, "operator", "198.51.100.200", password="Operator-2026", host="culture.localhost")
    assert response.status_code == 429
    # ... the owner's browser still gets in, and the owner was told by email.
    assert (
        sign_in(owner, "operator", "192.0.2.1", password="Operator-2026", host="culture.localhost").status_code == 302
    )
    assert any("登录保护" in m.subject for m in mail.outbox)


def test_a_forged_device_cookie_is_worth_nothing(client, settings):
    for n in range(settings.LOGIN_ACCOUNT_MAX_FAILURES):
        fail(type(client)(), "sichuan_moderator", f"198.51.100.{n + 1}", host=SC)
    client.cookies[DEVICE_COOKIE] = "[1,2,3,4,5,6,7,8,9,10]"
    assert sign_in(client, "sichuan_moderator", "198.51.100.250", host=SC).status_code == 429


def test_repeated_lock_outs_grow_longer(client, settings):
    def lock_and_expire():
        for _ in range(settings.LOGIN_MAX_FAILURES):
            fail(client, "dalian_editor", "10.2.0.1")
        throttle = LoginThrottle.objects.get(key__startswith="pair:user:", key__endswith=":10.2.0.1")
        length = throttle.locked_until - timezone.now()
        LoginThrottle.objects.filter(pk=throttle.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
        return length

    first, second, third = lock_and_expire(), lock_and_expire(), lock_and_expire()
    assert timedelta(minutes=14) < first <= timedelta(minutes=15)
    assert timedelta(minutes=29) < second <= timedelta(minutes=30)
    assert timedelta(minutes=59) < third <= timedelta(minutes=60)
    # After the cool-off the right password works again.
    assert sign_in(client, "dalian_editor", "10.2.0.1").status_code == 302


def test_wagtails_admin_login_is_covered_by_the_same_lock(client, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        fail(client, "zhejiang_admin", "10.3.0.1")
    sign_in(client, "zhejiang_admin", "10.3.0.1", path="/admin/login/")
    assert "_auth_user_id" not in client.session


def test_a_password_reset_lifts_the_account_lock(client, settings):
    import re

    User.objects.filter(username="liaoning_editor").update(email="editor@ln.example.cn", email_verified=True)
    for n in range(settings.LOGIN_ACCOUNT_MAX_FAILURES):
        fail(type(client)(), "liaoning_editor", f"198.51.100.{n + 1}")
    assert sign_in(type(client)(), "liaoning_editor", "192.0.2.9").status_code == 429
    client.post("/accounts/password/reset/", {"email": "editor@ln.example.cn"}, HTTP_HOST=ZJ)
    path = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+)", mail.outbox[-1].body).group(1)
    form_url = client.get(path, HTTP_HOST=ZJ, follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": "Liaoning-new-2026", "new_password2": "Liaoning-new-2026"}, HTTP_HOST=ZJ)
    assert sign_in(type(client)(), "liaoning_editor", "192.0.2.9", password="Liaoning-new-2026").status_code == 302
