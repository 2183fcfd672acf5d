"""Fixtures of the feedback tests: people who took part (or did not) in something of a site."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.websocket_helpers import make_user


def person(first_name: str = "张三丰"):
    return make_user(f"p{uuid.uuid4().hex[:10]}", signed_in=False, first_name=first_name)


def staff(schema: str, role: str):
    from roles.services import grant_role

    user = person("工作人员")
    with schema_context(schema):
        grant_role(user, role)
    return user


def attend(schema: str, user, *, status: str = "checked_in", activity=None):
    """`user` booked a past session of one of the site's activities (checked in by default)."""
    from bookings import services as bookings_services
    from bookings.models import Booking, Session
    from cms_pages.models import ActivityPage

    with schema_context(schema):
        activity = activity or ActivityPage.objects.live().filter(booking_enabled=True).order_by("pk").first()
        starts = timezone.now() - datetime.timedelta(days=2)
        session = Session.objects.create(
            activity=activity, starts_at=starts, ends_at=starts + datetime.timedelta(hours=2), capacity=10
        )
        Booking.objects.create(
            session=session,
            user=user,
            order_number=f"T{uuid.uuid4().hex[:15]}",
            pickup_code=bookings_services._new_pickup_code(),
            quantity=1,
            status=status,
            checked_in_at=starts if status == "checked_in" else None,
        )
        return activity


def study(schema: str, user, *, completed: bool = True):
    """`user` enrolled in a published course of the site (and completed it by default)."""
    from training.models import Course, Enrollment

    with schema_context(schema):
        course = Course.objects.create(title=f"测试课程{uuid.uuid4().hex[:4]}", status=Course.Status.PUBLISHED)
        Enrollment.objects.create(course=course, user=user, completed_at=timezone.now() if completed else None)
        return course


def serve(schema: str, user, *, approved: bool = True):
    """`user` served a shift of one of the site's volunteer opportunities (hours approved by default)."""
    from volunteers.models import HourRecord, OpportunityPage, Shift, Volunteer

    with schema_context(schema):
        opportunity = OpportunityPage.objects.live().order_by("pk").first()
        volunteer = Volunteer.objects.create(
            user=user,
            status=Volunteer.Status.APPROVED,
            real_name="张三丰",
            emergency_contact_name="李四",
            emergency_contact_phone="13800000000",
            consented_at=timezone.now(),
        )
        starts = timezone.now() - datetime.timedelta(days=3)
        shift = Shift.objects.create(
            opportunity=opportunity,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=3),
            place="服务台",
            capacity=3,
        )
        HourRecord.objects.create(
            volunteer=volunteer,
            shift=shift,
            kind=HourRecord.Kind.CHECKED,
            minutes=180,
            served_on=starts.date(),
            status=HourRecord.Status.APPROVED if approved else HourRecord.Status.PENDING,
        )
        return opportunity


@pytest.fixture
def signed_in(client):
    """signed_in(user) -> the test client, signed in as `user` (one platform session)."""

    def sign(user):
        client.force_login(user)
        return client

    return sign
