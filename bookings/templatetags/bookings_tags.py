"""Booking pieces shown on content pages (cms_pages templates load these; cms_pages imports nothing of bookings)."""

from django import template

from bookings.models import RoomSettings, Session

register = template.Library()


@register.inclusion_tag("bookings/_activity_sessions.html")
def activity_sessions(activity):
    """The sessions of an activity (any translation of it), or a link to the original's booking for pulled copies."""
    if activity.original_url:
        return {"original_url": activity.original_url, "sessions": []}
    sessions = Session.objects.filter(activity__translation_key=activity.translation_key).order_by("starts_at")
    return {"original_url": "", "sessions": list(sessions)}


@register.simple_tag
def bookable_room_ids(rooms) -> set[int]:
    return set(RoomSettings.objects.filter(room__in=rooms, bookable=True).values_list("room_id", flat=True))


@register.simple_tag
def with_booking_states(activities) -> list[tuple]:
    """[(activity, state, label)] for a list of activity cards, in one query (bookings.availability)."""
    from bookings.availability import LABELS, booking_states

    activities = list(activities)
    states = booking_states(activities)
    return [(a, states.get(a.pk, ""), LABELS.get(states.get(a.pk, ""), "")) for a in activities]
