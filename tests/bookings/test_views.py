"""Booking pages: the public's, 我的预约, the front desk; roles per tenant; nothing crosses tenants."""

import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from django_tenants.utils import schema_context
from icalendar import Calendar
from openpyxl import load_workbook

from bookings import services
from bookings.models import Booking, RoomSettings
from notifications.models import Notification
from roles.services import ensure_default_roles
from tenants.demo import DEMO_PASSWORD

from . import factories as f

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"


@pytest.fixture(autouse=True)
def roles_up_to_date():
    # A kept test database may predate the bookings permissions of the default roles.
    for schema in ("zhejiang", "sichuan"):
        with schema_context(schema):
            ensure_default_roles()


@pytest.fixture
def booker(client):
    user = f.person("view_booker", real_name="赵敏")
    assert client.login(username=user.username, password=f.PASSWORD)
    return user


@pytest.fixture
def zj_session():
    with schema_context("zhejiang"):
        now = timezone.now()
        return f.session(
            starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=3), closes_at=now + timedelta(hours=2)
        )


def zj_room(**settings):
    """zhejiang's first room, bookable every day with these settings (call inside its schema)."""
    from cms_pages.models import VenueRoom

    room = VenueRoom.objects.filter(page__locale__language_code="zh-hans").order_by("pk").first()
    defaults = {"bookable": True, "closed_weekdays": "", "requires_approval": False, "who_may_book": "members"}
    RoomSettings.objects.update_or_create(room=room, defaults={**defaults, **settings})
    return room


def staff_client(username):
    from django.test import Client

    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def test_book_see_ticket_calendar_and_cancel(client, booker, zj_session):
    page = client.get(f"/bookings/sessions/{zj_session.pk}/", HTTP_HOST=ZJ)
    assert page.status_code == 200 and "提交预约" in page.content.decode()
    response = client.post(
        f"/bookings/sessions/{zj_session.pk}/",
        {"quantity": "2", "attendee": ["周芷若"], "idempotency_key": "v1"},
        HTTP_HOST=ZJ,
    )
    assert response.status_code == 302
    with schema_context("zhejiang"):
        booking = Booking.objects.get(user=booker)
    ticket = client.get(response["Location"], HTTP_HOST=ZJ).content.decode()
    assert booking.pickup_code in ticket and "<svg" in ticket and "预约成功" in ticket
    mine = client.get("/me/bookings/", HTTP_HOST=ZJ).content.decode()
    assert booking.pickup_code in mine
    assert "我的预约" in client.get("/me/", HTTP_HOST=ZJ).content.decode()
    ics = client.get(f"/me/bookings/{booking.order_number}/calendar.ics", HTTP_HOST=ZJ)
    [event] = Calendar.from_ical(ics.content).walk("VEVENT")
    assert event.decoded("dtstart") == zj_session.starts_at.replace(microsecond=0) and booking.pickup_code in str(
        event["description"]
    )
    # Resubmitting the same form (same key) shows the same order.
    again = client.post(
        f"/bookings/sessions/{zj_session.pk}/",
        {"quantity": "2", "attendee": ["周芷若"], "idempotency_key": "v1"},
        HTTP_HOST=ZJ,
    )
    assert again["Location"] == response["Location"]
    client.post(f"/me/bookings/{booking.order_number}/cancel/", HTTP_HOST=ZJ)  # past the deadline: refused
    with schema_context("zhejiang"):
        booking.refresh_from_db()
        assert booking.status == "confirmed"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"quantity": "0"}, "预约数量：预约数量至少为 1。"),
        ({"quantity": "-3"}, "预约数量：预约数量至少为 1。"),
        ({"quantity": "9"}, "预约数量：预约数量不能超过每人限约的 2 个。"),
        ({"quantity": "两"}, "预约数量：预约数量必须是整数。"),
        ({"quantity": "2"}, "入场人："),
    ],
)
def test_bad_input_shows_a_chinese_message_naming_the_field_and_books_nothing(
    client, booker, zj_session, form, message
):
    response = client.post(f"/bookings/sessions/{zj_session.pk}/", form, HTTP_HOST=ZJ)
    assert response.status_code == 400 and message in response.content.decode()
    with schema_context("zhejiang"):
        assert not Booking.objects.filter(user=booker).exists()


