"""A cultural volunteer's whole way on phones: apply → the coordinator approves → sign up for a shift →
check in with the coordinator's rotating code → check out → hours approved → certificate PDF →
public verification page; then the coordinator revokes it in the admin and the page says so.
Every public page fits 360 px and has no serious axe-core violation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import BytesIO

import pypdf
import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tenants.demo import DEMO_PASSWORD

from .test_bookings_walk import ZHEJIANG, check_page, sign_in

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
REAL_NAME = "祝晓雯"
FETCH_BYTES = """async (url) => {
  const response = await fetch(url);
  const data = Array.from(new Uint8Array(await response.arrayBuffer()));
  return {status: response.status, type: response.headers.get("content-type"), data};
}"""


@pytest.fixture
def newcomer_and_shift(django_db_blocker):
    """A new account (no volunteer record yet) and a shift starting in 20 minutes on a demo
    opportunity, committed so the server sees them; everything the walk made is removed after."""
    from django.contrib.auth import get_user_model

    from certificates.models import Certificate
    from notifications.models import Notification
    from roles.services import ensure_default_roles
    from volunteers.models import HourRecord, OpportunityPage, Shift, SignUp, Volunteer

    with django_db_blocker.unblock():
        user = get_user_model().objects.create_user(
            username=f"walk_volunteer_{uuid.uuid4().hex[:8]}", password=DEMO_PASSWORD
        )
        with schema_context("zhejiang"):
            ensure_default_roles()
            page = OpportunityPage.objects.live().first()
            starts = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=20)
            shift = Shift.objects.create(
                opportunity=page,
                title="浏览器测试时段",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                place="省图书馆一楼大厅",
                capacity=3,
            )
            page_url = page.url
    yield user, shift, page_url
    with django_db_blocker.unblock(), schema_context("zhejiang"):
        Certificate.objects.filter(holder=user).delete()
        HourRecord.objects.filter(volunteer__user=user).delete()
        SignUp.objects.filter(shift=shift).delete()
        Volunteer.objects.filter(user=user).delete()
        Notification.objects.filter(recipient=user).delete()
        shift.delete()
        from roles.services import remove_member

        remove_member(user)  # off the site's member list
    with django_db_blocker.unblock():
        user.is_active = False  # accounts are deactivated, never deleted
        user.save(update_fields=["is_active"])


def current_code(desk, live_platform, shift_id: int) -> str:
    desk.goto(live_platform.url(ZHEJIANG, f"/volunteers/manage/shifts/{shift_id}/code/"))
    code = desk.locator(".checkin-code strong").get_attribute("data-code")
    assert code and len(code) == 6 and code.isdigit()
    return code


def test_apply_approve_sign_up_check_in_and_out_hours_certificate_and_verification(
    forget_queued_tasks,
    live_platform,
    browser,
    phone_page,
    newcomer_and_shift,
    forget_browser_sessions,
    django_db_blocker,
):
    from volunteers.models import Shift, SignUp

    user, shift, page_url = newcomer_and_shift
    page = phone_page
    sign_in(page, live_platform, user.username, DEMO_PASSWORD)

    # 1. Apply: a missing field is named; then the application goes in.
    page.goto(live_platform.url(ZHEJIANG, "/volunteers/apply/"))
    check_page(page)
    page.get_by_label("姓名", exact=True).fill(REAL_NAME)
    page.get_by_label("手机号", exact=True).fill("13912345678")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("alert").first).to_contain_text("紧急联系人")
    page.get_by_label("紧急联系人", exact=True).fill("祝建国")
    page.get_by_label("紧急联系人电话").fill("13887654321")
    page.get_by_label("讲解导览").check()
    page.get_by_label("我同意本站记录并保存").check()
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("h1")).to_have_text("我的志愿服务")
    expect(page.get_by_text("您的志愿者申请正在审核中")).to_be_visible()
    check_page(page)

    desk_context = browser.new_context(**PHONE)
    desk = desk_context.new_page()
    try:
        # 2. The coordinator approves it on a phone.
        sign_in(desk, live_platform, "zhejiang_volunteer_coordinator", DEMO_PASSWORD)
        desk.goto(live_platform.url(ZHEJIANG, "/volunteers/manage/"))
        card = desk.locator("li.card", has_text="祝**")
        expect(card).to_have_count(1)
        card.get_by_role("button", name="通过", exact=True).click()
        expect(desk.get_by_role("status").first).to_contain_text("已通过")

        # 3. The volunteer signs up for the shift on the opportunity page.
        page.goto(live_platform.url(ZHEJIANG, page_url))
        check_page(page)
        shift_card = page.locator("li.card", has_text="浏览器测试时段")
        shift_card.get_by_role("button", name="报名").click()
        expect(page.get_by_text("报名成功")).to_be_visible()
        expect(page.locator("li.card", has_text="浏览器测试时段")).to_contain_text("您已报名")

        # 4. Check in with the code on the coordinator's phone; a stale code is refused, a repeat says when.
        page.goto(live_platform.url(ZHEJIANG, f"/volunteers/check/?shift={shift.pk}"))
        check_page(page)
        page.get_by_label("签到码").fill("000000")
        page.get_by_role("button", name="签到", exact=True).click()
        expect(page.get_by_role("alert").first).to_contain_text("签到码")
        code = current_code(desk, live_platform, shift.pk)
        page.get_by_label("签到码").fill(code)
        page.get_by_role("button", name="签到", exact=True).click()
        expect(page.locator("p.verified")).to_contain_text("签到成功")
        page.get_by_label("签到码").fill(current_code(desk, live_platform, shift.pk))
        page.get_by_role("button", name="签到", exact=True).click()
        expect(page.locator("p.verified")).to_contain_text("无需重复签到")

        # Ninety minutes of service pass: the shift began two hours ago, the check-in was at its start.
        with django_db_blocker.unblock(), schema_context("zhejiang"):
            earlier = timedelta(hours=2, minutes=20)
            Shift.objects.filter(pk=shift.pk).update(
                starts_at=shift.starts_at - earlier, ends_at=shift.ends_at - earlier
            )
            signup = SignUp.objects.get(shift=shift)
            SignUp.objects.filter(pk=signup.pk).update(checked_in_at=shift.starts_at - earlier)

        # 5. Check out.
        page.get_by_label("签到码").fill(current_code(desk, live_platform, shift.pk))
        page.get_by_role("button", name="签退", exact=True).click()
        expect(page.locator("p.verified")).to_contain_text("签退成功：本次服务 2 小时")

        # 6. The coordinator approves just these hours.
        desk.goto(live_platform.url(ZHEJIANG, "/volunteers/manage/"))
        hours = desk.locator("section[aria-labelledby=hours-heading]")
        for box in hours.locator("input[name=record]").all():
            box.uncheck()
        hours.locator("tr", has_text="祝**").locator("input[name=record]").check()
        hours.get_by_role("button", name="审核通过所选").click()
        expect(desk.get_by_role("status").first).to_contain_text("已审核通过 1 条")

        # 7. The volunteer sees the hours and gets the certificate.
        page.goto(live_platform.url(ZHEJIANG, "/me/volunteer/"))
        expect(page.locator(".hours")).to_have_text("2.0")
        check_page(page)
        page.get_by_role("button", name="开具最新的服务记录证明").click()
        expect(page.get_by_text("已开具志愿服务记录证明")).to_be_visible()
        mine = page.locator("section[aria-labelledby=certificate-heading]")
        # The PDF as the browser downloads it (with the volunteer's session).
        pdf = page.evaluate(FETCH_BYTES, mine.get_by_role("link", name="下载 PDF").get_attribute("href"))
        assert pdf["status"] == 200 and pdf["type"] == "application/pdf"
        text = "".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(bytes(pdf["data"]))).pages)
        assert "志愿服务记录证明" in text and "兹证明 祝**" in text and "累计服务时长：2 小时" in text
        assert REAL_NAME not in text and "浙江" in text

        # 8. The public verification page, for anyone with the code.
        verify_url = mine.get_by_role("link", name="核验", exact=True).get_attribute("href")
        stranger_context = browser.new_context(**PHONE)
        stranger = stranger_context.new_page()
        try:
            stranger.goto(live_platform.url(ZHEJIANG, verify_url))
            expect(stranger.locator("p.verified")).to_contain_text("证书有效")
            expect(stranger.locator("dl.facts")).to_contain_text("祝**")
            expect(stranger.locator("dl.facts")).to_contain_text("2 小时")
            check_page(stranger)

            # 9. The coordinator revokes it in the admin with a reason; the page says so at once.
            desk.goto(live_platform.url(ZHEJIANG, "/admin/volunteer-certificates/"))
            desk.locator("tr", has_text="祝**").get_by_role("link", name="撤销").click()
            desk.get_by_label("撤销原因").fill("签到记录有误，重新核定")
            desk.get_by_role("button", name="确认撤销").click()
            expect(desk.get_by_text("已撤销证书")).to_be_visible()
            stranger.reload()
            expect(stranger.get_by_role("alert")).to_contain_text("该证书已撤销")
            expect(stranger.get_by_role("alert")).to_contain_text("签到记录有误，重新核定")
        finally:
            stranger_context.close()
    finally:
        desk_context.close()
