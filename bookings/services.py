"""The one write path of bookings: seats, the state machine, waiting list, check-in, rooms.

Views, the admin, commands and tasks call these functions; none of them writes a Booking itself.
Every refusal is a ValidationError with a Chinese message that names the problem, raised before
anything is written (the caller's transaction then holds nothing of it).

State machine of a Booking (docs/bookings.md):

    waiting ──seat frees──▶ held ──person confirms──▶ confirmed / pending
       │                     └──hold runs out──▶ expired (seat passes on)
    pending ──approve──▶ confirmed ──check-in──▶ checked_in
       ├──reject──▶ rejected        └──session ended──▶ no_show
       └──too long──▶ expired
    waiting / held / pending / confirmed ──person (before the deadline) or staff──▶ cancelled
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.personal_data import validate_real_name
from core.inserts import mark_saved, row_insert
from notifications.models import Notification
from notifications.services import YEAR_MONTH_DAY, LocalTime, Text, deliver_after_commit, draft, leave, notify

from .locking import SessionBusy, commit_locked, lock_session
from .models import (
    Booking,
    BookingBan,
    BookingRules,
    CalendarFeed,
    Organisation,
    RoomBooking,
    RoomSettings,
    Session,
    new_feed_token,
)

S = Booking.Status
# Pickup codes: no 0/O, 1/I/L, so a code read aloud or typed from a phone is unambiguous.
PICKUP_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PICKUP_LENGTH = 8  # 31^8 ≈ 8.5 × 10^11 codes: unguessable by trying
TICKET_SALT = "bookings.ticket"
MAX_ATTEMPTS = 5


def _refuse(message: str, code: str, field: str | None = None) -> ValidationError:
    return ValidationError(
        {field: [ValidationError(message, code=code)]} if field else ValidationError(message, code=code)
    )


def refusal_message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def rules() -> BookingRules:
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    return BookingRules.for_site(site)


def _new_order_number(model) -> str:
    # Date first (staff read it), then random digits: unique per tenant by constraint, retried on a clash.
    return f"{timezone.localdate():%Y%m%d}{secrets.randbelow(10**8):08d}"


def _new_pickup_code() -> str:
    return "".join(secrets.choice(PICKUP_ALPHABET) for _ in range(PICKUP_LENGTH))


def normalize_pickup_code(value: str) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())[:40]


# --- People ---------------------------------------------------------------------------------


def active_ban(user) -> BookingBan | None:
    return BookingBan.objects.filter(user=user, lifted_at__isnull=True, until__gt=timezone.now()).first()


def _check_person(user) -> None:
    if user is None or not user.is_authenticated:
        raise _refuse("请先登录后再预约。", "login_required")
    if not (user.real_name and user.id_number):
        raise _refuse("预约需要实名信息：请先在个人中心填写姓名和身份证号。", "real_name_required")
    ban = active_ban(user)
    if ban is not None:
        until = timezone.localtime(ban.until)
        raise _refuse(
            f"您因{ban.reason}，{until:%Y年%-m月%-d日}前不能在本站预约。如有疑问请联系场馆工作人员。", "banned"
        )


# --- Seats ----------------------------------------------------------------------------------


def seats_taken(session: Session) -> int:
    return (
        Booking.objects.filter(session=session, status__in=Booking.SEAT_HOLDING).aggregate(n=Sum("quantity"))["n"] or 0
    )


def seats_left(session: Session) -> int:
    return max(session.capacity - seats_taken(session), 0)


def check_capacity(session_id: int | None, capacity) -> None:
    """Refuse a capacity below the seats already taken (take the lock: call inside the saving transaction)."""
    if session_id is None or capacity is None:
        return
    with transaction.atomic():  # the lock lasts until the outermost transaction ends
        _lock(session_id)
        taken = seats_taken(Session(pk=session_id))
    if int(capacity) < taken:
        raise _refuse(
            f"名额不能少于已预约的座位数：该场次已有 {taken} 个座位被预约或保留，名额至少为 {taken}。",
            "capacity_below_taken",
            "capacity",
        )


def save_session(session: Session) -> Session:
    """Create or change a session (the admin's path): the capacity never drops below the seats taken,
    and seats a larger capacity frees go to the waiting list at once."""
    with transaction.atomic():
        check_capacity(session.pk, session.capacity)
        session.save()
        if Booking.objects.filter(session=session, status=S.WAITING).exists():
            offer_freed_seats(session)
    return session


def _parse_quantity(quantity, limit: int) -> int:
    try:
        number = int(str(quantity).strip())
    except (TypeError, ValueError):
        raise _refuse("预约数量必须是整数。", "quantity_invalid", "quantity") from None
    if number < 1:
        raise _refuse("预约数量至少为 1。", "quantity_too_small", "quantity")
    if number > limit:
        raise _refuse(f"预约数量不能超过每人限约的 {limit} 个。", "quantity_over_limit", "quantity")
    return number


def _attendee_names(user, quantity: int, others: list[str] | None) -> list[str]:
    """The booker first, then one name for each further seat (validated like a real name)."""
    names = [n for n in (others or []) if n and n.strip()]
    if len(names) != quantity - 1:
        raise _refuse(
            f"为他人预约时请填写每位入场人的姓名（还需 {quantity - 1} 位）。", "attendees_missing", "attendees"
        )
    cleaned = []
    for name in names:
        try:
            cleaned.append(validate_real_name(name))
        except ValidationError as exc:
            raise _refuse(f"入场人姓名“{name[:20]}”：{refusal_message(exc)}", "attendee_invalid", "attendees") from None
    return [user.real_name, *cleaned]


def _create_with_unique_codes(model, **fields):
    for attempt in range(MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                return model.objects.create(**fields, **_new_codes(model))
        except IntegrityError as exc:
            if attempt == MAX_ATTEMPTS - 1 or not _code_clash(exc):
                raise
    raise AssertionError("unreachable")


def _new_codes(model) -> dict[str, str]:
    codes = {"order_number": _new_order_number(model)}
    if model is Booking:
        codes["pickup_code"] = _new_pickup_code()
    return codes


def _constraint(exc: IntegrityError) -> str:
    return getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") or ""


def _code_clash(exc: IntegrityError) -> bool:
    """The unique violation was a random order number or pickup code drawn twice (retry with new ones)."""
    constraint = _constraint(exc)
    return "order_number" in constraint or "pickup_code" in constraint


def _find_by_key(user, idempotency_key: str) -> Booking | None:
    if not idempotency_key:
        return None
    return Booking.objects.filter(user=user, idempotency_key=idempotency_key).first()


def book_seats(
    session_id: int,
    user,
    quantity,
    attendees: list[str] | None = None,
    *,
    idempotency_key: str = "",
    join_waiting_list: bool = False,
) -> Booking:
    """Book `quantity` seats of a session for `user` (or a waiting-list place when it is full).

    Counting the free seats and inserting the booking happen under the session's lock, so the
    session can never be oversold however many requests arrive at once. The same idempotency key
    returns the order it made the first time, never a second one.

    Called outside a transaction (the booking view), the lock, the count, the booking, its
    message and the COMMIT are one round trip (bookings.locking.commit_locked); inside one, they
    are one round trip after the lock's and commit with the caller's transaction. Either way the
    insert has no savepoint of its own: a drawn order number or pickup code that is already taken
    — about once in 10^8 bookings of a day — rolls the whole attempt back, lock included, and the
    booking is tried again from the start.
    """
    idempotency_key = (idempotency_key or "")[:64]
    for attempt in range(MAX_ATTEMPTS):
        try:
            if not connection.in_atomic_block:
                # The view's case: the booking is committed by the one batch that writes it.
                return _book_seats(session_id, user, quantity, attendees, idempotency_key, join_waiting_list)
            with transaction.atomic():
                return _book_seats(session_id, user, quantity, attendees, idempotency_key, join_waiting_list)
        except IntegrityError as exc:
            if _code_clash(exc) and attempt < MAX_ATTEMPTS - 1:
                continue
            if "idempotency" in _constraint(exc):  # the key was used for another session's order
                existing = _find_by_key(user, idempotency_key)
                if existing is not None:
                    return existing
            raise
    raise AssertionError("unreachable")


# The booking POST's statement, sent in the round trip that takes the session's lock
# (bookings.locking), so nothing else goes to PostgreSQL while the lock is held but the COMMIT:
#
# * `counted`: the seats taken, this person's seats (the per-person limit) and a twin request's
#   order (same idempotency key) that may have won the lock first. Three subqueries, each answered
#   by an index — the seat-holding rows through (session, status), the person's through (user,
#   created), the twin through the (user, idempotency key) constraint; one pass over all of the
#   session's rows grew with its waiting list (18 ms per booking with 900 waiting, bench/README.md).
# * `decided`: the status, or NULL for a refusal. `_refusal` below says why, from the same counts,
#   in the same order: twin, per-person limit, free seats, waiting list.
# * the booking, and the message for the status decided (both drafted before the lock).
#
# Before, the lock, the count, the insert and the message were four round trips while the lock was
# held; under load every round trip meant waiting for the GIL again among the process's other
# request threads, so the lock was held ~12 ms per booking and capped a session at ~80 bookings/s.
_COUNTED = f"""
    counted AS MATERIALIZED (
        SELECT (SELECT COALESCE(SUM(quantity), 0) FROM {Booking._meta.db_table}
                WHERE session_id = %(session)s AND status = ANY(%(holding)s)) AS taken,
               (SELECT COALESCE(SUM(quantity), 0) FROM {Booking._meta.db_table}
                WHERE user_id = %(user)s AND session_id = %(session)s AND status = ANY(%(active)s)) AS mine,
               (SELECT id FROM {Booking._meta.db_table}
                WHERE user_id = %(user)s AND idempotency_key = %(key)s AND idempotency_key <> ''
                  AND session_id = %(session)s) AS twin
               {{race_window}}
    ),
    decided AS (
        SELECT taken, mine, twin,
               CASE WHEN twin IS NOT NULL OR mine + %(quantity)s > %(limit)s THEN NULL
                    WHEN %(quantity)s <= %(capacity)s - taken THEN %(seat_status)s
                    WHEN %(may_wait)s THEN %(waiting)s
               END AS status
        FROM counted
    )"""
_SEAT_HOLDING = [str(status) for status in Booking.SEAT_HOLDING]
_ACTIVE = [str(status) for status in Booking.ACTIVE]


def _booking_statement(booking: Booking, session: Session, messages: dict[str, Notification], may_wait: bool):
    """The statement above for this booking: its WITH clause, the columns to select from
    `decided` — (taken, mine, twin, booking id, status, message id) — and the parameters."""
    row = row_insert(booking, "booking_", expressions={"status": "decided.status"})
    params = {
        **row.params,
        "holding": _SEAT_HOLDING,
        "active": _ACTIVE,
        "user": booking.user_id,
        "key": booking.idempotency_key,
        "session": session.pk,
        "quantity": booking.quantity,
        "limit": session.per_person_limit,
        "capacity": session.capacity,
        "seat_status": str(booking.status),
        "may_wait": may_wait,
        "waiting": str(S.WAITING),
    }
    # Only the concurrency test sets a delay: it widens the gap between the statement's snapshot
    # (the count) and its insert so that, unguarded, the race shows on every run (bookings.locking).
    delay = getattr(settings, "BOOKINGS_TEST_RACE_DELAY", 0.0)
    race_window = ", pg_sleep(%(race_delay)s) AS race_window" if delay else ""
    params["race_delay"] = delay
    ctes = [
        _COUNTED.format(race_window=race_window),
        f"booked AS ({row.statement('decided WHERE decided.status IS NOT NULL', returning=('status',))})",
    ]
    told = []
    for position, (status, message) in enumerate(messages.items()):
        message_row = row_insert(message, f"message{position}_")
        params.update(message_row.params)
        params[f"message{position}_status"] = str(status)
        ctes.append(
            f"told{position} AS ({message_row.statement(f'booked WHERE booked.status = %(message{position}_status)s')})"
        )
        told.append(f"(SELECT * FROM told{position})")
    columns = f"taken, mine, twin, (SELECT id FROM booked), (SELECT status FROM booked), COALESCE({', '.join(told)})"
    return f"WITH {', '.join(ctes)}", columns, params


def _refusal(session: Session, quantity: int, taken: int, mine: int) -> ValidationError:
    """Why `decided` above found no status (the twin aside)."""
    if mine + quantity > session.per_person_limit:
        return _refuse(f"每人每场限约 {session.per_person_limit} 个，您已预约 {mine} 个。", "person_limit", "quantity")
    left = session.capacity - taken
    if left > 0:
        return _refuse(f"名额不足，仅剩 {left} 个。", "not_enough", "quantity")
    return _refuse("已约满。", "sold_out")


def _book_seats(session_id, user, quantity, attendees, idempotency_key: str, join_waiting_list: bool) -> Booking:
    try:
        session, quantity, names = _bookable(session_id, user, quantity, attendees)
    except ValidationError:
        # A retried POST whose first attempt went through returns its order even when the
        # session has closed or filled since (looked up here, off the common path).
        existing = _find_by_key(user, idempotency_key) if getattr(user, "pk", None) else None
        if existing is not None:
            return existing
        raise
    seat_status = S.PENDING if session.requires_approval else S.CONFIRMED
    may_wait = bool(join_waiting_list and session.waiting_list)
    booking = Booking(
        session=session,
        user=user,
        quantity=quantity,
        attendees=names,
        status=seat_status,
        idempotency_key=idempotency_key,
        **_new_codes(Booking),
    )
    # The person's message for each status the booking may get, written before the lock.
    messages = {
        status: _message(booking, _CREATED_MESSAGES[status], title=session.activity_title)
        for status in ([seat_status, S.WAITING] if may_wait else [seat_status])
    }
    with_clause, columns, params = _booking_statement(booking, session, messages, may_wait)
    try:
        if connection.in_atomic_block:  # a caller's transaction (a test, a script): commits with it
            row = lock_session(session.pk, then=(f"{with_clause} SELECT {columns} FROM decided", params))
        else:  # the booking view: BEGIN, the lock, the statement and COMMIT in one round trip
            row = commit_locked(session.pk, with_clause, columns, "decided", params)
        taken, mine, twin, booking_id, status, message_id = row
    except SessionBusy:
        raise _refuse("预约人数较多，请稍后重试。", "busy") from None
    if booking_id is None:
        if twin is not None:
            return Booking.objects.select_related("session__activity").get(pk=twin)
        raise _refusal(session, quantity, taken, mine)
    booking.status = status
    mark_saved(booking, booking_id)
    message = messages[status]
    mark_saved(message, message_id)
    deliver_after_commit(message)
    return booking


def _session_sql() -> str:
    # Built on first use (the page models are only importable once the apps are loaded).
    from wagtail.models import Page

    from cms_pages.models import ActivityPage

    return f"""
        SELECT s.*, p.live AS activity_live, a.original_url AS activity_original_url, p.title AS activity_title,
               EXISTS (SELECT 1 FROM {BookingBan._meta.db_table} b
                       WHERE b.user_id = %(user)s AND b.lifted_at IS NULL AND b.until > %(now)s) AS banned
        FROM {Session._meta.db_table} s
        JOIN {ActivityPage._meta.db_table} a ON a.{ActivityPage._meta.pk.column} = s.activity_id
        JOIN {Page._meta.db_table} p ON p.id = a.{ActivityPage._meta.pk.column}
        WHERE s.id = %(session)s
    """


_SESSION_SQL: list[str] = []


def _bookable(session_id: int, user, quantity, attendees: list[str] | None) -> tuple[Session, int, list[str]]:
    """The checks that need no lock: the person, the session and its booking window, the form."""
    if user is None or not user.is_authenticated:
        raise _refuse("请先登录后再预约。", "login_required")
    if not (user.real_name and user.id_number):
        raise _refuse("预约需要实名信息：请先在个人中心填写姓名和身份证号。", "real_name_required")
    now = timezone.now()
    # One statement: the session, the three fields of its activity it needs (not the whole
    # multi-table Wagtail page) and whether the person is banned (the no-show rule), written out
    # since the ORM's compilation of it cost more CPU than the database's work.
    if not _SESSION_SQL:
        _SESSION_SQL.append(_session_sql())
    try:
        session_pk = int(session_id)
    except (TypeError, ValueError):
        session_pk = None
    rows = (
        list(Session.objects.raw(_SESSION_SQL[0], {"user": user.pk, "now": now, "session": session_pk}))
        if session_pk is not None
        else []
    )
    session = rows[0] if rows else None
    if session is None or session.banned:
        _check_person(user)  # the ban refusal comes first, as before the session's own checks
    if session is None or not session.activity_live:
        raise _refuse("没有这个场次。", "no_session")
    quantity = _parse_quantity(quantity, session.per_person_limit)
    if session.is_cancelled:
        raise _refuse("该场次已取消。", "session_cancelled")
    if session.activity_original_url:
        raise _refuse("该活动来自其他站点，请到原站点预约。", "pulled_copy")
    if now < session.opens_at:
        raise _refuse(f"预约尚未开始，{timezone.localtime(session.opens_at):%-m月%-d日 %H:%M} 开放预约。", "not_open")
    if now >= session.booking_closes_at:
        raise _refuse("该场次预约已截止。", "closed")
    return session, quantity, _attendee_names(user, quantity, attendees)


_CREATED_MESSAGES = {
    S.CONFIRMED: (
        "bookings.confirmed",
        gettext_lazy("预约成功：{title}"),
        gettext_lazy("取票码 {code}，{when}，请凭电子票或取票码入场。"),
    ),
    S.PENDING: (
        "bookings.pending",
        gettext_lazy("预约已提交，等待审核：{title}"),
        gettext_lazy("审核结果将通过消息通知您。"),
    ),
    S.WAITING: (
        "bookings.waiting",
        gettext_lazy("已加入候补：{title}"),
        gettext_lazy("有名额空出时会为您保留并通知您。"),
    ),
}


def _tell(booking: Booking, message: tuple, **extra) -> None:
    leave(_message(booking, message, **extra))


def _message(booking: Booking, message: tuple, **extra) -> Notification:
    """The person's message about their booking (notifications.draft: not saved yet)."""
    # The texts are lazy: the message is written in the person's language (docs/languages.md).
    kind, title, body = message
    session = booking.session
    values = {
        "title": extra.pop("title", None) or session.activity.title,
        "code": booking.pickup_code,
        "when": Text(gettext_lazy("{time} 开始"), time=LocalTime(session.starts_at)),
        "order": booking.order_number,
        **extra,
    }
    return draft(booking.user, kind, title, body, link=f"/me/bookings/{booking.order_number}/", params=values)


# --- The person's own changes ---------------------------------------------------------------


def _lock(session_id: int) -> None:
    try:
        lock_session(session_id)
    except SessionBusy:
        raise _refuse("系统繁忙，请稍后重试。", "busy") from None


def _locked_booking(booking_id: int) -> Booking:
    """The booking, re-read after taking its session's lock (the status may have moved meanwhile)."""
    session_id = Booking.objects.filter(pk=booking_id).values_list("session_id", flat=True).first()
    if session_id is None:
        raise _refuse("没有这个预约。", "no_booking")
    _lock(session_id)
    return Booking.objects.select_related("session__activity", "user").get(pk=booking_id)


def cancel_booking(booking_id: int, user, *, reason: str = "", by_staff: bool = False) -> Booking:
    """Cancel: the person before the session's cancellation deadline, or staff with a reason."""
    with transaction.atomic():
        booking = _locked_booking(booking_id)
        if not by_staff and booking.user_id != user.pk:
            raise _refuse("没有这个预约。", "no_booking")
        if booking.status not in Booking.ACTIVE:
            raise _refuse(f"该预约当前状态为“{booking.get_status_display()}”，不能取消。", "not_cancellable")
        if by_staff:
            reason = (reason or "").strip()
            if not reason:
                raise _refuse("请填写取消原因。", "reason_required", "reason")
        elif timezone.now() > booking.session.cancellable_until and booking.status not in (S.WAITING, S.HELD):
            deadline = timezone.localtime(booking.session.cancellable_until)
            raise _refuse(f"已过取消截止时间（{deadline:%-m月%-d日 %H:%M}），不能在线取消。", "too_late")
        freed = booking.holds_seats
        booking.status = S.CANCELLED
        booking.reason = reason[:200]
        booking.save(update_fields=["status", "reason", "updated_at"])
        if by_staff:
            _tell(
                booking,
                ("bookings.cancelled", gettext_lazy("预约已被取消：{title}"), gettext_lazy("原因：{reason}")),
                reason=booking.reason,
            )
        if freed:
            offer_freed_seats(booking.session)
        return booking


def confirm_hold(booking_id: int, user) -> Booking:
    """The person takes the seat held for them from the waiting list."""
    with transaction.atomic():
        booking = _locked_booking(booking_id)
        if booking.user_id != user.pk:
            raise _refuse("没有这个预约。", "no_booking")
        if booking.status != S.HELD:
            raise _refuse("没有为您保留的名额，或保留已过期。", "not_held")
        if booking.hold_expires_at and booking.hold_expires_at < timezone.now():
            raise _refuse("名额保留已过期。", "hold_expired")
        booking.status = S.PENDING if booking.session.requires_approval else S.CONFIRMED
        booking.hold_expires_at = None
        booking.save(update_fields=["status", "hold_expires_at", "updated_at"])
        _tell(booking, _CREATED_MESSAGES[booking.status])
        return booking


def offer_freed_seats(session: Session) -> list[Booking]:
    """Hold free seats for the waiting list in order (call with the session's lock held)."""
    if session.is_cancelled or session.starts_at <= timezone.now():
        return []
    free = session.capacity - seats_taken(session)
    hours = rules().hold_hours
    offered = []
    for waiting in Booking.objects.filter(session=session, status=S.WAITING).order_by("created_at", "pk"):
        if waiting.quantity > free:
            break  # first come, first served: nobody jumps the queue with a smaller order
        waiting.status = S.HELD
        waiting.hold_expires_at = min(timezone.now() + timedelta(hours=hours), session.booking_closes_at)
        waiting.save(update_fields=["status", "hold_expires_at", "updated_at"])
        free -= waiting.quantity
        waiting.session = session
        until = timezone.localtime(waiting.hold_expires_at)
        _tell(
            waiting,
            (
                "bookings.held",
                gettext_lazy("候补成功，名额为您保留：{title}"),
                gettext_lazy("请在 {until} 前确认，逾期名额将顺延给下一位。"),
            ),
            until=LocalTime(until),
        )
        offered.append(waiting)
    return offered


# --- Staff ----------------------------------------------------------------------------------


def approve_booking(booking_id: int, staff) -> Booking:
    with transaction.atomic():
        booking = _locked_booking(booking_id)
        if booking.status != S.PENDING:
            raise _refuse(f"该预约当前状态为“{booking.get_status_display()}”，无需审核。", "not_pending")
        booking.status = S.CONFIRMED
        booking.decided_at = timezone.now()
        booking.save(update_fields=["status", "decided_at", "updated_at"])
        _tell(
            booking,
            (
                "bookings.approved",
                gettext_lazy("预约审核通过：{title}"),
                gettext_lazy("取票码 {code}，{when}，请凭电子票或取票码入场。"),
            ),
        )
        return booking


def reject_booking(booking_id: int, staff, reason: str) -> Booking:
    reason = (reason or "").strip()
    if not reason:
        raise _refuse("请填写不通过的原因。", "reason_required", "reason")
    with transaction.atomic():
        booking = _locked_booking(booking_id)
        if booking.status != S.PENDING:
            raise _refuse(f"该预约当前状态为“{booking.get_status_display()}”，无需审核。", "not_pending")
        booking.status = S.REJECTED
        booking.reason = reason[:200]
        booking.decided_at = timezone.now()
        booking.save(update_fields=["status", "reason", "decided_at", "updated_at"])
        _tell(
            booking,
            ("bookings.rejected", gettext_lazy("预约未通过审核：{title}"), gettext_lazy("原因：{reason}")),
            reason=booking.reason,
        )
        offer_freed_seats(booking.session)
        return booking


def ticket_payload(booking: Booking) -> str:
    """What the QR ticket encodes: the site and the pickup code, signed (a forged QR is refused)."""
    return signing.Signer(salt=TICKET_SALT).sign(f"{connection.schema_name}:{booking.pickup_code}")


def _code_from_payload(payload: str) -> str:
    try:
        value = signing.Signer(salt=TICKET_SALT).unsign(payload.strip())
    except signing.BadSignature:
        raise _refuse("无法识别的电子票二维码。", "bad_ticket", "code") from None
    schema, _, code = value.partition(":")
    if schema != connection.schema_name:
        raise _refuse("这张电子票不是本站的，请到预约的站点签到。", "other_site_ticket", "code")
    return code


def check_in(code_or_payload: str, staff) -> Booking:
    """Check a booking in by its pickup code or its QR payload; a second check-in is refused."""
    text = (code_or_payload or "").strip()
    if not text:
        raise _refuse("请输入取票码或扫描电子票二维码。", "code_required", "code")
    code = _code_from_payload(text) if ":" in text else normalize_pickup_code(text)
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("session__activity", "user")
            .filter(pickup_code=code)
            .first()
        )
        if booking is None:
            raise _refuse("取票码无效：本站没有这个取票码。", "unknown_code", "code")
        now = timezone.now()
        if booking.status == S.CHECKED_IN:
            first = timezone.localtime(booking.checked_in_at)
            raise _refuse(f"该票已于 {first:%-m月%-d日 %H:%M:%S} 签到，不能重复签到。", "already_checked_in", "code")
        if booking.status != S.CONFIRMED:
            raise _refuse(f"该预约状态为“{booking.get_status_display()}”，不能签到。", "not_confirmed", "code")
        session = booking.session
        if timezone.localdate(session.starts_at) > timezone.localdate(now):
            raise _refuse(
                f"签到尚未开始：该场次在 {timezone.localtime(session.starts_at):%-m月%-d日 %H:%M}。",
                "too_early",
                "code",
            )
        if now > session.ends_at:
            raise _refuse("该场次已结束，不能签到。", "session_over", "code")
        booking.status = S.CHECKED_IN
        booking.checked_in_at = now
        booking.checked_in_by = staff
        booking.save(update_fields=["status", "checked_in_at", "checked_in_by", "updated_at"])
        return booking