def test_signed_out_or_without_real_name(client, zj_session):
    response = client.post(f"/bookings/sessions/{zj_session.pk}/", {"quantity": "1"}, HTTP_HOST=ZJ)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    nameless = f.person("view_nameless", with_id=False)
    client.force_login(nameless)
    page = client.get(f"/bookings/sessions/{zj_session.pk}/", HTTP_HOST=ZJ).content.decode()
    assert "请先在个人中心填写姓名和身份证号" in page
    response = client.post(f"/bookings/sessions/{zj_session.pk}/", {"quantity": "1"}, HTTP_HOST=ZJ)
    assert response.status_code == 400 and "实名信息" in response.content.decode()


def test_a_booking_of_tenant_a_is_invisible_and_unusable_on_tenant_b(client, booker, zj_session):
    with schema_context("zhejiang"):
        booking = services.book_seats(zj_session.pk, booker, 1)
        payload = services.ticket_payload(booking)
    for path in [f"/me/bookings/{booking.order_number}/", f"/me/bookings/{booking.order_number}/calendar.ics"]:
        assert client.get(path, HTTP_HOST=SC).status_code == 404
    assert booking.pickup_code not in client.get("/me/bookings/", HTTP_HOST=SC).content.decode()
    assert client.post(f"/me/bookings/{booking.order_number}/cancel/", HTTP_HOST=SC).status_code == 404
    desk = staff_client("sichuan_admin")
    refused = desk.post("/bookings/staff/check-in/", {"code": booking.pickup_code}, HTTP_HOST=SC).content.decode()
    assert "本站没有这个取票码" in refused
    refused = desk.post("/bookings/staff/check-in/", {"code": payload}, HTTP_HOST=SC).content.decode()
    assert "不是本站的" in refused
    export = desk.get(f"/bookings/staff/sessions/{zj_session.pk}/export.xlsx", HTTP_HOST=SC)
    if export.status_code == 200:  # sichuan may have its own session with that id: never zhejiang's rows
        rows = list(load_workbook(io.BytesIO(export.content)).active.values)
        assert booking.order_number not in {row[2] for row in rows}
    else:
        assert export.status_code == 404
    with schema_context("zhejiang"):
        booking.refresh_from_db()
        assert booking.status == "confirmed"
    # zhejiang's admin has no front desk on sichuan.
    assert staff_client("zhejiang_admin").get("/bookings/staff/", HTTP_HOST=SC).status_code == 403


def test_front_desk_needs_the_role_permission(client, zj_session):
    response = client.get("/bookings/staff/", HTTP_HOST=ZJ)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert staff_client("zhejiang_editor").get("/bookings/staff/check-in/", HTTP_HOST=ZJ).status_code == 403
    assert (
        staff_client("zhejiang_editor").get(f"/bookings/staff/sessions/{zj_session.pk}/", HTTP_HOST=ZJ).status_code
        == 403
    )
    admin = staff_client("zhejiang_admin")
    home = admin.get("/bookings/staff/", HTTP_HOST=ZJ)
    assert home.status_code == 200 and zj_session.activity.title in home.content.decode()


