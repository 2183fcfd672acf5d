"""Check-in/out by rotating code (idempotent, windowed), hours, make-up hours, approval, star levels."""

import datetime
import time

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from volunteers import services
from volunteers.models import HourRecord, SignUp, Volunteer, VolunteerSettings

from .factories import approved_volunteer, coordinator, opportunity, shift

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def _signed_up(starts_in=datetime.timedelta(minutes=10), hours=3):
    the_shift = shift(opportunity(), starts_in=starts_in, hours=hours)
    volunteer = approved_volunteer()
    with schema_context("zhejiang"):
        SignUp.objects.create(shift=the_shift, volunteer=volunteer, status="confirmed")  # past shifts too
    return volunteer, the_shift


def _code(the_shift, at=None):
    with schema_context("zhejiang"):
        return services.current_checkin_code(the_shift, at=at)[0]


def test_code_has_six_digits_rotates_every_minute_and_differs_per_shift():
    _, first = _signed_up()
    _, second = _signed_up()
    now = time.time()
    code = _code(first, now)
    assert len(code) == 6 and code.isdigit()
    assert {_code(first, now + 60 * i) for i in range(5)} != {code}
    assert _code(second, now) != code or _code(second, now + 60) != _code(first, now + 60)


def test_check_in_is_idempotent_and_says_when_the_first_was():
    volunteer, the_shift = _signed_up()
    with schema_context("zhejiang"):
        first = services.check_in(volunteer.user, the_shift.pk, code=_code(the_shift))
        again = services.check_in(volunteer.user, the_shift.pk, code=_code(the_shift))
    assert first.first_time and not again.first_time
    local = first.signup.checked_in_at.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    assert f"您已于 {local:%H:%M} 签到" in again.message
    assert again.signup.checked_in_at == first.signup.checked_in_at


def test_previous_minutes_code_still_works_older_and_forged_ones_do_not():
    volunteer, the_shift = _signed_up()
    now = time.time()
    with schema_context("zhejiang"):
        for bad in [_code(the_shift, now - 180), "12345", "abcdef", ""]:
            with pytest.raises(ValidationError) as refused:
                services.check_in(volunteer.user, the_shift.pk, code=bad)
            assert "签到码：不正确或已过期" in refused.value.messages[0]
        assert SignUp.objects.get(shift=the_shift).checked_in_at is None
        assert services.check_in(volunteer.user, the_shift.pk, code=_code(the_shift, now - 60)).first_time


def test_check_in_outside_the_window_and_check_out_before_check_in_are_refused():
    volunteer, early = _signed_up(starts_in=datetime.timedelta(hours=2))
    with schema_context("zhejiang"):
        with pytest.raises(ValidationError) as refused:
            services.check_in(volunteer.user, early.pk, code=_code(early))
        assert "还未到签到时间" in refused.value.messages[0]
        with pytest.raises(ValidationError) as refused:
            services.check_out(volunteer.user, early.pk, code=_code(early))
        assert "您还没有签到，不能签退" in refused.value.messages[0]
    volunteer, over = _signed_up(starts_in=-5 * HOUR, hours=2)
    with schema_context("zhejiang"):
        with pytest.raises(ValidationError) as refused:
            services.check_in(volunteer.user, over.pk, code=_code(over))
        assert "不能再签到" in refused.value.messages[0]


def test_a_shift_of_another_tenant_is_not_found_and_a_stranger_has_no_sign_up():
    volunteer, the_shift = _signed_up()
    with schema_context("sichuan"):
        with pytest.raises(ValidationError) as refused:
            services.check_in(volunteer.user, the_shift.pk, code=_code(the_shift))
        assert "找不到这个服务时段" in refused.value.messages[0]
    stranger = approved_volunteer()
    with schema_context("zhejiang"):
        with pytest.raises(ValidationError) as refused:
            services.check_in(stranger.user, the_shift.pk, code=_code(the_shift))
        assert "没有该时段的有效报名" in refused.value.messages[0]