def cancel_session(session_id: int, staff, reason: str) -> int:
    """Staff cancel a whole session: every live booking is cancelled and told why. Returns how many."""
    reason = (reason or "").strip()
    if not reason:
        raise _refuse("请填写场次取消的原因。", "reason_required", "reason")
    with transaction.atomic():
        lock_session(session_id)
        session = Session.objects.select_related("activity").get(pk=session_id)
        if session.is_cancelled:
            raise _refuse("该场次已经取消。", "session_cancelled")
        session.cancelled_at = timezone.now()
        session.cancel_reason = reason[:200]
        session.save(update_fields=["cancelled_at", "cancel_reason"])
        bookings = list(Booking.objects.select_related("user").filter(session=session, status__in=Booking.ACTIVE))
        for booking in bookings:
            booking.session = session
            booking.status = S.CANCELLED
            booking.reason = f"场次取消：{reason}"[:200]
            booking.save(update_fields=["status", "reason", "updated_at"])
            _tell(
                booking,
                ("bookings.session_cancelled", gettext_lazy("活动场次取消：{title}"), gettext_lazy("原因：{reason}")),
                reason=reason,
            )
        return len(bookings)


def message_attendees(session_id: int, staff, title: str, body: str) -> int:
    """A message to everyone holding a ticket for the session; returns how many people got it."""
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise _refuse("请填写消息标题。", "title_required", "title")
    if len(title) > 100:
        raise _refuse("消息标题不能超过 100 个字。", "title_too_long", "title")
    session = Session.objects.select_related("activity").get(pk=session_id)
    with transaction.atomic():
        people = {}
        for booking in Booking.objects.select_related("user").filter(
            session=session, status__in=(S.CONFIRMED, S.CHECKED_IN, S.PENDING)
        ):
            people.setdefault(booking.user_id, booking)
        for booking in people.values():
            notify(
                booking.user,
                "bookings.message",
                gettext_lazy("{activity}：{title}"),
                "{body}",
                link=f"/me/bookings/{booking.order_number}/",
                params={"activity": session.activity.title, "title": title, "body": body},
            )
        return len(people)


