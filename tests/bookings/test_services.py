"""The booking state machine, limits, waiting list, no-shows and rooms, through bookings.services."""

from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context

from bookings import services
from bookings.models import Booking, BookingBan, RoomBooking, RoomSettings
from notifications.models import Notification

from . import factories as f

pytestmark = pytest.mark.django_db
S = Booking.Status


@pytest.fixture
def zj():
    with schema_context("zhejiang"):
        yield


def codes(exc_info) -> set[str]:
    exc = exc_info.value
    items = [e for errs in exc.error_dict.values() for e in errs] if hasattr(exc, "error_dict") else exc.error_list
    return {e.code for e in items}


def test_booking_confirms_with_order_number_pickup_code_and_a_message(zj):
    booker = f.person("svc_booker", real_name="陈静")
    session = f.session()
    booking = services.book_seats(session.pk, booker, 2, ["李雷"])
    assert booking.status == S.CONFIRMED and booking.quantity == 2
    assert booking.attendees == ["陈静", "李雷"]
    assert len(booking.order_number) == 16 and booking.order_number.isdigit()
    assert len(booking.pickup_code) == 8 and not set(booking.pickup_code) & set("01OIL")
    note = Notification.objects.get(recipient=booker)
    assert "预约成功" in note.title and booking.pickup_code in note.body


def test_per_person_limit_counts_all_orders_of_the_session(zj):
    booker = f.person("svc_limit")
    session = f.session(per_person_limit=2)
    services.book_seats(session.pk, booker, 1)
    with pytest.raises(ValidationError) as exc:
        services.book_seats(session.pk, booker, 2, ["李雷"])
    assert "person_limit" in codes(exc) and "您已预约 1 个" in str(exc.value)
    services.book_seats(session.pk, booker, 1)
    assert Booking.objects.filter(session=session, user=booker).count() == 2


@pytest.mark.parametrize("quantity", ["0", "-1", "3", "abc", "", "1.5"])
def test_bad_quantities_are_refused_naming_the_field_and_change_nothing(zj, quantity):
    booker = f.person("svc_bad_qty")
    session = f.session(per_person_limit=2)
    with pytest.raises(ValidationError) as exc:
        services.book_seats(session.pk, booker, quantity)
    assert "quantity" in exc.value.message_dict
    assert not Booking.objects.filter(session=session).exists()


def test_sessions_not_open_or_over_or_cancelled_are_refused(zj):
    booker = f.person("svc_window")
    now = timezone.now()
    not_open = f.session(opens_at=now + timedelta(days=1))
    over = f.session(starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1))
    for session, code in [(not_open, "not_open"), (over, "closed")]:
        with pytest.raises(ValidationError) as exc:
            services.book_seats(session.pk, booker, 1)
        assert code in codes(exc)
    cancelled = f.session()
    services.cancel_session(cancelled.pk, None, "暴雨")
    with pytest.raises(ValidationError) as exc:
        services.book_seats(cancelled.pk, booker, 1)
    assert "session_cancelled" in codes(exc)
    assert not Booking.objects.filter(user=booker).exists()


def test_no_real_name_or_not_signed_in_is_refused(zj):
    from django.contrib.auth.models import AnonymousUser

    session = f.session()
    nameless = f.person("svc_nameless", with_id=False)
    with pytest.raises(ValidationError) as exc:
        services.book_seats(session.pk, nameless, 1)
    assert "real_name_required" in codes(exc)
    with pytest.raises(ValidationError) as exc:
        services.book_seats(session.pk, AnonymousUser(), 1)
    assert "login_required" in codes(exc)


def test_attendees_must_be_named_for_each_further_seat(zj):
    booker = f.person("svc_attendees")
    session = f.session(per_person_limit=3)
    with pytest.raises(ValidationError) as exc:
        services.book_seats(session.pk, booker, 3, ["李雷"])
    assert "attendees" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.book_seats(session.pk, booker, 2, ["<script>"])
    assert "attendees" in exc.value.message_dict


def test_same_idempotency_key_returns_the_same_order(zj):
    booker = f.person("svc_idem")
    session = f.session()
    first = services.book_seats(session.pk, booker, 1, idempotency_key="k-123")
    again = services.book_seats(session.pk, booker, 1, idempotency_key="k-123")
    assert again.pk == first.pk
    assert Booking.objects.filter(session=session, user=booker).count() == 1


