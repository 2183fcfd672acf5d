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