def lift_ban(ban_id: int, staff) -> BookingBan:
    with transaction.atomic():
        ban = BookingBan.objects.select_for_update().get(pk=ban_id)
        if ban.lifted_at is not None:
            raise _refuse("该限制已解除。", "already_lifted")
        ban.lifted_at = timezone.now()
        ban.lifted_by = staff
        ban.save(update_fields=["lifted_at", "lifted_by"])
        notify(
            ban.user,
            "bookings.ban_lifted",
            gettext_lazy("您的预约限制已解除"),
            gettext_lazy("现在可以正常预约活动了。"),
        )
        return ban


# --- Upkeep (bookings.tasks, run by the worker every minute in each tenant) -----------------


@dataclass
class UpkeepReport:
    holds_expired: int = 0
    pending_expired: int = 0
    waiting_expired: int = 0
    no_shows: int = 0
    bans: int = 0
    reminders: int = 0


def run_upkeep(now: datetime | None = None) -> UpkeepReport:
    """Pass unconfirmed holds on, expire stale requests, record no-shows, send reminders."""
    now = now or timezone.now()
    report = UpkeepReport()
    site_rules = rules()
    # Holds that ran out and requests nobody decided on: each frees seats for the next in line.
    stale = Q(status=S.HELD, hold_expires_at__lt=now) | Q(
        status=S.PENDING, created_at__lt=now - timedelta(hours=site_rules.pending_expiry_hours)
    )
    for session_id in set(Booking.objects.filter(stale).values_list("session_id", flat=True)):
        with transaction.atomic():
            lock_session(session_id)
            session = Session.objects.select_related("activity").get(pk=session_id)
            for booking in Booking.objects.filter(stale, session=session).select_related("user"):
                was = booking.status
                booking.status = S.EXPIRED
                booking.save(update_fields=["status", "updated_at"])
                booking.session = session
                if was == S.HELD:
                    report.holds_expired += 1
                    _tell(
                        booking,
                        (
                            "bookings.hold_expired",
                            gettext_lazy("候补名额保留已过期：{title}"),
                            gettext_lazy("名额已顺延给下一位候补者。"),
                        ),
                    )
                else:
                    report.pending_expired += 1
                    _tell(
                        booking,
                        (
                            "bookings.expired",
                            gettext_lazy("预约已过期：{title}"),
                            gettext_lazy("预约长时间未审核，已自动过期。"),
                        ),
                    )
            offer_freed_seats(session)
    # Waiting places of sessions that have started will never be served.
    report.waiting_expired = Booking.objects.filter(status=S.WAITING, session__starts_at__lte=now).update(
        status=S.EXPIRED, updated_at=now
    )
    report.no_shows, report.bans = _record_no_shows(now, site_rules)
    report.reminders = _send_reminders(now)
    return report