def test_an_idempotency_key_used_for_another_session_returns_that_order(zj):
    booker = f.person("svc_idem_other")
    first = services.book_seats(f.session().pk, booker, 1, idempotency_key="k-456")
    other = f.session()
    assert services.book_seats(other.pk, booker, 1, idempotency_key="k-456").pk == first.pk
    assert not Booking.objects.filter(session=other).exists()


def test_a_clashing_order_number_or_pickup_code_is_drawn_again(zj, monkeypatch):
    """The insert has no savepoint: a clash rolls the attempt back (lock included) and books again."""
    a, b = f.person("svc_clash_a"), f.person("svc_clash_b")
    session = f.session()
    taken = services.book_seats(session.pk, a, 1)
    numbers = iter([taken.order_number, "2099010112345678"])
    monkeypatch.setattr(services, "_new_order_number", lambda model: next(numbers))
    booking = services.book_seats(session.pk, b, 1)
    assert booking.order_number == "2099010112345678" and booking.status == S.CONFIRMED
    codes_ = iter([taken.pickup_code, "ABCDEFGH"])
    monkeypatch.setattr(services, "_new_order_number", lambda model: "2099010187654321")
    monkeypatch.setattr(services, "_new_pickup_code", lambda: next(codes_))
    c = f.person("svc_clash_c")
    assert services.book_seats(session.pk, c, 1).pickup_code == "ABCDEFGH"
    assert Booking.objects.filter(session=session).count() == 3
    assert Notification.objects.filter(recipient__in=[b, c]).count() == 2  # none left by the clashing attempts


def test_a_banned_person_hears_of_the_ban_first(zj):
    a = f.person("svc_ban_first")
    BookingBan.objects.create(user=a, until=timezone.now() + timedelta(days=7), reason="爽约 3 次")
    for session_id in (f.session().pk, 987654321):  # an open session, and one that does not exist
        with pytest.raises(ValidationError) as exc:
            services.book_seats(session_id, a, 1)
        assert codes(exc) == {"banned"}


def test_full_session_says_sold_out_or_offers_the_waiting_list(zj):
    a, b, c = f.person("svc_full_a"), f.person("svc_full_b"), f.person("svc_full_c")
    session = f.session(capacity=2)
    services.book_seats(session.pk, a, 2, ["李雷"])
    with pytest.raises(ValidationError) as exc:
        services.book_seats(session.pk, b, 1)
    assert "sold_out" in codes(exc) and "已约满" in str(exc.value)
    waiting_b = services.book_seats(session.pk, b, 1, join_waiting_list=True)
    waiting_c = services.book_seats(session.pk, c, 1, join_waiting_list=True)
    assert waiting_b.status == waiting_c.status == S.WAITING


def test_freed_seat_is_held_for_the_next_in_line_who_confirms(zj):
    a, b = f.person("svc_hold_a"), f.person("svc_hold_b")
    session = f.session(capacity=1)
    first = services.book_seats(session.pk, a, 1)
    waiting = services.book_seats(session.pk, b, 1, join_waiting_list=True)
    services.cancel_booking(first.pk, a)
    waiting.refresh_from_db()
    assert waiting.status == S.HELD and waiting.hold_expires_at > timezone.now() + timedelta(minutes=110)
    assert Notification.objects.filter(recipient=b, kind="bookings.held").exists()
    assert services.confirm_hold(waiting.pk, b).status == S.CONFIRMED


def test_unconfirmed_hold_passes_on_by_the_upkeep_task(zj):
    a, b, c = f.person("svc_pass_a"), f.person("svc_pass_b"), f.person("svc_pass_c")
    session = f.session(capacity=1)
    first = services.book_seats(session.pk, a, 1)
    held = services.book_seats(session.pk, b, 1, join_waiting_list=True)
    nxt = services.book_seats(session.pk, c, 1, join_waiting_list=True)
    services.cancel_booking(first.pk, a)
    report = services.run_upkeep(now=timezone.now() + timedelta(hours=3))
    held.refresh_from_db()
    nxt.refresh_from_db()
    assert report.holds_expired == 1
    assert held.status == S.EXPIRED and nxt.status == S.HELD


def test_the_upkeep_task_runs_in_the_tenant_that_queued_it(zj):
    from django_tasks.base import TaskResultStatus

    from bookings.tasks import bookings_upkeep_task
    from tests.core.test_tasks import run

    result = bookings_upkeep_task.enqueue()
    assert run(result.id).status == TaskResultStatus.SUCCESSFUL