def test_check_in_by_pickup_code_then_a_second_time_says_when(booker, zj_session):
    with schema_context("zhejiang"):
        booking = services.book_seats(zj_session.pk, booker, 1)
    desk = staff_client("zhejiang_admin")
    page = desk.get("/bookings/staff/check-in/", HTTP_HOST=ZJ).content.decode()
    assert "check-in.js" in page and "<script>" not in page
    ok = desk.post("/bookings/staff/check-in/", {"code": booking.pickup_code.lower()}, HTTP_HOST=ZJ)
    assert ok.status_code == 200 and "签到成功" in ok.content.decode()
    again = desk.post("/bookings/staff/check-in/", {"code": booking.pickup_code}, HTTP_HOST=ZJ)
    assert again.status_code == 409 and "已于" in again.content.decode() and "不能重复签到" in again.content.decode()
    bad = desk.post("/bookings/staff/check-in/", {"code": "ZZZZZZZZ"}, HTTP_HOST=ZJ)
    assert bad.status_code == 400 and "取票码：" in bad.content.decode()


def test_export_masks_personal_data_unless_the_role_allows(booker, zj_session):
    from accounts.services import set_personal_data

    set_personal_data(booker, mobile="13912345678")
    with schema_context("zhejiang"):
        booking = services.book_seats(zj_session.pk, booker, 1)
    desk = staff_client("zhejiang_admin")
    rows = list(
        load_workbook(
            io.BytesIO(desk.get(f"/bookings/staff/sessions/{zj_session.pk}/export.xlsx", HTTP_HOST=ZJ).content)
        ).active.values
    )
    assert rows[0][:6] == ("活动名称", "场次", "订单ID", "联系人", "联系电话", "身份证号")
    [row] = [r for r in rows if r[2] == booking.order_number]
    assert row[3] == "赵*" and row[4] == "139****5678" and "********" in row[5] and row[8] == booking.pickup_code
    with schema_context("zhejiang"):
        Group.objects.get(name="站点管理员").permissions.add(Permission.objects.get(codename="view_personal_data"))
    desk = staff_client("zhejiang_admin")
    rows = list(
        load_workbook(
            io.BytesIO(desk.get(f"/bookings/staff/sessions/{zj_session.pk}/export.xlsx", HTTP_HOST=ZJ).content)
        ).active.values
    )
    [row] = [r for r in rows if r[2] == booking.order_number]
    assert row[3] == "赵敏" and row[4] == "13912345678" and row[5] == booker.id_number


def test_staff_approve_reject_and_message_attendees(booker):
    with schema_context("zhejiang"):
        session = f.session(requires_approval=True)
        booking = services.book_seats(session.pk, booker, 1)
    desk = staff_client("zhejiang_admin")
    listing = desk.get(f"/bookings/staff/sessions/{session.pk}/?status=pending", HTTP_HOST=ZJ).content.decode()
    assert booking.order_number in listing and "待审核 1" in listing
    desk.post(f"/bookings/staff/bookings/{booking.pk}/approve/", HTTP_HOST=ZJ)
    twice = desk.post(f"/bookings/staff/bookings/{booking.pk}/approve/", HTTP_HOST=ZJ, follow=True).content.decode()
    assert "无需审核" in twice
    desk.post(
        f"/bookings/staff/sessions/{session.pk}/message/",
        {"title": "入场提醒", "body": "请提前 15 分钟到场"},
        HTTP_HOST=ZJ,
    )
    with schema_context("zhejiang"):
        booking.refresh_from_db()
        assert booking.status == "confirmed"
        assert Notification.objects.filter(
            recipient=booker, kind="bookings.message", body="请提前 15 分钟到场"
        ).exists()


def test_activity_page_lists_sessions_and_a_pulled_copy_links_to_the_original(client, zj_session):
    activity = zj_session.activity
    with schema_context("zhejiang"):
        activity.booking_enabled, activity.capacity = True, 100
        activity.save()
        url = activity.url
    html = client.get(url, HTTP_HOST=ZJ).content.decode()
    assert f"/bookings/sessions/{zj_session.pk}/" in html
    with schema_context("zhejiang"):
        activity.original_url = "http://national.culture.localhost:8000/activities/x/"
        activity.save()
    html = client.get(url + "?fresh=1", HTTP_HOST=ZJ).content.decode()
    assert "前往原站预约" in html and "http://national.culture.localhost:8000/activities/x/" in html
    assert f"/bookings/sessions/{zj_session.pk}/" not in html


