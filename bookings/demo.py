"""Demo bookings of one tenant: sessions on the bookable activities (one of them today, so a new
user can book and be checked in at once), bookings in each state, bookable rooms.

Idempotent: nothing is created when the site already has sessions (a second run changes nothing).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.personal_data import id_number_check_char
from accounts.services import ensure_account, set_personal_data

DEMO_VISITOR_PASSWORD = "Wenhua-2026"  # noqa: S105 - published demo login, see README
VISITORS = (("visitor", "王晓明"), ("visitor2", "李芳"), ("visitor3", "张伟"))


def _demo_id_number(region: str, index: int) -> str:
    # The region code makes the numbers of different demo sites differ (one ID number, one account).
    county = "110101" if region.startswith("10") else region[:6]  # the national site: a Beijing number
    first17 = f"{county}1990010{index}123"
    return first17 + id_number_check_char(first17)


def demo_visitors(slug: str, region: str) -> list:
    """Members of the public with real-name data ({slug}_visitor ...), for trying bookings."""
    people = []
    for index, (suffix, name) in enumerate(VISITORS, start=1):
        user = ensure_account(f"{slug}_{suffix}", DEMO_VISITOR_PASSWORD, display_name=name)
        if not user.id_number:
            set_personal_data(user, real_name=name, id_number=_demo_id_number(region, index))
        people.append(user)
    return people


def seed_bookings(slug: str, region: str) -> None:
    from cms_pages.models import ActivityPage, VenueRoom

    from . import services
    from .models import Booking, RoomSettings, Session

    if Session.objects.exists():
        return
    people = demo_visitors(slug, region)
    now = timezone.now()
    with transaction.atomic():
        activities = list(ActivityPage.objects.live().filter(booking_enabled=True, locale__language_code="zh-hans"))
        sessions = []
        for activity in activities:
            starts = activity.start
            while starts < now + timedelta(hours=2):  # a demo world made long ago: the same time next week
                starts += timedelta(days=7)
            sessions.append(
                Session.objects.create(
                    activity=activity,
                    starts_at=starts,
                    ends_at=starts + (activity.end - activity.start),
                    capacity=activity.capacity or 50,
                    per_person_limit=activity.per_person_limit,
                    requires_approval=activity.requires_approval,
                    opens_at=now - timedelta(days=1),
                )
            )
        if not activities:
            return
        # Today's session of the first bookable activity: book it and check in straight away.
        start = now - timedelta(hours=1)
        today_session = Session.objects.create(
            activity=activities[0],
            name="今日体验场",
            starts_at=start,
            ends_at=now + timedelta(hours=6),
            closes_at=now + timedelta(hours=5),
            capacity=30,
            per_person_limit=2,
            opens_at=now - timedelta(days=1),
        )
        visitor, second, third = people
        services.book_seats(today_session.pk, visitor, 1)
        checked_in = services.book_seats(today_session.pk, second, 1)
        services.check_in(checked_in.pickup_code, None)
        cancelled = services.book_seats(sessions[0].pk, third, 1)
        services.cancel_booking(cancelled.pk, third)
        services.book_seats(sessions[0].pk, visitor, 2, [people[1].real_name])
        approval = next((s for s in sessions if s.requires_approval), None)
        if approval is not None:
            services.book_seats(approval.pk, second, 1)  # waits for approval
        # A full small session with a waiting list.
        small = Session.objects.create(
            activity=activities[-1],
            name="小型体验场",
            starts_at=sessions[-1].starts_at + timedelta(days=1),
            ends_at=sessions[-1].ends_at + timedelta(days=1),
            capacity=1,
            per_person_limit=1,
            opens_at=now - timedelta(days=1),
        )
        services.book_seats(small.pk, third, 1)
        services.book_seats(small.pk, visitor, 1, join_waiting_list=True)
        # A past session with a no-show.
        past = Session.objects.create(
            activity=activities[0],
            name="往期场次",
            starts_at=now - timedelta(days=3),
            ends_at=now - timedelta(days=3) + timedelta(hours=2),
            capacity=20,
            opens_at=now - timedelta(days=10),
        )
        # History cannot be made through the services (they refuse sessions that are over).
        Booking.objects.create(
            session=past,
            user=third,
            order_number=f"{timezone.localdate() - timedelta(days=5):%Y%m%d}00000001",
            pickup_code=services._new_pickup_code(),
            quantity=1,
            attendees=[third.real_name],
            status=Booking.Status.NO_SHOW,
        )
        for room in VenueRoom.objects.filter(page__locale__language_code="zh-hans"):
            RoomSettings.objects.get_or_create(
                room=room, defaults={"requires_approval": room.capacity is not None and room.capacity >= 200}
            )
        small_room = RoomSettings.objects.filter(requires_approval=False).select_related("room").first()
        if small_room is not None:
            day = timezone.localdate() + timedelta(days=1)
            while services.is_closed_on(small_room, day):
                day += timedelta(days=1)
            group = services.apply_organisation(
                visitor, "社区剪纸兴趣小组", "社区居民自发组织的剪纸爱好者团体，约 20 人"
            )
            services.decide_organisation(group.pk, None, approve=True)
            services.book_room(
                small_room.room_id,
                visitor,
                timezone.make_aware(datetime.combine(day, time(10, 0))),
                2,
                "社区剪纸兴趣小组活动",
                organisation=group.pk,
            )