def test_approval_and_rejection_once_only(zj):
    a, b = f.person("svc_appr_a"), f.person("svc_appr_b")
    session = f.session(requires_approval=True)
    one = services.book_seats(session.pk, a, 1)
    two = services.book_seats(session.pk, b, 1)
    assert one.status == two.status == S.PENDING
    assert services.approve_booking(one.pk, None).status == S.CONFIRMED
    with pytest.raises(ValidationError) as exc:
        services.approve_booking(one.pk, None)
    assert "not_pending" in codes(exc)
    with pytest.raises(ValidationError):
        services.reject_booking(two.pk, None, "  ")
    rejected = services.reject_booking(two.pk, None, "仅限学校团体")
    assert rejected.status == S.REJECTED and rejected.reason == "仅限学校团体"
    with pytest.raises(ValidationError):
        services.reject_booking(two.pk, None, "again")
    assert Notification.objects.filter(recipient=b, kind="bookings.rejected").exists()


def test_person_cancels_before_deadline_only_and_not_twice(zj):
    a = f.person("svc_cancel")
    late = f.session(starts_at=timezone.now() + timedelta(hours=1), ends_at=timezone.now() + timedelta(hours=3))
    booking = services.book_seats(late.pk, a, 1)
    with pytest.raises(ValidationError) as exc:
        services.cancel_booking(booking.pk, a)
    assert "too_late" in codes(exc)
    staff_cancelled = services.cancel_booking(booking.pk, None, reason="场馆检修", by_staff=True)
    assert staff_cancelled.status == S.CANCELLED
    with pytest.raises(ValidationError) as exc:
        services.cancel_booking(booking.pk, None, reason="again", by_staff=True)
    assert "not_cancellable" in codes(exc)


def test_check_in_by_code_or_signed_qr_and_a_second_time_is_refused(zj):
    a = f.person("svc_checkin")
    now = timezone.now()
    today = f.session(
        starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=2), opens_at=now - timedelta(days=1)
    )
    today.closes_at = now + timedelta(hours=1)
    today.save()
    one = services.book_seats(today.pk, a, 1)
    assert services.check_in(one.pickup_code.lower(), None).status == S.CHECKED_IN
    with pytest.raises(ValidationError) as exc:
        services.check_in(one.pickup_code, None)
    assert "already_checked_in" in codes(exc) and "已于" in str(exc.value)
    b = f.person("svc_checkin_b")
    two = services.book_seats(today.pk, b, 1)
    payload = services.ticket_payload(two)
    assert services.check_in(payload, None).pk == two.pk
    for forged in [payload[:-2] + "xx", "zhejiang:" + two.pickup_code, "ABCDEFGH"]:
        with pytest.raises(ValidationError):
            services.check_in(forged, None)


def test_no_show_rule_bans_and_staff_lift_it(zj):
    a = f.person("svc_noshow")
    now = timezone.now()
    for day in range(3):
        session = f.session(starts_at=now + timedelta(hours=3 + day), ends_at=now + timedelta(hours=4 + day))
        services.book_seats(session.pk, a, 1)
    report = services.run_upkeep(now=now + timedelta(days=1))
    assert report.no_shows >= 3 and report.bans >= 1  # the demo world's bookings of today count too
    assert Booking.objects.filter(user=a, status=S.NO_SHOW).count() == 3
    ban = BookingBan.objects.get(user=a)
    with pytest.raises(ValidationError) as exc:
        services.book_seats(f.session().pk, a, 1)
    assert "banned" in codes(exc) and "爽约 3 次" in str(exc.value)
    services.lift_ban(ban.pk, None)
    assert services.book_seats(f.session().pk, a, 1).status == S.CONFIRMED


def test_reminders_are_sent_once_the_day_before(zj):
    a = f.person("svc_remind")
    session = f.session(starts_at=timezone.now() + timedelta(hours=20), ends_at=timezone.now() + timedelta(hours=22))
    services.book_seats(session.pk, a, 1)
    assert services.run_upkeep().reminders == 1
    assert services.run_upkeep().reminders == 0
    assert Notification.objects.filter(recipient=a, kind="bookings.reminder").count() == 1


# --- Rooms ---------------------------------------------------------------------------------