def test_room_week_calendar_and_booking_from_the_venue_page(client, booker):
    with schema_context("zhejiang"):
        room = zj_room()
        venue_url = room.page.url
    assert f"/bookings/rooms/{room.pk}/" in client.get(venue_url, HTTP_HOST=ZJ).content.decode()
    week = client.get(f"/bookings/rooms/{room.pk}/?week=not-a-date", HTTP_HOST=ZJ)
    assert week.status_code == 200 and "提交预定" in week.content.decode()
    day = timezone.localdate() + timedelta(days=2)
    start = f"{day.isoformat()}T14:00:00+08:00"
    ok = client.post(f"/bookings/rooms/{room.pk}/", {"start": start, "slots": "1", "purpose": "合唱排练"}, HTTP_HOST=ZJ)
    assert ok.status_code == 302
    taken = client.post(
        f"/bookings/rooms/{room.pk}/", {"start": start, "slots": "1", "purpose": "合唱排练"}, HTTP_HOST=ZJ
    )
    assert taken.status_code == 409 and "该时段已被预定" in taken.content.decode()
    outside = client.post(
        f"/bookings/rooms/{room.pk}/",
        {"start": f"{day.isoformat()}T22:00:00+08:00", "slots": "1", "purpose": "x"},
        HTTP_HOST=ZJ,
    )
    assert outside.status_code == 400 and "开始时间：" in outside.content.decode()
    desk = staff_client("zhejiang_admin")
    feed = desk.get(f"/bookings/staff/rooms/{room.pk}/calendar.ics", HTTP_HOST=ZJ)
    assert any("合唱排练" in str(e["summary"]) for e in Calendar.from_ical(feed.content).walk("VEVENT"))
    # The room booking belongs to zhejiang: sichuan's 我的预约 does not show it.
    assert "合唱排练" in client.get("/me/bookings/", HTTP_HOST=ZJ).content.decode()
    assert "合唱排练" not in client.get("/me/bookings/", HTTP_HOST=SC).content.decode()


def test_staff_room_list_approves_a_pending_room_booking(booker):
    from datetime import datetime, time

    with schema_context("zhejiang"):
        room = zj_room(requires_approval=True)
        start = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=4), time(9, 0)))
        pending = services.book_room(room.pk, booker, start, 1, "书法沙龙")
    assert pending.status == "pending"
    desk = staff_client("zhejiang_admin")
    listing = desk.get(f"/bookings/staff/rooms/{room.pk}/", HTTP_HOST=ZJ).content.decode()
    assert "书法沙龙" in listing and "待审核" in listing
    desk.post(f"/bookings/staff/room-bookings/{pending.pk}/approve/", HTTP_HOST=ZJ)
    with schema_context("zhejiang"):
        pending.refresh_from_db()
        assert pending.status == "confirmed"
        assert Notification.objects.filter(recipient=booker, kind="bookings.room_decided").exists()


def test_a_ban_is_shown_to_the_person_and_lifted_by_staff(client, booker, zj_session):
    from bookings.models import BookingBan

    with schema_context("zhejiang"):
        ban = BookingBan.objects.create(
            user=booker, until=timezone.now() + timedelta(days=30), reason="90 天内爽约 3 次"
        )
    page = client.get(f"/bookings/sessions/{zj_session.pk}/", HTTP_HOST=ZJ).content.decode()
    assert "90 天内爽约 3 次" in page and "提交预约" not in page
    assert "90 天内爽约 3 次" in client.get("/me/bookings/", HTTP_HOST=ZJ).content.decode()
    desk = staff_client("zhejiang_admin")
    assert "90 天内爽约 3 次" in desk.get("/bookings/staff/", HTTP_HOST=ZJ).content.decode()
    desk.post(f"/bookings/staff/bans/{ban.pk}/lift/", HTTP_HOST=ZJ)
    assert "提交预约" in client.get(f"/bookings/sessions/{zj_session.pk}/", HTTP_HOST=ZJ).content.decode()


