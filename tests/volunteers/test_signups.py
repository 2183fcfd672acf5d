"""Sign-up: capacity, past and overlapping shifts, cancellation deadline, approval, invitations, matching."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from volunteers import services
from volunteers.models import SignUp, VolunteerSettings

from .factories import approved_volunteer, coordinator, opportunity, person, shift

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def page():
    return opportunity()


def _refused(user, the_shift, message):
    with schema_context("zhejiang"):
        before = SignUp.objects.count()
        with pytest.raises(ValidationError) as refused:
            services.sign_up(user, the_shift)
        assert message in " ".join(refused.value.messages)
        assert SignUp.objects.count() == before


def test_sign_up_confirms_and_a_retry_changes_nothing(page):
    volunteer = approved_volunteer()
    the_shift = shift(page)
    with schema_context("zhejiang"):
        signup, created = services.sign_up(volunteer.user, the_shift)
        again, created_again = services.sign_up(volunteer.user, the_shift)
        assert created and not created_again and again.pk == signup.pk
        assert signup.status == "confirmed"
        assert SignUp.objects.filter(shift=the_shift).count() == 1


def test_full_past_and_overlapping_shifts_are_refused(page):
    volunteer = approved_volunteer()
    full = shift(page, capacity=1)
    with schema_context("zhejiang"):
        services.sign_up(approved_volunteer().user, full)
    _refused(volunteer.user, full, "该时段已报满")
    _refused(volunteer.user, shift(page, starts_in=-HOUR), "已经开始或结束")
    first = shift(page, starts_in=datetime.timedelta(days=5), hours=3)
    with schema_context("zhejiang"):
        services.sign_up(volunteer.user, first)
    overlapping = shift(opportunity(title="非遗展演志愿服务"), starts_in=datetime.timedelta(days=5, hours=2), hours=2)
    _refused(volunteer.user, overlapping, "时间冲突：图书馆周末导读服务")
    back_to_back = shift(page, starts_in=datetime.timedelta(days=5, hours=3), hours=2)
    with schema_context("zhejiang"):
        assert services.sign_up(volunteer.user, back_to_back)[1]


def test_only_approved_volunteers_of_this_tenant_sign_up(page):
    elsewhere = approved_volunteer("sichuan")
    _refused(person(), shift(page), "只有本站审核通过的志愿者")
    _refused(elsewhere.user, shift(page), "只有本站审核通过的志愿者")


def test_cancellation_before_the_deadline_only_and_managers_any_time(page):
    volunteer = approved_volunteer()
    soon = shift(page, starts_in=datetime.timedelta(hours=5))
    later = shift(page, starts_in=datetime.timedelta(days=4))
    with schema_context("zhejiang"):
        assert VolunteerSettings.load().cancel_deadline_hours == 24
        late_signup, _ = services.sign_up(volunteer.user, soon)
        early_signup, _ = services.sign_up(volunteer.user, later)
        with pytest.raises(ValidationError) as refused:
            services.cancel_signup(late_signup, by=volunteer.user)
        assert "已过取消截止时间" in refused.value.messages[0]
        assert services.cancel_signup(early_signup, by=volunteer.user).status == "cancelled"
        assert services.cancel_signup(late_signup, by=coordinator()).status == "cancelled"
        # the place is free again
        assert services.sign_up(volunteer.user, later)[1]


def test_opportunity_with_approval_holds_a_place_until_decided(page):
    strict = opportunity(title="大型活动安保志愿者", requires_approval=True)
    the_shift = shift(strict, capacity=1)
    volunteer = approved_volunteer()
    with schema_context("zhejiang"):
        signup, _ = services.sign_up(volunteer.user, the_shift)
        assert signup.status == "pending"
    _refused(approved_volunteer().user, the_shift, "该时段已报满")
    with schema_context("zhejiang"):
        assert services.decide_signup(signup, approve=True, by=coordinator()).status == "confirmed"


def test_matching_finds_skilled_free_volunteers_and_an_invitation_is_accepted(page):
    the_shift = shift(page, required_skills=["first_aid"])
    skilled = approved_volunteer()
    unskilled = approved_volunteer(skills=["reading"])
    busy = approved_volunteer()
    with schema_context("zhejiang"):
        services.sign_up(busy.user, shift(page, starts_in=datetime.timedelta(days=3, minutes=30)))
        matches = set(services.matching_volunteers(the_shift, limit=500).values_list("pk", flat=True))
        assert skilled.pk in matches and unskilled.pk not in matches and busy.pk not in matches
        invitation = services.invite_volunteer(the_shift, skilled, by=coordinator())
        assert invitation.status == "invited"
        assert skilled.pk not in set(services.matching_volunteers(the_shift, limit=500).values_list("pk", flat=True))
        accepted, created = services.sign_up(skilled.user, the_shift)
        assert created and accepted.pk == invitation.pk and accepted.status == "confirmed"


def test_availability_filters_matches(page):
    saturday_morning = shift(page)
    start = saturday_morning.starts_at.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    slot = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][start.weekday()]
    other_day = "mon" if slot != "mon" else "tue"
    free = approved_volunteer(availability=[f"{slot}_am", f"{slot}_pm", f"{slot}_eve"])
    never_then = approved_volunteer(availability=[f"{other_day}_am"])
    with schema_context("zhejiang"):
        matches = set(services.matching_volunteers(saturday_morning, limit=500).values_list("pk", flat=True))
    assert free.pk in matches and never_then.pk not in matches