def _record_no_shows(now: datetime, site_rules: BookingRules) -> tuple[int, int]:
    with transaction.atomic():
        missed = list(
            Booking.objects.select_for_update(of=("self",))
            .filter(status=S.CONFIRMED, session__ends_at__lt=now)
            .values_list("pk", "user_id")
        )
        if not missed:
            return 0, 0
        Booking.objects.filter(pk__in=[pk for pk, _ in missed]).update(status=S.NO_SHOW, updated_at=now)
        bans = 0
        since = now - timedelta(days=site_rules.no_show_window_days)
        for user_id in {user_id for _, user_id in missed}:
            count = Booking.objects.filter(user_id=user_id, status=S.NO_SHOW, session__ends_at__gte=since).count()
            if (
                count >= site_rules.no_show_limit
                and not BookingBan.objects.filter(user_id=user_id, lifted_at__isnull=True, until__gt=now).exists()
            ):
                ban = BookingBan.objects.create(
                    user_id=user_id,
                    until=now + timedelta(days=site_rules.block_days),
                    reason=f"{site_rules.no_show_window_days} 天内爽约 {count} 次",
                )
                bans += 1
                notify(
                    ban.user,
                    "bookings.banned",
                    gettext_lazy("预约功能已暂停"),
                    gettext_lazy("您在 {days} 天内预约后未到场 {count} 次，{until}前不能在本站预约活动。"),
                    link="/me/bookings/",
                    params={
                        "days": site_rules.no_show_window_days,
                        "count": count,
                        "until": LocalTime(ban.until, YEAR_MONTH_DAY),
                    },
                )
        return len(missed), bans