def test_admin_refuses_a_capacity_below_the_seats_taken_naming_the_field(booker, zj_session):
    with schema_context("zhejiang"):
        services.book_seats(zj_session.pk, booker, 2, ["李雷"])
    admin = staff_client("zhejiang_admin")
    url = f"/admin/booking_sessions/edit/{zj_session.pk}/"
    local = timezone.localtime
    form = {
        "activity": zj_session.activity_id,
        "name": "",
        "starts_at": f"{local(zj_session.starts_at):%Y-%m-%d %H:%M}",
        "ends_at": f"{local(zj_session.ends_at):%Y-%m-%d %H:%M}",
        "capacity": "1",
        "opens_at": f"{local(zj_session.opens_at):%Y-%m-%d %H:%M}",
        "closes_at": f"{local(zj_session.closes_at):%Y-%m-%d %H:%M}",
        "cancel_deadline": "",
        "per_person_limit": "2",
        "waiting_list": "on",
    }
    refused = admin.post(url, form, HTTP_HOST=ZJ)
    assert refused.status_code == 200 and "名额不能少于已预约的座位数" in refused.content.decode()
    with schema_context("zhejiang"):
        zj_session.refresh_from_db()
        assert zj_session.capacity == 10
    accepted = admin.post(url, {**form, "capacity": "2"}, HTTP_HOST=ZJ)
    assert accepted.status_code == 302
    with schema_context("zhejiang"):
        zj_session.refresh_from_db()
        assert zj_session.capacity == 2


def test_a_group_applies_is_approved_and_books_a_room_open_to_approved_groups_only(client, booker):
    from datetime import datetime, time

    from bookings.models import Organisation

    with schema_context("zhejiang"):
        room = zj_room(who_may_book="approved")
    day = timezone.localdate() + timedelta(days=3)
    start = timezone.make_aware(datetime.combine(day, time(10, 0))).isoformat()
    url = f"/bookings/rooms/{room.pk}/"
    alone = client.post(url, {"start": start, "slots": "1", "purpose": "排练"}, HTTP_HOST=ZJ)
    assert alone.status_code == 400 and "预定团体：该功能室仅限经批准的团体预定" in alone.content.decode()
    empty = client.post("/me/organisations/", {"name": " "}, HTTP_HOST=ZJ)
    assert empty.status_code == 400 and "团体名称：请填写团体名称。" in empty.content.decode()
    assert (
        client.post("/me/organisations/", {"name": "西湖合唱团", "description": "40 人"}, HTTP_HOST=ZJ).status_code
        == 302
    )
    twin = client.post("/me/organisations/", {"name": "西湖合唱团"}, HTTP_HOST=ZJ)
    assert twin.status_code == 400 and "同名团体" in twin.content.decode()
    with schema_context("zhejiang"):
        group = Organisation.objects.get(name="西湖合唱团")
    pending = client.post(
        url, {"start": start, "slots": "1", "purpose": "排练", "organisation": group.pk}, HTTP_HOST=ZJ
    )
    assert pending.status_code == 400 and "已通过审核的团体" in pending.content.decode()
    # The front desk approves it; a second decision is refused.
    desk = staff_client("zhejiang_admin")
    assert "西湖合唱团" in desk.get("/bookings/staff/", HTTP_HOST=ZJ).content.decode()
    desk.post(f"/bookings/staff/organisations/{group.pk}/approve/", HTTP_HOST=ZJ)
    again = desk.post(f"/bookings/staff/organisations/{group.pk}/reject/", {"reason": "x"}, HTTP_HOST=ZJ, follow=True)
    assert "无需审核" in again.content.decode()
    with schema_context("zhejiang"):
        assert Notification.objects.filter(recipient=booker, kind="bookings.organisation_decided").exists()
    with schema_context("sichuan"):
        assert not Notification.objects.filter(recipient=booker, kind="bookings.organisation_decided").exists()
    form = client.get(url, HTTP_HOST=ZJ).content.decode()
    assert f'<option value="{group.pk}">西湖合唱团</option>' in form
    booked = client.post(url, {"start": start, "slots": "1", "purpose": "排练", "organisation": group.pk}, HTTP_HOST=ZJ)
    assert booked.status_code == 302
    assert "西湖合唱团" in desk.get(f"/bookings/staff/rooms/{room.pk}/", HTTP_HOST=ZJ).content.decode()
    # Somebody else cannot book in the group's name; the group is unknown on sichuan.
    other = f.person("view_org_other")
    from django.test import Client

    stranger = Client()
    stranger.force_login(other)
    later = timezone.make_aware(datetime.combine(day, time(14, 0))).isoformat()
    refused = stranger.post(url, {"start": later, "slots": "1", "purpose": "x", "organisation": group.pk}, HTTP_HOST=ZJ)
    assert refused.status_code == 400 and "预定团体：" in refused.content.decode()
    assert "西湖合唱团" not in client.get("/me/organisations/", HTTP_HOST=SC).content.decode()


