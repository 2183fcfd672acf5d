"""A new person registers on a phone, gives the real-name data booking asks for, books, sees the QR
ticket and pickup code, cancels, books again; the front desk checks them in by pickup code on a
phone. Every booking page fits 360 px and has no serious axe-core violation."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tenants.demo import DEMO_PASSWORD

from .test_public_site import serious_violations

ZHEJIANG = "zhejiang.culture.localhost"
PHONE_WIDTH = 360


def check_page(page) -> None:
    expect(page.locator("h1")).to_have_count(1)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways: {width}px"
    violations = serious_violations(page)
    assert violations == [], f"axe-core on {page.url}: " + ", ".join(f"{v['id']} ({v['impact']})" for v in violations)


@pytest.fixture
def todays_session(django_db_blocker):
    """A session happening now on a demo activity, committed (the server sees it), removed after."""
    from bookings.models import Booking, Session
    from cms_pages.models import ActivityPage
    from roles.services import ensure_default_roles

    with django_db_blocker.unblock():
        with schema_context("zhejiang"):
            ensure_default_roles()  # a kept test database may predate the bookings permissions
            activity = ActivityPage.objects.live().filter(locale__language_code="zh-hans", booking_enabled=True).first()
            now = timezone.now()
            session = Session.objects.create(
                activity=activity,
                name="浏览器测试场",
                starts_at=now - timedelta(minutes=30),
                ends_at=now + timedelta(hours=3),
                closes_at=now + timedelta(hours=2),
                cancel_deadline=now + timedelta(hours=1),
                capacity=5,
                opens_at=now - timedelta(days=1),
            )
            activity_url = activity.url
    email = f"walk-{uuid.uuid4().hex[:8]}@example.com"  # the account the walk registers
    yield session, activity, activity_url, email
    with django_db_blocker.unblock(), schema_context("zhejiang"):
        from django.contrib.auth import get_user_model

        from notifications.models import Notification
        from roles.services import remove_member

        bookers = list(Booking.objects.filter(session=session).values_list("user", flat=True))
        Notification.objects.filter(recipient__in=bookers).delete()
        Booking.objects.filter(session=session).delete()
        session.delete()
        # The account the walk registered leaves the site's member list (accounts are never deleted).
        for user in get_user_model().objects.filter(email=email):
            remove_member(user)
            user.is_active = False
            user.save(update_fields=["is_active"])


def sign_in(page, live_platform, username, password):
    page.goto(live_platform.url(ZHEJIANG, "/accounts/login/"))
    page.get_by_label("手机号、邮箱或用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_have_text("个人中心")


def test_a_new_account_books_on_a_phone_cancels_books_again_and_the_front_desk_checks_in(
    forget_queued_tasks, live_platform, browser, phone_page, todays_session, forget_browser_sessions
):
    from tests.bookings.factories import id_number

    session, activity, activity_url, email = todays_session
    page = phone_page
    # A new account, straight from the activity page's sign-up link.
    page.goto(live_platform.url(ZHEJIANG, f"/accounts/register/?next={activity_url}"))
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("昵称").fill("预约新人")
    page.get_by_label("密码", exact=True).fill("Yuyue-2026-walk")
    page.get_by_label("确认密码").fill("Yuyue-2026-walk")
    page.get_by_label("我已阅读并同意").check()
    page.get_by_role("button", name="同意并注册").click()
    expect(page.locator("h1")).to_contain_text(activity.title)
    sessions = page.locator("section.booking-sessions")
    expect(sessions).to_be_visible()
    check_page(page)
    sessions.locator(f'a[href="/bookings/sessions/{session.pk}/"]').click()
    expect(page.locator("h1")).to_contain_text(activity.title)
    # Booking needs the real name: the page says so and leads to the personal centre.
    expect(page.get_by_role("alert")).to_contain_text("预约需要实名信息")
    check_page(page)
    session_url = page.url
    page.get_by_role("link", name="去填写").click()
    page.get_by_label("姓名", exact=True).fill("孙丽")
    page.get_by_label("身份证号").fill(id_number(1_000_000 + uuid.uuid4().int % 18_000_000))
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("dl.saved-real-name")).to_contain_text("孙*")
    page.goto(session_url)
    page.get_by_label("预约数量").fill("0")
    page.get_by_role("button", name="提交预约").click()
    expect(page.get_by_role("alert")).to_contain_text("预约数量：预约数量至少为 1。")
    page.get_by_label("预约数量").fill("1")
    page.get_by_role("button", name="提交预约").click()
    expect(page.locator(".status")).to_have_text("预约成功")
    first_code = page.locator(".pickup-code").inner_text().strip()
    assert len(first_code) == 8
    expect(page.locator(".ticket svg")).to_be_visible()
    check_page(page)
    # Cancelled before the deadline: the ticket says so and the seat is free again.
    page.get_by_role("button", name="取消预约").click()
    expect(page.locator(".status")).to_have_text("已取消")
    expect(page.locator(".ticket svg")).to_have_count(0)
    check_page(page)
    page.goto(session_url)
    expect(page.locator("main")).to_contain_text("剩余 5")
    page.get_by_label("预约数量").fill("1")
    page.get_by_role("button", name="提交预约").click()
    expect(page.locator(".status")).to_have_text("预约成功")
    code = page.locator(".pickup-code").inner_text().strip()
    assert len(code) == 8 and code != first_code
    page.get_by_role("link", name="我的预约").first.click()
    expect(page.get_by_text(code)).to_be_visible()
    expect(page.get_by_label("我的预约日历地址")).to_have_value(re.compile(r"/bookings/feeds/[\w-]{32}\.ics$"))
    check_page(page)
    # 我的团体: a group applies to book rooms in its name; a missing name is named.
    page.get_by_role("link", name="我的团体").click()
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("alert")).to_contain_text("团体名称：请填写团体名称。")
    check_page(page)

    desk_context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    desk = desk_context.new_page()
    try:
        sign_in(desk, live_platform, "zhejiang_admin", DEMO_PASSWORD)
        desk.goto(live_platform.url(ZHEJIANG, "/bookings/staff/check-in/"))
        check_page(desk)
        desk.get_by_label("取票码").fill(code.lower())
        desk.get_by_role("button", name="签到", exact=True).click()
        expect(desk.locator(".check-in-ok")).to_contain_text("签到成功")
        desk.get_by_label("取票码").fill(code)
        desk.get_by_role("button", name="签到", exact=True).click()
        expect(desk.get_by_role("alert")).to_contain_text("不能重复签到")
        check_page(desk)
        desk.goto(live_platform.url(ZHEJIANG, f"/bookings/staff/sessions/{session.pk}/"))
        expect(desk.get_by_text("已签到 1")).to_be_visible()
        check_page(desk)
    finally:
        desk_context.close()
    page.goto(live_platform.url(ZHEJIANG, "/me/bookings/"))
    expect(page.get_by_text("已签到").first).to_be_visible()