def _send_reminders(now: datetime) -> int:
    due = Booking.objects.select_related("session__activity", "user").filter(
        status=S.CONFIRMED,
        reminded_at__isnull=True,
        session__starts_at__gt=now,
        session__starts_at__lte=now + timedelta(days=1),
    )
    sent = 0
    for booking in due:
        with transaction.atomic():
            if Booking.objects.filter(pk=booking.pk, reminded_at__isnull=True).update(reminded_at=now):
                _tell(
                    booking,
                    ("bookings.reminder", gettext_lazy("活动提醒：{title}"), gettext_lazy("{when}，取票码 {code}。")),
                )
                sent += 1
    return sent


# --- Reading ---------------------------------------------------------------------------------


def bookings_of(user) -> QuerySet[Booking]:
    return Booking.objects.filter(user=user).select_related("session__activity", "session__activity__venue")


def session_counts(session: Session) -> dict[str, int]:
    rows = Booking.objects.filter(session=session).values("status").annotate(n=Count("pk"), seats=Sum("quantity"))
    counts = {row["status"]: row["seats"] or 0 for row in rows}
    return {status: counts.get(status, 0) for status, _ in S.choices}


# --- Rooms (场馆预定) -------------------------------------------------------------------------

R = RoomBooking.Status


def _closed_dates(room_settings: RoomSettings) -> set[date]:
    days = set()
    for line in room_settings.closed_dates.splitlines():
        try:
            days.add(date.fromisoformat(line.strip()))
        except ValueError:
            continue
    return days


