"""消息: stored per site, listed in the personal centre, emailed / texted once after commit."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context

from accounts.services import ensure_account, set_personal_data
from notifications import services, sms
from notifications.models import Notification
from notifications.tasks import deliver_notification_task
from tests.core.test_tasks import run

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"
PASSWORD = "Xiaoxi-2026-test"


@pytest.fixture
def person():
    user = ensure_account("notified_person", PASSWORD, display_name="李华")
    user.email = "lihua@example.cn"
    user.save()
    set_personal_data(user, mobile="13800138000")
    # Proven by their owner (accounts' verification flow): only proven contacts get messages.
    type(user).objects.filter(pk=user.pk).update(email_verified=True, mobile_verified=True)
    user.refresh_from_db()
    return user


@pytest.fixture
def signed_in(client, person):
    assert client.login(username=person.username, password=PASSWORD)
    return client


def _delivery_tasks():
    return DBTaskResult.objects.filter(task_path=deliver_notification_task.module_path)


@override_settings(NOTIFICATIONS_SMS_BACKEND="notifications.sms.MemorySMSBackend")
def test_notify_stores_the_message_and_sends_email_and_sms_once_after_commit(
    person, django_capture_on_commit_callbacks
):
    sms.outbox.clear()
    with schema_context("zhejiang"):
        with django_capture_on_commit_callbacks(execute=True):
            note = services.notify(
                person, "bookings.confirmed", "预约成功：越剧专场", "请凭取票码入场。", "/me/bookings/"
            )
        assert not mail.outbox, "nothing is sent inside the caller's transaction"
    task = _delivery_tasks().get()
    assert task.args_kwargs["tenant"] == "zhejiang"
    assert run(task.id).status == TaskResultStatus.SUCCESSFUL
    [email] = mail.outbox
    assert email.to == ["lihua@example.cn"] and email.subject == "预约成功：越剧专场"
    # The link opens on the sending site's own host, not a global address.
    assert "http://zhejiang.culture.localhost:" in email.body and "/me/bookings/" in email.body
    [text] = sms.outbox
    assert text.mobile == "13800138000" and "浙江文化云" in text.text
    # A retried task sends nothing twice.
    with schema_context("zhejiang"):
        services.deliver(note.pk)
    assert len(mail.outbox) == 1 and len(sms.outbox) == 1


def test_a_rolled_back_transaction_sends_nothing(person, django_capture_on_commit_callbacks):
    with schema_context("zhejiang"):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.notify(person, "test", "不会发送")
    assert len(callbacks) == 1  # runs only if the caller's transaction commits
    assert not _delivery_tasks().exists()


def test_no_email_or_mobile_means_no_delivery_task(django_capture_on_commit_callbacks):
    quiet = ensure_account("quiet_person", PASSWORD)
    with schema_context("zhejiang"), django_capture_on_commit_callbacks(execute=True):
        services.notify(quiet, "test", "只在站内")
    assert not _delivery_tasks().exists()


def test_links_must_be_site_paths_or_http_urls(person):
    with schema_context("zhejiang"):
        for bad in ["javascript:alert(1)", "//evil.example/", "ftp://x"]:
            with pytest.raises(ValidationError):
                services.notify(person, "test", "坏链接", link=bad)
        assert not Notification.objects.filter(recipient=person).exists()


def test_personal_centre_lists_messages_with_unread_count_and_marks_them_read(signed_in, person):
    with schema_context("zhejiang"):
        first = services.notify(person, "test", "第一条消息", "正文一", link="/me/")
        services.notify(person, "test", "第二条消息")
    centre = signed_in.get("/me/", HTTP_HOST=ZJ).content.decode()
    assert "消息" in centre and "2 条未读" in centre
    listing = signed_in.get("/me/messages/", HTTP_HOST=ZJ).content.decode()
    assert "第一条消息" in listing and "第二条消息" in listing and "正文一" in listing
    response = signed_in.post(f"/me/messages/{first.pk}/read/", {"open": "1"}, HTTP_HOST=ZJ)
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert "1 条未读" in signed_in.get("/me/", HTTP_HOST=ZJ).content.decode()
    signed_in.post("/me/messages/read-all/", HTTP_HOST=ZJ)
    with schema_context("zhejiang"):
        assert services.unread_count(person) == 0
    assert "条未读" not in signed_in.get("/me/", HTTP_HOST=ZJ).content.decode()


def test_messages_stay_on_the_site_that_sent_them(signed_in, person):
    with schema_context("zhejiang"):
        note = services.notify(person, "test", "浙江的消息")
    assert "浙江的消息" not in signed_in.get("/me/messages/", HTTP_HOST=SC).content.decode()
    # Tenant A's message id through tenant B's host: not found there, and unchanged in A.
    assert signed_in.post(f"/me/messages/{note.pk}/read/", HTTP_HOST=SC).status_code == 404
    with schema_context("zhejiang"):
        note.refresh_from_db()
        assert note.read_at is None


def test_another_persons_message_cannot_be_read_or_marked(client, person):
    with schema_context("zhejiang"):
        note = services.notify(person, "test", "别人的消息")
    ensure_account("other_person", PASSWORD)
    assert client.login(username="other_person", password=PASSWORD)
    assert "别人的消息" not in client.get("/me/messages/", HTTP_HOST=ZJ).content.decode()
    assert client.post(f"/me/messages/{note.pk}/read/", HTTP_HOST=ZJ).status_code == 404


def test_messages_need_sign_in_and_the_platform_host_has_none(client, signed_in):
    assert client.get("/me/messages/", HTTP_HOST=ZJ).status_code in (200, 302)
    anonymous = type(client)()
    response = anonymous.get("/me/messages/", HTTP_HOST=ZJ)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # The personal centre on the platform host still renders (no tenant tables there).
    assert signed_in.get("/me/", HTTP_HOST="culture.localhost").status_code == 200


def test_unproven_addresses_and_numbers_get_nothing(person, django_capture_on_commit_callbacks):
    person.email_verified = person.mobile_verified = False
    person.save()
    with schema_context("zhejiang"), django_capture_on_commit_callbacks(execute=True):
        services.notify(person, "booking", "预约成功：越剧专场", "请凭取票码入场。", link="/me/bookings/")
        assert Notification.objects.filter(recipient=person).count() == 1  # still in 消息
    assert not _delivery_tasks().exists()
    assert mail.outbox == []
