"""What an activity card says about booking (可预约 / 已约满 / 已结束), for a whole list at once.

One query for any number of activities: their sessions with the seats held, summed in the
database. Reads only; bookings are written by bookings.services.
"""

from __future__ import annotations

from django.db.models import IntegerField, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_noop

from .models import Booking, Session

OPEN, FULL, SOON, CLOSED, ENDED, FREE = "open", "full", "soon", "closed", "ended", "free"
# Message ids: the card template translates them.
LABELS = {
    OPEN: gettext_noop("可预约"),
    FULL: gettext_noop("已约满"),
    SOON: gettext_noop("即将开放预约"),
    CLOSED: gettext_noop("预约已截止"),
    ENDED: gettext_noop("已结束"),
    FREE: gettext_noop("无需预约"),
}


def booking_states(activities) -> dict[int, str]:
    """{activity pk: state} for the activities (pages loaded with `translation_key`, `end`,
    `booking_enabled`): sessions belong to the activity in any of its translations."""
    activities = list(activities)
    now = timezone.now()
    states: dict[int, str] = {}
    keys = {a.translation_key for a in activities if a.end >= now and not getattr(a, "original_url", "")}
    rows = []
    if keys:
        rows = (
            Session.objects.filter(activity__translation_key__in=keys, cancelled_at__isnull=True)
            .annotate(
                taken=Coalesce(
                    Sum("bookings__quantity", filter=Q(bookings__status__in=Booking.SEAT_HOLDING)),
                    0,
                    output_field=IntegerField(),
                )
            )
            .values("activity__translation_key", "capacity", "taken", "starts_at", "opens_at", "closes_at")
        )
    by_key: dict = {}
    for row in rows:
        by_key.setdefault(row["activity__translation_key"], []).append(row)
    for activity in activities:
        if activity.end < now:
            states[activity.pk] = ENDED
            continue
        sessions = by_key.get(activity.translation_key, [])
        if not sessions:
            states[activity.pk] = FREE if not activity.booking_enabled else ""
            continue
        bookable = [s for s in sessions if s["opens_at"] <= now < (s["closes_at"] or s["starts_at"])]
        if any(s["taken"] < s["capacity"] for s in bookable):
            states[activity.pk] = OPEN
        elif bookable:
            states[activity.pk] = FULL
        elif any(s["opens_at"] > now for s in sessions):
            states[activity.pk] = SOON
        else:
            states[activity.pk] = CLOSED
    return states