def _closed_weekdays(room_settings: RoomSettings) -> set[int]:
    return {int(p) for p in room_settings.closed_weekdays.replace("，", ",").split(",") if p.strip().isdigit()}


def is_closed_on(room_settings: RoomSettings, day: date) -> bool:
    return day.isoweekday() in _closed_weekdays(room_settings) or day in _closed_dates(room_settings)


def day_slots(room_settings: RoomSettings, day: date) -> list[tuple[datetime, datetime]]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, room_settings.opens_at, tzinfo=tz)
    close = datetime.combine(day, room_settings.closes_at, tzinfo=tz)
    step = timedelta(minutes=room_settings.slot_minutes)
    slots = []
    while start + step <= close:
        slots.append((start, start + step))
        start += step
    return slots


def week_calendar(room_settings: RoomSettings, week_start: date) -> list[dict]:
    """Seven days from week_start, each with its slots marked free / taken / past / closed."""
    from psycopg2.extras import DateTimeTZRange

    tz = timezone.get_current_timezone()
    first = datetime.combine(week_start, datetime.min.time(), tzinfo=tz)
    taken = list(
        RoomBooking.objects.filter(
            room=room_settings.room,
            status__in=RoomBooking.ACTIVE,
            during__overlap=DateTimeTZRange(first, first + timedelta(days=7)),
        ).values_list("during", flat=True)
    )
    now = timezone.now()
    days = []
    for offset in range(7):
        day = week_start + timedelta(days=offset)
        closed = is_closed_on(room_settings, day)
        slots = []
        for start, end in [] if closed else day_slots(room_settings, day):
            if any(r.lower < end and start < r.upper for r in taken):
                state = "taken"
            elif start <= now:
                state = "past"
            else:
                state = "free"
            slots.append({"start": start, "end": end, "state": state})
        days.append({"date": day, "closed": closed, "slots": slots})
    return days


