"""Applying, approval with a volunteer number unique in the tenant, one account in several tenants."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context

from volunteers import services
from volunteers.models import Volunteer

from .factories import APPLICATION, approved_volunteer, coordinator, person

pytestmark = pytest.mark.django_db


def test_application_is_encrypted_and_approval_gives_the_next_number_of_the_tenant():
    first = approved_volunteer("zhejiang")
    second = approved_volunteer("zhejiang")
    assert first.number.startswith("330000-") and len(first.number) == len("330000-000001")
    assert int(second.number[7:]) == int(first.number[7:]) + 1
    with schema_context("zhejiang"):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT real_name, mobile FROM volunteers_volunteer WHERE id = %s", [first.pk])
            stored = cursor.fetchone()
    assert "李明华" not in stored[0] and "13812345678" not in stored[1]
    assert first.masked_name == "李**" and first.masked_mobile == "138****5678"


def test_one_account_volunteers_for_two_tenants_and_each_sees_only_its_own():
    user = person()
    zhejiang = approved_volunteer("zhejiang", user=user)
    sichuan = approved_volunteer("sichuan", user=user)
    assert zhejiang.number.startswith("330000-") and sichuan.number.startswith("510000-")
    with schema_context("sichuan"):
        assert list(Volunteer.objects.values_list("number", flat=True)) == [sichuan.number]
    with schema_context("liaoning"):
        assert services.volunteer_of(user) is None


def test_applying_twice_is_refused_and_changes_nothing():
    user = person()
    with schema_context("zhejiang"):
        services.apply(user, **APPLICATION)
        with pytest.raises(ValidationError) as refused:
            services.apply(user, **{**APPLICATION, "real_name": "王五"})
        assert "已提交过志愿者申请" in str(refused.value)
        assert Volunteer.objects.get(user=user).real_name == "李明华"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("real_name", "", "姓名：请填写姓名。"),
        ("real_name", "A1", "姓名：姓名只能包含"),
        ("mobile", "12345", "手机号：手机号格式不正确"),
        ("emergency_contact_phone", "abc", "紧急联系人电话："),
        ("skills", ["flying"], "技能：包含无效的选项。"),
        ("consent", False, "同意记录："),
    ],
)
def test_bad_application_gets_a_chinese_message_naming_the_field(field, value, message):
    user = person()
    with schema_context("zhejiang"):
        with pytest.raises(ValidationError) as refused:
            services.apply(user, **{**APPLICATION, field: value})
        assert any(m.startswith(message) for m in refused.value.message_dict[field])
        assert not Volunteer.objects.filter(user=user).exists()


def test_rejection_needs_a_reason_only_coordinators_decide_and_a_rejected_person_may_apply_again():
    user = person()
    boss = coordinator("zhejiang")
    with schema_context("zhejiang"):
        volunteer = services.apply(user, **APPLICATION)
        with pytest.raises(PermissionDenied):
            services.decide_application(volunteer, approve=True, decided_by=person())
        with pytest.raises(ValidationError):
            services.decide_application(volunteer, approve=False, decided_by=boss)
        services.decide_application(volunteer, approve=False, decided_by=boss, reason="资料不完整")
        volunteer.refresh_from_db()
        assert volunteer.status == "rejected" and volunteer.number is None
        with pytest.raises(ValidationError):
            services.decide_application(volunteer, approve=True, decided_by=boss)
        again = services.apply(user, **APPLICATION)
        assert again.pk == volunteer.pk and again.status == "pending"


def test_a_coordinator_of_another_tenant_cannot_decide():
    user = person()
    sichuan_boss = coordinator("sichuan")
    with schema_context("zhejiang"):
        volunteer = services.apply(user, **APPLICATION)
        with pytest.raises(PermissionDenied):
            services.decide_application(volunteer, approve=True, decided_by=sichuan_boss)