def test_check_out_records_the_minutes_inside_the_shift_once():
    volunteer, the_shift = _signed_up(starts_in=-2 * HOUR, hours=3)
    with schema_context("zhejiang"):
        signup = SignUp.objects.get(shift=the_shift)
        signup.checked_in_at = the_shift.starts_at - datetime.timedelta(minutes=20)  # early: counts from the start
        signup.save()
        out = services.check_out(volunteer.user, the_shift.pk, code=_code(the_shift))
        again = services.check_out(volunteer.user, the_shift.pk, code=_code(the_shift))
        assert out.first_time and not again.first_time and "签退" in again.message
        record = HourRecord.objects.get(volunteer=volunteer)
        assert record.kind == "checked" and record.status == "pending"
        assert 119 <= record.minutes <= 121


def test_makeup_hours_are_capped_at_the_shift_length_kept_apart_and_need_a_reason():
    volunteer, the_shift = _signed_up(starts_in=-5 * HOUR, hours=3)
    boss = coordinator()
    with schema_context("zhejiang"):
        HourRecord.objects.create(
            volunteer=volunteer, shift=the_shift, kind="checked", minutes=60, served_on=the_shift.starts_at.date()
        )
        for minutes, message in [(-30, "大于 0"), (0, "大于 0"), (121, "最多还能补录 120 分钟")]:
            with pytest.raises(ValidationError) as refused:
                services.add_makeup_hours(volunteer, the_shift, minutes=minutes, reason="手机没电未能签退", by=boss)
            assert message in " ".join(refused.value.messages)
        with pytest.raises(ValidationError):
            services.add_makeup_hours(volunteer, the_shift, minutes=30, reason=" ", by=boss)
        makeup = services.add_makeup_hours(volunteer, the_shift, minutes=120, reason="手机没电未能签退", by=boss)
        assert makeup.kind == "makeup" and makeup.status == "pending"
        with pytest.raises(ValidationError):
            services.add_makeup_hours(volunteer, the_shift, minutes=1, reason="再补一分钟", by=boss)
        assert HourRecord.objects.filter(volunteer=volunteer).count() == 2


def test_hours_count_only_once_approved_and_the_total_follows():
    volunteer, the_shift = _signed_up(starts_in=-5 * HOUR, hours=3)
    boss = coordinator()
    with schema_context("zhejiang"):
        record = HourRecord.objects.create(
            volunteer=volunteer, shift=the_shift, kind="checked", minutes=90, served_on=the_shift.starts_at.date()
        )
        assert Volunteer.objects.get(pk=volunteer.pk).approved_minutes == 0
        assert services.approve_hours([record.pk], by=boss) == 1
        assert services.approve_hours([record.pk], by=boss) == 0  # approving twice counts once
        assert Volunteer.objects.get(pk=volunteer.pk).approved_minutes == 90
        Volunteer.objects.filter(pk=volunteer.pk).update(approved_minutes=0)
        assert services.recompute_approved_minutes() >= 1
        assert Volunteer.objects.get(pk=volunteer.pk).approved_minutes == 90


@pytest.mark.parametrize(
    ("minutes", "stars"), [(0, 0), (5994, 0), (6000, 1), (17999, 1), (18000, 2), (90000, 5), (10**6, 5)]
)
def test_star_level_boundaries_default_thresholds(minutes, stars):
    with schema_context("zhejiang"):
        thresholds = VolunteerSettings.load().star_thresholds_minutes()
    assert thresholds == [6000, 18000, 36000, 60000, 90000]
    assert services.star_level(minutes, thresholds) == stars


def test_99_9_hours_is_no_star_and_100_hours_is_one_and_thresholds_are_per_tenant():
    almost = approved_volunteer()
    exactly = approved_volunteer()
    with schema_context("zhejiang"):
        Volunteer.objects.filter(pk=almost.pk).update(approved_minutes=5994)  # 99.9 h
        Volunteer.objects.filter(pk=exactly.pk).update(approved_minutes=6000)  # 100 h
        distribution = services.star_level_distribution()
        thresholds = VolunteerSettings.load().star_thresholds_minutes()
        assert services.star_progress(5994, thresholds).minutes_to_next == 6
    assert distribution[1] >= 1
    with schema_context("sichuan"):
        settings = VolunteerSettings.load()
        settings.star_1_hours = 50
        settings.save()
        assert services.star_level(3000, VolunteerSettings.load().star_thresholds_minutes()) == 1
    with schema_context("zhejiang"):
        assert services.star_level(3000, VolunteerSettings.load().star_thresholds_minutes()) == 0