# --- Organisations (团体) --------------------------------------------------------------------


def apply_organisation(user, name: str, description: str = "") -> Organisation:
    """The contact person asks for a group to be approved for room bookings on this site."""
    if user is None or not user.is_authenticated:
        raise _refuse("请先登录。", "login_required")
    name, description = (name or "").strip(), (description or "").strip()
    if not name:
        raise _refuse("请填写团体名称。", "name_required", "name")
    if len(name) > 100:
        raise _refuse("团体名称不能超过 100 个字。", "name_too_long", "name")
    if len(description) > 500:
        raise _refuse("团体简介不能超过 500 个字。", "description_too_long", "description")
    with transaction.atomic():
        if Organisation.objects.filter(name=name).exclude(status=Organisation.Status.REJECTED).exists():
            raise _refuse("本站已有同名团体（或其申请正在审核）。", "name_taken", "name")
        try:
            with transaction.atomic():
                return Organisation.objects.create(name=name, description=description, contact=user)
        except IntegrityError:  # a twin request won
            raise _refuse("本站已有同名团体（或其申请正在审核）。", "name_taken", "name") from None


def decide_organisation(organisation_id: int, staff, *, approve: bool, reason: str = "") -> Organisation:
    reason = (reason or "").strip()
    if not approve and not reason:
        raise _refuse("请填写不通过的原因。", "reason_required", "reason")
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().filter(pk=organisation_id).first()
        if organisation is None:
            raise _refuse("没有这个团体。", "no_organisation")
        if organisation.status != Organisation.Status.PENDING:
            raise _refuse(f"该团体当前状态为“{organisation.get_status_display()}”，无需审核。", "not_pending")
        organisation.status = Organisation.Status.APPROVED if approve else Organisation.Status.REJECTED
        organisation.reason = reason[:200]
        organisation.decided_at = timezone.now()
        organisation.save(update_fields=["status", "reason", "decided_at"])
    verdict = (
        gettext_lazy("已通过审核，可以团体名义预定功能室") if approve else gettext_lazy("未通过审核。原因：{reason}")
    )
    notify(organisation.contact, "bookings.organisation_decided", gettext_lazy("团体申请结果：{name}"), verdict,
           link="/me/organisations/", params={"name": organisation.name, "reason": organisation.reason})  # fmt: skip
    return organisation


def organisations_of(user) -> QuerySet[Organisation]:
    """The approved groups this person books for (as their contact) on this site."""
    if user is None or not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(contact=user, status=Organisation.Status.APPROVED)


def _booking_organisation(room_settings: RoomSettings, user, organisation) -> Organisation | None:
    """The group a room booking is made for: required where only approved groups may book."""
    chosen = None
    if organisation not in (None, ""):
        try:
            chosen = organisations_of(user).filter(pk=int(str(organisation))).first()
        except (TypeError, ValueError):
            chosen = None
        if chosen is None:
            raise _refuse("请选择您作为联系人、且已通过审核的团体。", "organisation_invalid", "organisation")
    if chosen is None and room_settings.who_may_book == RoomSettings.WhoMayBook.APPROVED:
        raise _refuse(
            "该功能室仅限经批准的团体预定：请选择您的团体，或先在“我的团体”中申请。", "not_approved", "organisation"
        )
    return chosen


