"""Decisions reach the volunteer through the platform's notifications; the service record certificate."""

import datetime
from io import BytesIO

import pypdf
import pytest
from django_tenants.utils import schema_context

from certificates import services as certificates
from notifications.services import messages_for
from volunteers import services
from volunteers.models import HourRecord, SignUp

from .factories import APPLICATION, approved_volunteer, coordinator, opportunity, person, shift

pytestmark = pytest.mark.django_db


def test_application_decision_hours_approval_and_reminders_are_notified_on_this_site_only():
    user = person()
    boss = coordinator()
    with schema_context("zhejiang"):
        volunteer = services.decide_application(services.apply(user, **APPLICATION), approve=True, decided_by=boss)
        titles = [m.title for m in messages_for(user)]
        assert "志愿者申请已通过" in titles
    with schema_context("sichuan"):
        assert not messages_for(user).exists()
    soon = shift(opportunity(), starts_in=datetime.timedelta(hours=3))
    past = shift(opportunity(), starts_in=-datetime.timedelta(hours=5), hours=2)
    with schema_context("zhejiang"):
        SignUp.objects.create(shift=soon, volunteer=volunteer, status="confirmed")
        assert services.send_shift_reminders() >= 1
        assert services.send_shift_reminders() == 0  # once per shift
        record = HourRecord.objects.create(
            volunteer=volunteer, shift=past, kind="checked", minutes=120, served_on=past.starts_at.date()
        )
        services.approve_hours([record.pk], by=boss)
        titles = [m.title for m in messages_for(user)]
    assert "志愿服务提醒" in titles and "服务时长已审核" in titles


def test_service_record_certificate_carries_hours_period_and_stars():
    volunteer = approved_volunteer(real_name="欧阳志远")
    past = shift(opportunity(), starts_in=-datetime.timedelta(days=3), hours=4)
    with schema_context("zhejiang"):
        with pytest.raises(Exception, match="还没有已审核的服务时长"):
            services.issue_service_certificate(volunteer, by=volunteer.user)
        record = HourRecord.objects.create(
            volunteer=volunteer, shift=past, kind="checked", minutes=240, served_on=past.starts_at.date()
        )
        services.approve_hours([record.pk], by=coordinator())
        volunteer.refresh_from_db()
        certificate = services.issue_service_certificate(volunteer, by=volunteer.user)
        text = "".join(
            p.extract_text() for p in pypdf.PdfReader(BytesIO(certificates.render_certificate_pdf(certificate))).pages
        )
    assert "志愿服务记录证明" in text and "兹证明 欧***" in text and "累计服务时长：4 小时" in text
    assert f"服务期间：{past.starts_at.date():%Y-%m-%d}" in text and volunteer.number in text
    assert "欧阳志远" not in text
    with pytest.raises(Exception, match="只有志愿者管理员"):
        with schema_context("zhejiang"):
            services.issue_service_certificate(volunteer, by=person())


def test_the_worker_queues_shift_reminders_in_every_tenant_and_the_task_sends_them():
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from core.scheduled import enqueue_periodic_everywhere
    from tests.core.test_tasks import run

    volunteer = approved_volunteer()
    soon = shift(opportunity(), starts_in=datetime.timedelta(hours=5))
    with schema_context("zhejiang"):
        SignUp.objects.create(shift=soon, volunteer=volunteer, status="confirmed")
    queued = enqueue_periodic_everywhere()
    path = "volunteers.tasks.volunteer_reminders_task"
    assert {("zhejiang", path), ("sichuan", path)} <= set(queued)
    ours = DBTaskResult.objects.filter(task_path=path, args_kwargs__tenant="zhejiang").latest("enqueued_at")
    assert run(ours.id).status == TaskResultStatus.SUCCESSFUL
    with schema_context("zhejiang"):
        assert messages_for(volunteer.user).filter(title="志愿服务提醒").exists()
        soon.refresh_from_db()
        assert soon.reminded_at is not None


def test_a_coordinator_revokes_a_certificate_in_the_admin_and_the_public_page_says_so(client):
    from django.test import Client

    zj, sc = "zhejiang.culture.localhost", "sichuan.culture.localhost"
    volunteer = approved_volunteer(real_name="钱学文")
    past = shift(opportunity(), starts_in=-datetime.timedelta(days=2), hours=2)
    boss = coordinator()
    with schema_context("zhejiang"):
        record = HourRecord.objects.create(
            volunteer=volunteer, shift=past, kind="checked", minutes=120, served_on=past.starts_at.date()
        )
        services.approve_hours([record.pk], by=boss)
        volunteer.refresh_from_db()
        certificate = services.issue_service_certificate(volunteer, by=volunteer.user)
    admin = Client()
    assert admin.login(username=boss.username, password="Wenhua-2026")
    listing = admin.get(f"/admin/volunteer-certificates/?q={volunteer.number}", HTTP_HOST=zj).content.decode()
    assert certificate.display_code in listing and "钱**" in listing and "钱学文" not in listing
    url = f"/admin/volunteer-certificates/{certificate.pk}/revoke/"
    empty = admin.post(url, {"reason": "  "}, HTTP_HOST=zj)
    assert empty.status_code == 400 and "撤销原因：请填写撤销原因" in empty.content.decode()
    assert admin.post(url, {"reason": "服务时长重复登记"}, HTTP_HOST=zj).status_code == 302
    twice = admin.post(url, {"reason": "again"}, HTTP_HOST=zj)
    assert twice.status_code == 400 and "无需重复撤销" in twice.content.decode()
    public = client.get(f"/verify/{certificate.code}/", HTTP_HOST=zj).content.decode()
    assert "该证书已撤销" in public and "服务时长重复登记" in public
    assert client.get(f"/verify/{certificate.code}/pdf/", HTTP_HOST=zj).status_code == 404
    with schema_context("zhejiang"):
        assert messages_for(volunteer.user).filter(title="志愿服务记录证明已撤销").exists()
    # The volunteer is no coordinator; sichuan's coordinator does not see zhejiang's certificates.
    holder = Client()
    holder.force_login(volunteer.user)
    assert holder.get(url, HTTP_HOST=zj).status_code in (302, 403)
    other = Client()
    other.force_login(coordinator("sichuan"))
    assert other.get(url, HTTP_HOST=sc).status_code == 404
