"""Files made from bookings: the QR ticket (segno, on the server), .ics calendars, the Excel export."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import urlsplit

import segno
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from accounts.personal_data import mask_id_number, mask_mobile, mask_name

from . import services
from .models import Booking, RoomBooking, Session

QR_CACHE_SECONDS = 7 * 24 * 3600


def ticket_svg(booking: Booking) -> str:
    """The QR ticket as inline SVG (no image request, no third party): it encodes the signed payload.

    Made when the ticket is first shown, not when it is booked, and cached: drawing it costs ~10 ms
    of CPU, and the payload (site, pickup code, signature) never changes, so neither does the image.
    """
    payload = services.ticket_payload(booking)
    key = "bookings:qr:" + hashlib.sha256(payload.encode()).hexdigest()
    svg = cache.get(key)
    if svg is None:
        svg = segno.make(payload, error="m").svg_inline(scale=6, border=2, title=f"电子票 {booking.pickup_code}")
        cache.set(key, svg, QR_CACHE_SECONDS)
    return svg


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Culture Cloud//bookings//ZH")
    calendar.add("version", "2.0")
    return calendar


# What a calendar app should show for a booking's state (RFC 5545 STATUS).
_EVENT_STATUS = {
    Booking.Status.CONFIRMED: "CONFIRMED",
    Booking.Status.CHECKED_IN: "CONFIRMED",
    Booking.Status.PENDING: "TENTATIVE",
    Booking.Status.HELD: "TENTATIVE",
    Booking.Status.WAITING: "TENTATIVE",
}


# Calendars are written about the tenant they belong to: `base_url` is its primary public URL
# (tenants.services.public_base_url), never the Host a request happened to send, so the event links
# open and a calendar fetched through another of the tenant's hosts has the same UIDs.


def _uid_host(base_url: str) -> str:
    return urlsplit(base_url).hostname or ""


def _booking_event(booking: Booking, base_url: str) -> Event:
    session = booking.session
    activity = session.activity
    event = Event()
    event.add("uid", f"booking-{booking.order_number}@{_uid_host(base_url)}")
    event.add("dtstamp", timezone.now())
    event.add("last-modified", booking.updated_at)
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", f"{activity.title} {session.name}".strip())
    # A cancelled or lapsed booking stays in a subscribed calendar as CANCELLED, so the app removes it.
    event.add("status", _EVENT_STATUS.get(booking.status, "CANCELLED"))
    place = " ".join(p for p in (activity.venue.title if activity.venue else "", activity.location_note) if p)
    if place:
        event.add("location", place)
    event.add(
        "description",
        f"{booking.get_status_display()}。订单号 {booking.order_number}，取票码 {booking.pickup_code}，{booking.quantity} 人",
    )
    event.add("url", base_url + reverse("bookings:ticket", args=[booking.order_number]))
    return event


def _room_event(booking: RoomBooking, base_url: str, *, with_room: bool = False) -> Event:
    event = Event()
    event.add("uid", f"room-{booking.order_number}@{_uid_host(base_url)}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", booking.during.lower)
    event.add("dtend", booking.during.upper)
    who = f"{booking.organisation.name}：" if booking.organisation_id else ""
    where = f"{booking.room.name} " if with_room else ""
    event.add("summary", f"{where}{who}{booking.purpose}（{booking.get_status_display()}）")
    event.add("status", "CONFIRMED" if booking.status == RoomBooking.Status.CONFIRMED else "TENTATIVE")
    return event


def booking_ics(booking: Booking, base_url: str) -> bytes:
    calendar = _calendar()
    calendar.add_component(_booking_event(booking, base_url))
    return calendar.to_ical()


def person_ics(bookings: list[Booking], room_bookings: list[RoomBooking], base_url: str, site_name: str) -> bytes:
    """A person's subscribed calendar of this site: their bookings (cancelled ones marked so) and rooms."""
    calendar = _calendar()
    calendar.add("x-wr-calname", f"{site_name} 我的预约")
    for booking in bookings:
        calendar.add_component(_booking_event(booking, base_url))
    for booking in room_bookings:
        calendar.add_component(_room_event(booking, base_url, with_room=True))
    return calendar.to_ical()


def room_ics(room, bookings: list[RoomBooking], base_url: str) -> bytes:
    """A room's bookings (active ones) for the staff's calendar: purpose, group and state, no names."""
    calendar = _calendar()
    calendar.add("x-wr-calname", f"{room.name} 预定")
    for booking in bookings:
        calendar.add_component(_room_event(booking, base_url))
    return calendar.to_ical()


EXPORT_COLUMNS = [
    "活动名称",
    "场次",
    "订单ID",
    "联系人",
    "联系电话",
    "身份证号",
    "预约数量",
    "入场人",
    "取票码",
    "预约状态",
    "下单时间",
    "签到时间",
]


def session_export(session: Session, bookings: list[Booking], *, show_personal_data: bool) -> bytes:
    """The reservation record of the seeds (活动名称, 订单ID, 联系人, 联系电话, 身份证号, 预约数量, 取票码,
    预约状态): names, phones and ID numbers masked unless the viewer's role allows them."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "预约名单"
    sheet.append(EXPORT_COLUMNS)
    shown = (lambda value, mask: value) if show_personal_data else (lambda value, mask: mask(value))  # noqa: E731
    for booking in bookings:
        user = booking.user
        sheet.append(
            [
                session.activity.title,
                f"{timezone.localtime(session.starts_at):%Y-%m-%d %H:%M} {session.name}".strip(),
                booking.order_number,
                shown(user.real_name, mask_name),
                shown(user.mobile, mask_mobile),
                shown(user.id_number, mask_id_number),
                booking.quantity,
                "、".join(shown(name, mask_name) for name in booking.attendees),
                booking.pickup_code,
                booking.get_status_display(),
                timezone.localtime(booking.created_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(booking.checked_in_at).strftime("%Y-%m-%d %H:%M") if booking.checked_in_at else "",
            ]
        )
    for index, width in enumerate([24, 20, 18, 10, 14, 22, 8, 20, 12, 10, 18, 18], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