def _room():
    from cms_pages.models import VenueRoom

    room = VenueRoom.objects.filter(page__locale__language_code="zh-hans").order_by("pk").first()
    settings, _ = RoomSettings.objects.update_or_create(
        room=room, defaults={"bookable": True, "closed_weekdays": "", "closed_dates": "", "requires_approval": False}
    )
    return settings


def _tomorrow_at(hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=2), time(hour, 0)))


def test_room_slots_book_once_and_postgresql_refuses_an_overlap(zj):
    from psycopg2.extras import DateTimeTZRange

    room = _room()
    a, b = f.person("svc_room_a"), f.person("svc_room_b")
    booking = services.book_room(room.room_id, a, _tomorrow_at(10), 2, "读书会")
    assert booking.during.upper - booking.during.lower == timedelta(hours=2)
    with pytest.raises(ValidationError) as exc:
        services.book_room(room.room_id, b, _tomorrow_at(11), 1, "排练")
    assert "slot_taken" in codes(exc)
    # Not only Python: the database itself refuses an overlapping row.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        RoomBooking.objects.create(
            room=room.room,
            user=b,
            order_number="X1",
            during=DateTimeTZRange(_tomorrow_at(11), _tomorrow_at(12)),
            purpose="绕过",
            status="confirmed",
        )
    # A cancelled booking frees the slot; the adjacent slot was free all along.
    assert services.book_room(room.room_id, b, _tomorrow_at(12), 1, "排练")
    services.cancel_room_booking(booking.pk, a)
    assert services.book_room(room.room_id, b, _tomorrow_at(10), 1, "排练").status == "confirmed"


def test_room_bad_input_is_refused(zj):
    room = _room()
    room.closed_dates = (timezone.localdate() + timedelta(days=3)).isoformat()
    room.save()
    a = f.person("svc_room_bad")
    closed_day = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=3), time(10, 0)))
    cases = [
        (_tomorrow_at(7), 1, "排练", "outside_hours"),
        (_tomorrow_at(16), 2, "排练", "past_closing"),
        (closed_day, 1, "排练", "closed_day"),
        (_tomorrow_at(10), 1, "", "purpose_required"),
        (_tomorrow_at(10), 0, "排练", "slots_out_of_range"),
        ("not-a-date", 1, "排练", "start_invalid"),
        (timezone.now() - timedelta(days=1), 1, "排练", "outside_hours"),
    ]
    for start, slots, purpose, code in cases:
        with pytest.raises(ValidationError) as exc:
            services.book_room(room.room_id, a, start, slots, purpose)
        assert code in codes(exc), (start, code, exc.value)
    assert not RoomBooking.objects.filter(user=a).exists()


def test_capacity_never_drops_below_seats_taken_and_a_raise_serves_the_waiting_list(zj):
    session = f.session(capacity=2, per_person_limit=2)
    services.book_seats(session.pk, f.person("svc_cap_a"), 2, ["李雷"])
    waiting = services.book_seats(session.pk, f.person("svc_cap_b"), 1, join_waiting_list=True)
    session.capacity = 1
    with pytest.raises(ValidationError) as exc:
        services.save_session(session)
    assert "capacity_below_taken" in codes(exc) and "已有 2 个座位" in str(exc.value)
    session.refresh_from_db()
    assert session.capacity == 2
    session.capacity = 3
    services.save_session(session)
    waiting.refresh_from_db()
    assert waiting.status == S.HELD


def test_a_lock_held_too_long_is_refused_as_busy_and_the_transaction_stays_usable(zj, monkeypatch):
    """Another request holds the session's lock past the time limit: "busy", nothing booked, and the
    caller's transaction can still read (the refusal page is rendered in it)."""
    from django.db import connection

    from bookings import locking

    booker = f.person("svc_busy")
    session = f.session()
    monkeypatch.setattr(locking, "LOCK_TIMEOUT", "100ms")
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        with other.cursor() as cursor:  # psycopg2 opens a transaction: the lock lasts until rollback
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [locking._schema_key("session"), session.pk])
        with pytest.raises(ValidationError) as refused:
            services.book_seats(session.pk, booker, 1)
        assert codes(refused) == {"busy"}
        assert not Booking.objects.filter(session=session).exists()
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "0"  # the limit did not outlive the savepoint
    finally:
        other.rollback()
        other.close()
    assert services.book_seats(session.pk, booker, 1).status == S.CONFIRMED