def test_calendar_feeds_are_secret_addresses_a_calendar_app_can_subscribe_to(client, booker, zj_session):
    import re

    from django.test import Client

    with schema_context("zhejiang"):
        booking = services.book_seats(zj_session.pk, booker, 1)
        services.cancel_booking(booking.pk, None, reason="场馆临时闭馆", by_staff=True)
        kept = services.book_seats(zj_session.pk, booker, 1)
    mine = client.get("/me/bookings/", HTTP_HOST=ZJ).content.decode()
    url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', mine).group(1)
    path = urlsplit(url).path
    app = Client()  # a calendar app: no cookies, no login
    feed = app.get(path, HTTP_HOST=ZJ)
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    events = {str(e["uid"]).split("@")[0]: e for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    assert str(events[f"booking-{kept.order_number}"]["status"]) == "CONFIRMED"
    assert str(events[f"booking-{booking.order_number}"]["status"]) == "CANCELLED"
    assert kept.pickup_code in str(events[f"booking-{kept.order_number}"]["description"])
    # The address is unknown on another site, and dead once the person replaces it.
    assert app.get(path, HTTP_HOST=SC).status_code == 404
    client.post("/me/bookings-calendar/reset/", HTTP_HOST=ZJ)
    assert app.get(path, HTTP_HOST=ZJ).status_code == 404
    mine = client.get("/me/bookings/", HTTP_HOST=ZJ).content.decode()
    new_path = urlsplit(re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', mine).group(1)).path
    assert new_path != path and app.get(new_path, HTTP_HOST=ZJ).status_code == 200
    booker.is_active = False  # a deactivated account's calendar is no longer served
    booker.save(update_fields=["is_active"])
    assert app.get(new_path, HTTP_HOST=ZJ).status_code == 404
    assert app.get("/bookings/feeds/not-a-token.ics", HTTP_HOST=ZJ).status_code == 404


def test_calendar_addresses_and_event_links_are_on_the_sites_primary_url(client, booker, zj_session, settings):
    """The subscription address shown, the room's feed address and each event's URL are on the
    tenant's primary public URL (scheme, host, port) whatever Host was asked, and they open; event
    UIDs name the primary host, so asking on another host never duplicates an event (issue 10)."""
    import re

    from django.test import Client

    base = f"http://{ZJ}:{settings.PLATFORM_PORT}"
    with schema_context("zhejiang"):
        booking = services.book_seats(zj_session.pk, booker, 1)
        room = zj_room()
    for asked in (ZJ, f"{ZJ}:9999"):
        mine = client.get("/me/bookings/", HTTP_HOST=asked).content.decode()
        feed_url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', mine).group(1)
        assert feed_url.startswith(f"{base}/bookings/feeds/"), feed_url
        desk = staff_client("zhejiang_admin").get(f"/bookings/staff/rooms/{room.pk}/", HTTP_HOST=asked)
        room_feed = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', desk.content.decode()).group(1)
        assert room_feed.startswith(f"{base}/bookings/feeds/"), room_feed
        feed = Client().get(urlsplit(feed_url).path, HTTP_HOST=urlsplit(feed_url).netloc)
        assert feed.status_code == 200
        single = client.get(f"/me/bookings/{booking.order_number}/calendar.ics", HTTP_HOST=asked)
        for ics in (feed.content, single.content):
            [event] = [
                e
                for e in Calendar.from_ical(ics).walk("VEVENT")
                if str(e["uid"]).startswith(f"booking-{booking.order_number}@")
            ]
            assert str(event["uid"]) == f"booking-{booking.order_number}@{ZJ}"
            assert str(event["url"]) == f"{base}/me/bookings/{booking.order_number}/"
    assert Client().get(urlsplit(room_feed).path, HTTP_HOST=urlsplit(room_feed).netloc).status_code == 200
    event_url = urlsplit(str(event["url"]))
    assert client.get(event_url.path, HTTP_HOST=event_url.netloc).status_code == 200


def test_a_rooms_feed_for_the_staff_calendar_shows_no_names_and_can_be_replaced(booker):
    import re
    from datetime import datetime, time

    from django.test import Client

    with schema_context("zhejiang"):
        room = zj_room()
        start = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=5), time(9, 0)))
        services.book_room(room.pk, booker, start, 1, "古琴雅集")
    desk = staff_client("zhejiang_admin")
    page = desk.get(f"/bookings/staff/rooms/{room.pk}/", HTTP_HOST=ZJ).content.decode()
    path = urlsplit(re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', page).group(1)).path
    feed = Client().get(path, HTTP_HOST=ZJ)
    [event] = [e for e in Calendar.from_ical(feed.content).walk("VEVENT") if "古琴雅集" in str(e["summary"])]
    assert "赵" not in feed.content.decode("utf-8") and str(event["status"]) == "CONFIRMED"
    desk.post(f"/bookings/staff/rooms/{room.pk}/calendar/reset/", HTTP_HOST=ZJ)
    assert Client().get(path, HTTP_HOST=ZJ).status_code == 404
    assert (
        staff_client("zhejiang_editor")
        .post(f"/bookings/staff/rooms/{room.pk}/calendar/reset/", HTTP_HOST=ZJ)
        .status_code
        == 403
    )


def test_query_budget_of_the_booking_post_and_my_bookings(client, booker, django_assert_max_num_queries):
    """Booking is the busiest write of the site (docs/bookings.md, "Speed"): its queries are counted.

    The POST: the web session and the account, BEGIN, the session with the ban check folded in, one
    round trip for the lock with the statement that counts, decides and inserts the booking and its
    message (no savepoint: a code clash retries the whole booking), COMMIT. 我的预约: the account,
    the bookings, the room bookings, the ban, the calendar address (one read once it exists) and the rating prompt.
    """
    with schema_context("zhejiang"):
        first, second = f.session(capacity=5), f.session(capacity=5)
    client.get("/me/bookings/", HTTP_HOST=ZJ)  # warm: the site, its branding, the calendar address
    client.post(f"/bookings/sessions/{first.pk}/", {"quantity": "1", "idempotency_key": "b1"}, HTTP_HOST=ZJ)
    with django_assert_max_num_queries(7):
        response = client.post(
            f"/bookings/sessions/{second.pk}/", {"quantity": "1", "idempotency_key": "b2"}, HTTP_HOST=ZJ
        )
    assert response.status_code == 302
    with django_assert_max_num_queries(9):
        page = client.get("/me/bookings/", HTTP_HOST=ZJ)
    assert page.status_code == 200 and page.content.decode().count('class="card"') >= 2
    with schema_context("zhejiang"):
        assert Booking.objects.filter(user=booker, status="confirmed").count() == 2
