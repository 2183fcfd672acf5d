"""A site admin sees and manages only this tenant's members, invites people, never sees full numbers."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.services import set_personal_data
from roles import services
from roles.models import Invitation
from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
User = get_user_model()


@pytest.fixture
def admin_client(client):
    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    return client


def test_member_list_shows_only_this_tenants_members_with_masked_numbers(admin_client):
    set_personal_data(User.objects.get(username="zhejiang_editor"), mobile="13911112222")
    html = admin_client.get("/admin/members/", HTTP_HOST=ZJ).content.decode()
    for username in ["zhejiang_admin", "zhejiang_editor", "zhejiang_moderator"]:
        assert username in html
    assert "sichuan_admin" not in html and "operator" not in html
    assert "139****2222" in html and "13911112222" not in html


def test_explicitly_allowed_role_sees_full_numbers(admin_client):
    from django.contrib.auth.models import Group, Permission

    set_personal_data(User.objects.get(username="zhejiang_editor"), mobile="13911113333")
    with schema_context("zhejiang"):
        Group.objects.get(name="站点管理员").permissions.add(Permission.objects.get(codename="view_personal_data"))
    html = admin_client.get("/admin/members/", HTTP_HOST=ZJ).content.decode()
    assert "13911113333" in html


def test_other_tenants_user_cannot_be_reached_and_editors_cannot_manage(admin_client, client):
    sichuan_admin = User.objects.get(username="sichuan_admin")
    assert admin_client.get(f"/admin/members/{sichuan_admin.pk}/", HTTP_HOST=ZJ).status_code == 404
    admin_client.logout()
    assert client.login(username="zhejiang_editor", password=DEMO_PASSWORD)
    assert client.get("/admin/members/", HTTP_HOST=ZJ).status_code in (302, 403)


def test_change_roles_and_remove_a_member_without_deleting_the_account(admin_client):
    editor = User.objects.get(username="zhejiang_editor")
    response = admin_client.post(f"/admin/members/{editor.pk}/", {"roles": ["审核员"]}, HTTP_HOST=ZJ)
    assert response.status_code == 302
    with schema_context("zhejiang"):
        assert services.role_names_of(editor) == ["审核员"]
    response = admin_client.post(f"/admin/members/{editor.pk}/", {"remove": "1"}, HTTP_HOST=ZJ)
    assert response.status_code == 302
    with schema_context("zhejiang"):
        assert services.role_names_of(editor) == []
    with schema_context("sichuan"):
        assert services.role_names_of(editor) == []
    assert User.objects.filter(pk=editor.pk, is_active=True).exists()


def test_the_last_site_admin_cannot_be_removed(admin_client):
    admin = User.objects.get(username="zhejiang_admin")
    response = admin_client.post(f"/admin/members/{admin.pk}/", {"roles": ["编辑"]}, HTTP_HOST=ZJ)
    assert response.status_code == 200
    assert "本站至少需要一位站点管理员" in response.content.decode()
    with schema_context("zhejiang"):
        assert "站点管理员" in services.role_names_of(admin)


def test_invite_by_email_then_accept(admin_client, client):
    response = admin_client.post(
        "/admin/members/invite/", {"email": "NEW.Editor@example.cn", "roles": ["编辑"]}, HTTP_HOST=ZJ
    )
    assert response.status_code == 302
    link = re.search(r"http://\S+", mail.outbox[0].body).group(0)
    # on the site's primary public URL (port included), whatever host the admin used
    assert link.startswith("http://zhejiang.culture.localhost:8000/accounts/invitations/")
    path = link.removeprefix("http://zhejiang.culture.localhost:8000")
    admin_client.logout()

    # Someone else's account cannot take the invitation.
    assert client.login(username="sichuan_editor", password=DEMO_PASSWORD)
    client.post(path, HTTP_HOST=ZJ)
    with schema_context("zhejiang"):
        assert services.role_names_of(User.objects.get(username="sichuan_editor")) == []
    client.logout()

    client.post(
        "/accounts/register/",
        {
            "email": "new.editor@example.cn",
            "display_name": "新编辑",
            "password1": "Bianji-2026!",
            "password2": "Bianji-2026!",
            "consent": "on",
        },
        HTTP_HOST=ZJ,
    )
    response = client.post(path, HTTP_HOST=ZJ)
    assert response.status_code == 302
    invitee = User.objects.get(email="new.editor@example.cn")
    with schema_context("zhejiang"):
        assert services.role_names_of(invitee) == ["编辑"]
    with schema_context("sichuan"):
        assert services.role_names_of(invitee) == []
    response = client.post(path, HTTP_HOST=ZJ, follow=True)
    assert "这个邀请已经使用过了" in response.content.decode()


def test_invite_by_mobile_keeps_only_a_masked_number(admin_client, client, settings):
    admin_client.post("/admin/members/invite/", {"mobile": "13955556666", "roles": ["志愿者管理员"]}, HTTP_HOST=ZJ)
    with schema_context("zhejiang"):
        invitation = Invitation.objects.get()
        assert invitation.mobile_masked == "139****6666"
        assert "13955556666" not in str(Invitation.objects.values().get())
    admin_client.logout()
    from notifications import sms

    settings.NOTIFICATIONS_SMS_BACKEND = "notifications.sms.MemorySMSBackend"
    sms.outbox.clear()
    client.post(
        "/accounts/register/",
        {
            "mobile": "13955556666",
            "display_name": "志愿者",
            "password1": "Zhiyuan-2026!",
            "password2": "Zhiyuan-2026!",
            "consent": "on",
        },
        HTTP_HOST=ZJ,
    )
    # The number is attached to the new account once its texted code is entered.
    code = re.search(r"验证码是 (\d{6})", sms.outbox[-1].text).group(1)
    client.post("/me/mobile/confirm/", {"code": code}, HTTP_HOST=ZJ)
    client.post(f"/accounts/invitations/{invitation.token}/", HTTP_HOST=ZJ)
    with schema_context("zhejiang"):
        assert services.role_names_of(User.objects.get(first_name="志愿者", mobile_index=invitation.mobile_index)) == [
            "志愿者管理员"
        ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"roles": ["编辑"]}, "二选一"),
        ({"email": "a@example.cn", "mobile": "13900000000", "roles": ["编辑"]}, "二选一"),
        ({"email": "not-an-email", "roles": ["编辑"]}, "邮箱格式不正确"),
        ({"mobile": "12345", "roles": ["编辑"]}, "手机号"),
        ({"email": "a@example.cn"}, "请至少选择一个角色"),
    ],
)
def test_bad_invitations_are_refused(admin_client, data, message):
    response = admin_client.post("/admin/members/invite/", data, HTTP_HOST=ZJ)
    assert response.status_code == 200
    assert message in response.content.decode()
    with schema_context("zhejiang"):
        assert not Invitation.objects.exists()


def test_expired_invitation_is_refused(admin_client, client):
    admin_client.post("/admin/members/invite/", {"email": "late@example.cn", "roles": ["编辑"]}, HTTP_HOST=ZJ)
    with schema_context("zhejiang"):
        Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
        token = Invitation.objects.get().token
    admin_client.logout()
    User.objects.filter(username="sichuan_moderator").update(email="late@example.cn")
    assert client.login(username="sichuan_moderator", password=DEMO_PASSWORD)
    response = client.post(f"/accounts/invitations/{token}/", HTTP_HOST=ZJ, follow=True)
    assert "邀请链接已过期" in response.content.decode()
    # An invitation of zhejiang does not exist on another tenant's host.
    assert client.get(f"/accounts/invitations/{token}/", HTTP_HOST="sichuan.culture.localhost").status_code == 404


def test_operator_deleting_an_account_in_wagtail_deactivates_it(client):
    from django.contrib.sessions.models import Session

    victim = User.objects.get(username="sichuan_moderator")
    other = type(client)()
    assert other.login(username="sichuan_moderator", password=DEMO_PASSWORD)
    assert client.login(username="operator", password="Operator-2026")
    response = client.post(f"/admin/users/delete/{victim.pk}/", HTTP_HOST=ZJ)
    assert response.status_code == 302
    victim.refresh_from_db()
    assert not victim.is_active
    assert other.get("/me/", HTTP_HOST=ZJ).status_code == 302  # its session ended
    assert Session.objects.filter(session_key=other.session.session_key).count() == 0
    with pytest.raises(Exception, match="不能删除"):
        victim.delete()