def book_room(
    room_id: int, user, start, slots, purpose: str, *, idempotency_key: str = "", organisation=None
) -> RoomBooking:
    """Book `slots` consecutive slots of a room from `start`. PostgreSQL's exclusion constraint
    (bookings_room_no_overlap) is what makes a double booking impossible; this only explains."""
    from psycopg2.extras import DateTimeTZRange

    idempotency_key = (idempotency_key or "")[:64]
    if user is None or not user.is_authenticated:
        raise _refuse("请先登录后再预定。", "login_required")
    existing = (
        RoomBooking.objects.filter(user=user, idempotency_key=idempotency_key).first() if idempotency_key else None
    )
    if existing is not None:
        return existing
    room_settings = RoomSettings.objects.select_related("room").filter(room_id=room_id, bookable=True).first()
    if room_settings is None:
        raise _refuse("该功能室不开放预定。", "not_bookable")
    group = _booking_organisation(room_settings, user, organisation)
    purpose = (purpose or "").strip()
    if not purpose:
        raise _refuse("请填写用途。", "purpose_required", "purpose")
    if len(purpose) > 200:
        raise _refuse("用途不能超过 200 个字。", "purpose_too_long", "purpose")
    try:
        count = int(str(slots).strip())
    except (TypeError, ValueError):
        raise _refuse("时段数必须是整数。", "slots_invalid", "slots") from None
    if not 1 <= count <= room_settings.max_slots:
        raise _refuse(f"一次可预定 1 至 {room_settings.max_slots} 个连续时段。", "slots_out_of_range", "slots")
    if isinstance(start, str):
        try:
            start = datetime.fromisoformat(start.strip())
        except ValueError:
            raise _refuse("开始时间格式不正确。", "start_invalid", "start") from None
    if timezone.is_naive(start):
        start = timezone.make_aware(start)
    start = timezone.localtime(start)
    day = start.date()
    if is_closed_on(room_settings, day):
        raise _refuse(f"{day:%Y年%-m月%-d日}闭馆，不能预定。", "closed_day", "start")
    grid = day_slots(room_settings, day)
    starts = [s for s, _ in grid]
    if start not in starts:
        raise _refuse(
            f"开始时间不在开放时段内（每日 {room_settings.opens_at:%H:%M}–{room_settings.closes_at:%H:%M}，"
            f"每段 {room_settings.slot_minutes} 分钟）。",
            "outside_hours",
            "start",
        )
    index = starts.index(start)
    if index + count > len(grid):
        raise _refuse(f"所选时段超出闭馆时间 {room_settings.closes_at:%H:%M}。", "past_closing", "slots")
    if start <= timezone.now():
        raise _refuse("不能预定已经开始或过去的时段。", "in_past", "start")
    end = grid[index + count - 1][1]
    status = R.PENDING if room_settings.requires_approval else R.CONFIRMED
    try:
        with transaction.atomic():
            booking = _create_with_unique_codes(
                RoomBooking,
                room=room_settings.room,
                user=user,
                during=DateTimeTZRange(start, end, "[)"),
                purpose=purpose,
                organisation=group,
                status=status,
                idempotency_key=idempotency_key,
            )
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") or ""
        if constraint == "bookings_room_no_overlap":
            raise _refuse("该时段已被预定，请选择其他时段。", "slot_taken", "start") from None
        if constraint == "bookings_room_idempotency":
            return RoomBooking.objects.get(user=user, idempotency_key=idempotency_key)
        raise
    title = (
        gettext_lazy("功能室预定成功：{room}")
        if status == R.CONFIRMED
        else gettext_lazy("功能室预定已提交，等待审核：{room}")
    )
    notify(
        user,
        f"bookings.room_{status}",
        title,
        gettext_lazy("{start}–{end}，用途：{purpose}"),
        link="/me/bookings/",
        params={
            "room": room_settings.room.name,
            "start": LocalTime(start),
            "end": LocalTime(end, "H:i"),
            "purpose": purpose,
        },
    )
    return booking


def cancel_room_booking(room_booking_id: int, user, *, by_staff: bool = False, reason: str = "") -> RoomBooking:
    with transaction.atomic():
        booking = RoomBooking.objects.select_for_update().filter(pk=room_booking_id).first()
        if booking is None or (not by_staff and booking.user_id != user.pk):
            raise _refuse("没有这个预定。", "no_booking")
        if booking.status not in RoomBooking.ACTIVE:
            raise _refuse(f"该预定当前状态为“{booking.get_status_display()}”，不能取消。", "not_cancellable")
        booking.status = R.CANCELLED
        booking.reason = (reason or "").strip()[:200]
        booking.save(update_fields=["status", "reason"])
        return booking


def decide_room_booking(room_booking_id: int, staff, *, approve: bool, reason: str = "") -> RoomBooking:
    with transaction.atomic():
        booking = RoomBooking.objects.select_for_update().select_related("room").get(pk=room_booking_id)
        if booking.status != R.PENDING:
            raise _refuse(f"该预定当前状态为“{booking.get_status_display()}”，无需审核。", "not_pending")
        if not approve and not (reason or "").strip():
            raise _refuse("请填写不通过的原因。", "reason_required", "reason")
        booking.status = R.CONFIRMED if approve else R.REJECTED
        booking.reason = (reason or "").strip()[:200]
        booking.save(update_fields=["status", "reason"])
        notify(
            booking.user,
            "bookings.room_decided",
            gettext_lazy("功能室预定审核通过：{room}") if approve else gettext_lazy("功能室预定未通过：{room}"),
            "{reason}",
            link="/me/bookings/",
            params={"room": booking.room.name, "reason": booking.reason},
        )
        return booking


# --- Calendar feeds (日历订阅) ------------------------------------------------------------------


def calendar_feed(*, room=None, user=None, reset: bool = False) -> CalendarFeed:
    """The secret feed of a room (staff) or of a person's bookings; `reset` gives it a new address."""
    if (room is None) == (user is None):
        raise ValueError("a feed belongs to a room or to a person")
    if not reset:  # 我的预约 shows it on every visit: one read, no transaction, once it exists
        feed = CalendarFeed.objects.filter(room=room, user=user).first()
        if feed is not None:
            return feed
    with transaction.atomic():
        feed, created = CalendarFeed.objects.get_or_create(room=room, user=user)
        if reset and not created:
            feed.token = new_feed_token()
            feed.save(update_fields=["token"])
    return feed


def find_feed(token: str) -> CalendarFeed | None:
    if not token or len(token) > 40:
        return None
    feed = CalendarFeed.objects.select_related("room", "user").filter(token=token).first()
    if feed is not None and feed.user_id and not feed.user.is_active:
        return None  # a deactivated account's calendar is no longer served
    return feed
