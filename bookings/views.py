"""Booking pages: thin callers of bookings.services (the public's, 我的预约, and the front desk's)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cms_pages import privacy
from cms_pages.models import VenueRoom
from tenants.services import absolute_url, public_base_url

from . import documents, services
from .models import Booking, BookingBan, Organisation, RoomBooking, RoomSettings, Session

FIELD_LABELS = {"quantity": "预约数量", "attendees": "入场人", "reason": "原因", "code": "取票码", "title": "标题",
                "purpose": "用途", "slots": "时段数", "start": "开始时间", "organisation": "预定团体", "name": "团体名称",
                "description": "团体简介"}  # fmt: skip


def _errors(exc: ValidationError) -> list[str]:
    """Each refusal as a line that names its field (预约数量：…)."""
    if hasattr(exc, "error_dict"):
        return [f"{FIELD_LABELS.get(field, field)}：{msg}" for field, errs in exc.message_dict.items() for msg in errs]
    return exc.messages


def _attempt(request, action, success, *, prefix: str = ""):
    """Run one service call for a POST: its refusals become error messages (each naming its field),
    success a success message (`success` may be a function of the result). Returns the result or None."""
    try:
        done = action()
    except ValidationError as exc:
        for line in _errors(exc):
            messages.error(request, prefix + line)
        return None
    messages.success(request, success(done) if callable(success) else success)
    return done


def _download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


ICS = "text/calendar; charset=utf-8"


def _codes(exc: ValidationError) -> set[str]:
    items = [e for errs in exc.error_dict.values() for e in errs] if hasattr(exc, "error_dict") else exc.error_list
    return {e.code for e in items}


def staff_required(permission: str):
    """Front-desk pages: signed in, and this site's role grants `permission` (roles never cross sites)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(permission):
                return render(request, "bookings/staff/forbidden.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# --- Public -----------------------------------------------------------------------------------


def _session_or_404(session_id: int) -> Session:
    session = Session.objects.select_related("activity", "activity__venue").filter(pk=session_id).first()
    if session is None or not session.activity.live:
        raise Http404("没有这个场次")
    return session


@transaction.non_atomic_requests  # book_seats is its own transaction: the lock ends before the response
def session_detail(request, session_id: int):
    if not privacy.restricted_sections():  # no page of this site is restricted (cached: no query)
        return _session_detail(request, session_id)
    # A session of a restricted activity answers what the activity's page answers.
    session = _session_or_404(session_id)
    return privacy.guarded(request, session.activity, lambda: _session_detail(request, session_id))


def _session_detail(request, session_id: int):
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # The common case books and redirects without reading the session for a page: book_seats
        # reads it once (and answers "没有这个场次" for a missing one, as the page's 404 does).
        try:
            booking = services.book_seats(
                session_id,
                request.user,
                request.POST.get("quantity", ""),
                request.POST.getlist("attendee"),
                idempotency_key=request.POST.get("idempotency_key", ""),
                join_waiting_list=request.POST.get("join_waiting_list") == "1",
            )
        except ValidationError as exc:
            errors = _errors(exc)
            status = 409 if _codes(exc) & {"sold_out", "not_enough", "busy"} else 400
        else:
            return redirect("bookings:ticket", order_number=booking.order_number)
    session = _session_or_404(session_id)
    left = services.seats_left(session)
    now = timezone.now()
    context = {
        "session": session,
        "activity": session.activity,
        "seats_left": left,
        "open": session.opens_at <= now < session.booking_closes_at and not session.is_cancelled,
        "not_yet_open": now < session.opens_at,
        "errors": errors,
        "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        "quantity": request.POST.get("quantity", "1"),
        "extra_attendees": range(session.per_person_limit - 1),
        "needs_real_name": request.user.is_authenticated and not (request.user.real_name and request.user.id_number),
        "ban": services.active_ban(request.user) if request.user.is_authenticated else None,
    }
    return render(request, "bookings/session_detail.html", context, status=status)


def _feed_url(request, feed) -> str:
    """The subscription address on the tenant's primary public URL (not the Host asked)."""
    return absolute_url(request.tenant, reverse("bookings:feed", args=[feed.token]))


@login_required
def my_bookings(request):
    bookings = list(services.bookings_of(request.user)[:100])
    room_bookings = list(
        RoomBooking.objects.filter(user=request.user).select_related("room", "room__page", "organisation")[:50]
    )
    return render(
        request,
        "bookings/my_bookings.html",
        {
            "bookings": bookings,
            "room_bookings": room_bookings,
            "ban": services.active_ban(request.user),
            "feed_url": _feed_url(request, services.calendar_feed(user=request.user)),
        },
    )


@login_required
@require_POST
def reset_my_feed(request):
    services.calendar_feed(user=request.user, reset=True)
    messages.success(request, "日历订阅地址已更换，旧地址即刻失效。请在日历应用中改用新地址。")
    return redirect("bookings:mine")


@never_cache
def calendar_feed(request, token: str):
    """A subscribed calendar (no login: calendar apps cannot sign in; the secret address is the key)."""
    feed = services.find_feed(token)
    if feed is None:
        raise Http404("没有这个日历订阅")
    base_url = public_base_url(request.tenant)
    if feed.room_id:
        bookings = RoomBooking.objects.filter(room=feed.room, status__in=RoomBooking.ACTIVE)
        data = documents.room_ics(feed.room, list(bookings.select_related("room", "organisation")), base_url)
    else:
        since = timezone.now() - timedelta(days=90)
        bookings = services.bookings_of(feed.user).filter(session__ends_at__gte=since)[:200]
        rooms = RoomBooking.objects.filter(user=feed.user, status__in=RoomBooking.ACTIVE, during__endswith__gte=since)
        data = documents.person_ics(
            list(bookings), list(rooms.select_related("room", "organisation")[:100]), base_url, request.tenant.name
        )
    response = HttpResponse(data, content_type=ICS)
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    return response


def _own_booking(request, order_number: str) -> Booking:
    booking = services.bookings_of(request.user).filter(order_number=order_number).first()
    if booking is None:
        raise Http404("没有这个预约")
    return booking


@login_required
def ticket(request, order_number: str):
    booking = _own_booking(request, order_number)
    return render(
        request,
        "bookings/ticket.html",
        {
            "booking": booking,
            "session": booking.session,
            "qr_svg": documents.ticket_svg(booking) if booking.has_ticket else "",
            "can_cancel": booking.status in Booking.ACTIVE,
        },
    )


@login_required
@require_POST
def cancel(request, order_number: str):
    booking = _own_booking(request, order_number)
    _attempt(request, lambda: services.cancel_booking(booking.pk, request.user), "预约已取消。")
    return redirect("bookings:ticket", order_number=order_number)


@login_required
@require_POST
def confirm_hold(request, order_number: str):
    booking = _own_booking(request, order_number)
    _attempt(request, lambda: services.confirm_hold(booking.pk, request.user), "已确认候补名额。")
    return redirect("bookings:ticket", order_number=order_number)


@login_required
def booking_calendar(request, order_number: str):
    booking = _own_booking(request, order_number)
    return _download(
        documents.booking_ics(booking, public_base_url(request.tenant)), ICS, f"{booking.order_number}.ics"
    )


@login_required
@require_POST
def cancel_room(request, order_number: str):
    booking = RoomBooking.objects.filter(user=request.user, order_number=order_number).first()
    if booking is None:
        raise Http404("没有这个预定")
    _attempt(request, lambda: services.cancel_room_booking(booking.pk, request.user), "功能室预定已取消。")
    return redirect("bookings:mine")


@login_required
def my_organisations(request):
    """我的团体: apply for a group (社团, 学校, 企业 …) to book rooms in its name, and see the decisions."""
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            services.apply_organisation(request.user, request.POST.get("name", ""), request.POST.get("description", ""))
        except ValidationError as exc:
            errors, status = _errors(exc), 400
        else:
            messages.success(request, "团体申请已提交，场馆审核后会通知您。")
            return redirect("bookings:organisations")
    return render(
        request,
        "bookings/organisations.html",
        {
            "organisations": Organisation.objects.filter(contact=request.user),
            "errors": errors,
            "name": request.POST.get("name", "")[:100],
            "description": request.POST.get("description", "")[:500],
        },
        status=status,
    )


def _week_start(value: str | None) -> date:
    today = timezone.localdate()
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    day = max(day, today - timedelta(days=today.weekday()))
    return day - timedelta(days=day.weekday())


def room(request, room_id: int):
    room_settings = (
        RoomSettings.objects.select_related("room", "room__page").filter(room_id=room_id, bookable=True).first()
    )
    if room_settings is None or not room_settings.room.page.live:
        raise Http404("该功能室不开放预定")
    return privacy.guarded(request, room_settings.room.page, lambda: _room(request, room_id, room_settings))


def _room(request, room_id: int, room_settings: RoomSettings):
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            booking = services.book_room(
                room_id,
                request.user,
                request.POST.get("start", ""),
                request.POST.get("slots", "1"),
                request.POST.get("purpose", ""),
                idempotency_key=request.POST.get("idempotency_key", ""),
                organisation=request.POST.get("organisation") or None,
            )
        except ValidationError as exc:
            errors = _errors(exc)
            status = 409 if "slot_taken" in _codes(exc) else 400
        else:
            messages.success(request, f"{booking.get_status_display()}：订单号 {booking.order_number}")
            return redirect("bookings:mine")
    week = _week_start(request.GET.get("week"))
    return render(
        request,
        "bookings/room.html",
        {
            "room": room_settings.room,
            "room_settings": room_settings,
            "days": services.week_calendar(room_settings, week),
            "week": week,
            "previous_week": week - timedelta(days=7),
            "next_week": week + timedelta(days=7),
            "this_week": week <= timezone.localdate(),
            "errors": errors,
            "idempotency_key": uuid.uuid4().hex,
            "slot_choices": range(1, room_settings.max_slots + 1),
            "organisations": list(services.organisations_of(request.user)),
        },
        status=status,
    )


# --- Front desk (staff) -----------------------------------------------------------------------

MANAGE = "bookings.manage_bookings"
CHECK_IN = "bookings.check_in_bookings"


def _staff_action(request, booking, actions: dict, action: str) -> None:
    """One of a booking's staff actions by name (approve / reject / cancel), told as "<order>：<status>"."""
    if action not in actions:
        raise Http404
    _attempt(
        request,
        actions[action],
        lambda done: f"{done.order_number}：{done.get_status_display()}",
        prefix=f"{booking.order_number}：",
    )


@staff_required(CHECK_IN)
def staff_home(request):
    now = timezone.now()
    sessions = (
        Session.objects.select_related("activity")
        .filter(ends_at__gte=now - timedelta(days=7))
        .order_by("starts_at")[:100]
    )
    rows = [(s, services.session_counts(s)) for s in sessions]
    return render(
        request,
        "bookings/staff/home.html",
        {
            "rows": rows,
            "can_manage": request.user.has_perm(MANAGE),
            "bans": BookingBan.objects.filter(lifted_at__isnull=True, until__gt=now).select_related("user")[:50],
            "rooms": RoomSettings.objects.select_related("room", "room__page").filter(bookable=True),
            "organisations": Organisation.objects.exclude(status=Organisation.Status.REJECTED)
            .select_related("contact")
            .order_by("status", "name")[:200],
        },
    )


@staff_required(MANAGE)
def staff_session(request, session_id: int):
    session = get_object_or_404(Session.objects.select_related("activity"), pk=session_id)
    status_filter = request.GET.get("status", "")
    bookings = Booking.objects.filter(session=session).select_related("user").order_by("created_at")
    if status_filter in Booking.Status.values:
        bookings = bookings.filter(status=status_filter)
    q = (request.GET.get("q") or "").strip()
    if q:
        bookings = bookings.filter(pickup_code=services.normalize_pickup_code(q)) | bookings.filter(order_number=q)
    counts = services.session_counts(session)
    return render(
        request,
        "bookings/staff/session.html",
        {
            "session": session,
            "bookings": list(bookings[:500]),
            "counts": [(value, label, counts[value]) for value, label in Booking.Status.choices],
            "status_filter": status_filter,
            "q": q,
            "seats_left": services.seats_left(session),
        },
    )


@staff_required(MANAGE)
@require_POST
def staff_booking_action(request, booking_id: int, action: str):
    booking = get_object_or_404(Booking, pk=booking_id)
    reason = request.POST.get("reason", "")
    actions = {
        "approve": lambda: services.approve_booking(booking.pk, request.user),
        "reject": lambda: services.reject_booking(booking.pk, request.user, reason),
        "cancel": lambda: services.cancel_booking(booking.pk, request.user, reason=reason, by_staff=True),
    }
    _staff_action(request, booking, actions, action)
    return redirect("bookings:staff_session", session_id=booking.session_id)


@staff_required(MANAGE)
@require_POST
def staff_session_message(request, session_id: int):
    session = get_object_or_404(Session, pk=session_id)
    _attempt(
        request,
        lambda: services.message_attendees(
            session.pk, request.user, request.POST.get("title"), request.POST.get("body")
        ),
        lambda count: f"消息已发送给 {count} 位预约者。",
    )
    return redirect("bookings:staff_session", session_id=session.pk)


@staff_required(MANAGE)
@require_POST
def staff_session_cancel(request, session_id: int):
    session = get_object_or_404(Session, pk=session_id)
    _attempt(
        request,
        lambda: services.cancel_session(session.pk, request.user, request.POST.get("reason", "")),
        lambda count: f"场次已取消，已通知 {count} 个预约。",
    )
    return redirect("bookings:staff_session", session_id=session.pk)


@staff_required(MANAGE)
def staff_session_export(request, session_id: int):
    session = get_object_or_404(Session.objects.select_related("activity"), pk=session_id)
    bookings = list(Booking.objects.filter(session=session).select_related("user").order_by("created_at"))
    data = documents.session_export(
        session, bookings, show_personal_data=request.user.has_perm("roles.view_personal_data")
    )
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(data, xlsx, f"bookings-session-{session.pk}.xlsx")


@staff_required(CHECK_IN)
def staff_check_in(request):
    result = None
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            result = services.check_in(request.POST.get("code", ""), request.user)
        except ValidationError as exc:
            errors = _errors(exc)
            status = 409 if "already_checked_in" in _codes(exc) else 400
    return render(request, "bookings/staff/check_in.html", {"result": result, "errors": errors}, status=status)


@staff_required(MANAGE)
@require_POST
def staff_lift_ban(request, ban_id: int):
    ban = get_object_or_404(BookingBan, pk=ban_id)
    _attempt(request, lambda: services.lift_ban(ban.pk, request.user), "预约限制已解除。")
    return redirect("bookings:staff_home")


@staff_required(MANAGE)
def staff_room(request, room_id: int):
    venue_room = get_object_or_404(VenueRoom.objects.select_related("page"), pk=room_id)
    bookings = RoomBooking.objects.filter(room=venue_room, during__endswith__gte=timezone.now()).select_related(
        "user", "organisation"
    )
    feed = services.calendar_feed(room=venue_room)
    return render(
        request,
        "bookings/staff/room.html",
        {"room": venue_room, "bookings": list(bookings[:200]), "feed_url": _feed_url(request, feed)},
    )


@staff_required(MANAGE)
@require_POST
def staff_reset_room_feed(request, room_id: int):
    venue_room = get_object_or_404(VenueRoom, pk=room_id)
    services.calendar_feed(room=venue_room, reset=True)
    messages.success(request, "日历订阅地址已更换，旧地址即刻失效。")
    return redirect("bookings:staff_room", room_id=venue_room.pk)


@staff_required(MANAGE)
@require_POST
def staff_room_action(request, booking_id: int, action: str):
    booking = get_object_or_404(RoomBooking, pk=booking_id)
    reason = request.POST.get("reason", "")
    actions = {
        "cancel": lambda: services.cancel_room_booking(booking.pk, request.user, by_staff=True, reason=reason),
        "approve": lambda: services.decide_room_booking(booking.pk, request.user, approve=True, reason=reason),
        "reject": lambda: services.decide_room_booking(booking.pk, request.user, approve=False, reason=reason),
    }
    _staff_action(request, booking, actions, action)
    return redirect("bookings:staff_room", room_id=booking.room_id)


@staff_required(MANAGE)
@require_POST
def staff_organisation_action(request, organisation_id: int, action: str):
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    if action not in ("approve", "reject"):
        raise Http404
    _attempt(
        request,
        lambda: services.decide_organisation(
            organisation.pk, request.user, approve=action == "approve", reason=request.POST.get("reason", "")
        ),
        lambda done: f"{done.name}：{done.get_status_display()}",
        prefix=f"{organisation.name}：",
    )
    return redirect("bookings:staff_home")


@staff_required(MANAGE)
def staff_room_calendar(request, room_id: int):
    venue_room = get_object_or_404(VenueRoom, pk=room_id)
    bookings = list(
        RoomBooking.objects.filter(room=venue_room, status__in=RoomBooking.ACTIVE).select_related(
            "room", "organisation"
        )
    )
    return _download(
        documents.room_ics(venue_room, bookings, public_base_url(request.tenant)), ICS, f"room-{venue_room.pk}.ics"
    )
