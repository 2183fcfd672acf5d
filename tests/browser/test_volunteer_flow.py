"""A volunteer's whole path on a phone (360 px), with the coordinator on another phone:
apply → approved → sign up → check in by code → check out → hours approved → certificate PDF →
public verification page. axe-core on the pages volunteers and the public see.

The server sees committed data only: this test commits a person, an opportunity and its shift in
浙江, and removes them (and what the flow created) afterwards.
"""

from __future__ import annotations

import datetime
import re
import uuid
from io import BytesIO

import pypdf
import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tenants.demo import DEMO_PASSWORD

from .conftest import PHONE_USER_AGENT, PHONE_VIEWPORT
from .test_content_walk import check_page

ZJ = "zhejiang.culture.localhost"


@pytest.fixture
def world(django_db_blocker):
    """A new person, a coordinator and an opportunity with one shift (committed), removed afterwards."""
    from django.contrib.auth import get_user_model

    from roles.services import grant_role
    from tests.volunteers.factories import opportunity
    from volunteers.models import Shift

    User = get_user_model()
    run = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        person = User.objects.create_user(username=f"flow_person_{run}", password=DEMO_PASSWORD)
        boss = User.objects.create_user(username=f"flow_boss_{run}", password=DEMO_PASSWORD)
        with schema_context("zhejiang"):
            grant_role(boss, "志愿者管理员")
        page = opportunity(title=f"图书馆少儿阅读志愿服务{run}")
        starts = timezone.now().replace(microsecond=0) + datetime.timedelta(days=2)
        with schema_context("zhejiang"):
            shift = Shift.objects.create(
                opportunity=page,
                starts_at=starts,
                ends_at=starts + datetime.timedelta(hours=3),
                place="少儿阅览室",
                capacity=3,
            )
            page_url = page.get_url()
    yield {"person": person, "boss": boss, "page": page, "page_url": page_url, "shift": shift}
    with django_db_blocker.unblock(), schema_context("zhejiang"):
        from certificates.models import Certificate
        from notifications.models import Notification
        from roles.models import Membership
        from volunteers.models import HourRecord, OpportunityPage, SignUp, Volunteer

        Certificate.objects.filter(holder__in=[person, boss]).delete()
        Notification.objects.filter(recipient__in=[person, boss]).delete()
        HourRecord.objects.filter(shift=shift).delete()
        SignUp.objects.filter(shift=shift).delete()
        Shift.objects.filter(pk=shift.pk).delete()
        Volunteer.objects.filter(user=person).delete()
        OpportunityPage.objects.get(pk=page.pk).delete()
        Membership.objects.filter(user__in=[person, boss]).delete()
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        User.objects.filter(pk__in=[person.pk, boss.pk]).update(is_active=False)


def _phone(browser):
    return browser.new_context(
        viewport=PHONE_VIEWPORT,
        screen=PHONE_VIEWPORT,
        user_agent=PHONE_USER_AGENT,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )


def _sign_in(page, live_platform, username):
    page.goto(live_platform.url(ZJ, "/accounts/login/"))
    page.get_by_label("手机号、邮箱或用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(live_platform.url(ZJ, "/me/"))


def test_volunteer_flow_on_a_phone(live_platform, browser, world, django_db_blocker, forget_browser_sessions):
    from volunteers import services

    width = PHONE_VIEWPORT["width"]
    volunteer_context, boss_context = _phone(browser), _phone(browser)
    me, boss = volunteer_context.new_page(), boss_context.new_page()
    try:
        # Apply (a mistake first: the field is named, nothing is saved).
        _sign_in(me, live_platform, world["person"].username)
        me.get_by_role("link", name="我的志愿服务").click()
        check_page(me, max_width=width)
        me.get_by_role("link", name="申请成为志愿者").click()
        check_page(me, max_width=width)
        me.get_by_label("姓名").fill("周晓彤")
        me.get_by_label("手机号").fill("1381234")
        me.get_by_label("紧急联系人", exact=True).fill("周建华")
        me.get_by_label("紧急联系人电话").fill("13987654321")
        me.get_by_label("讲解导览").check()
        me.get_by_label("周六上午").check()
        me.get_by_role("button", name="提交申请").click()
        expect(me.get_by_text("手机号：手机号格式不正确")).to_be_visible()
        expect(me.get_by_text("同意记录：请阅读并同意")).to_be_visible()
        me.get_by_label("手机号").fill("13812345678")
        me.get_by_label(re.compile("我同意本站记录")).check()
        me.get_by_role("button", name="提交申请").click()
        expect(me.get_by_text("申请已提交")).to_be_visible()

        # The coordinator approves it on the dashboard.
        _sign_in(boss, live_platform, world["boss"].username)
        boss.goto(live_platform.url(ZJ, "/volunteers/manage/"))
        check_page(boss, max_width=width)
        card = boss.locator("li.card", has_text="周**")
        card.get_by_role("button", name="通过", exact=True).click()
        expect(boss.get_by_text("已通过 周** 的申请")).to_be_visible()

        # Sign up on the opportunity page (public, so axe checks it).
        me.goto(live_platform.url(ZJ, world["page_url"]))
        check_page(me, max_width=width)
        expect(me.get_by_text("剩余 3 个名额")).to_be_visible()
        me.get_by_role("button", name="报名").click()
        expect(me.get_by_text("报名成功")).to_be_visible()
        expect(me.get_by_text("剩余 2 个名额")).to_be_visible()

        # The shift begins (the clock moves: the shift is moved to have started 40 minutes ago).
        with django_db_blocker.unblock(), schema_context("zhejiang"):
            from volunteers.models import Shift

            starts = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=40)
            Shift.objects.filter(pk=world["shift"].pk).update(
                starts_at=starts, ends_at=starts + datetime.timedelta(hours=3)
            )
            shift = Shift.objects.get(pk=world["shift"].pk)

        # The coordinator's phone shows the code; the volunteer types it.
        boss.goto(live_platform.url(ZJ, f"/volunteers/manage/shifts/{shift.pk}/code/"))
        shown = boss.locator("[data-code]").get_attribute("data-code")
        with django_db_blocker.unblock(), schema_context("zhejiang"):
            assert (
                shown == services.current_checkin_code(shift)[0]
                or shown == services.current_checkin_code(shift, at=timezone.now().timestamp() - 60)[0]
            )
        me.goto(live_platform.url(ZJ, "/me/volunteer/"))
        check_page(me, max_width=width)
        me.get_by_role("link", name="签到 / 签退").click()
        me.get_by_label("签到码").fill(shown)
        me.get_by_role("button", name="签到", exact=True).click()
        expect(me.get_by_text("签到成功")).to_be_visible()
        me.get_by_label("签到码").fill(shown)
        me.get_by_role("button", name="签到", exact=True).click()
        expect(me.get_by_text(re.compile(r"您已于 \d\d:\d\d 签到，无需重复签到"))).to_be_visible()
        me.get_by_label("签到码").fill(shown)
        me.get_by_role("button", name="签退").click()
        expect(me.get_by_text("签退成功")).to_be_visible()

        # Hours approved on the dashboard.
        boss.goto(live_platform.url(ZJ, "/volunteers/manage/"))
        for box in boss.locator("input[name=record]").all():  # only this volunteer's record
            box.uncheck()
        boss.locator("tr", has_text="周**").locator("input[name=record]").check()
        boss.get_by_role("button", name="审核通过所选").click()
        expect(boss.get_by_text("已审核通过 1 条时长记录")).to_be_visible()

        # The certificate: PDF text, then the public verification page.
        me.goto(live_platform.url(ZJ, "/me/volunteer/"))
        expect(me.locator(".hours")).not_to_have_text("0.0")
        me.get_by_role("button", name="开具最新的服务记录证明").click()
        expect(me.get_by_text("已开具志愿服务记录证明")).to_be_visible()
        pdf_href = me.get_by_role("link", name="下载 PDF").first.get_attribute("href")
        pdf = me.request.get(live_platform.url(ZJ, pdf_href))
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
        text = "".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(pdf.body())).pages)
        assert "志愿服务记录证明" in text and "兹证明 周**" in text and "累计服务时长" in text and "周晓彤" not in text
        me.get_by_role("link", name="核验", exact=True).first.click()
        expect(me.get_by_text("证书有效")).to_be_visible()
        expect(me.get_by_text("周**")).to_be_visible()
        check_page(me, max_width=width)
        code_url = me.url
        visitor = _phone(browser).new_page()
        visitor.goto(code_url)
        expect(visitor.get_by_text("浙江文化云").first).to_be_visible()
        visitor.goto(live_platform.url("sichuan.culture.localhost", code_url.split(":" + str(live_platform.port))[1]))
        expect(visitor.get_by_text("未找到该证书")).to_be_visible()
        visitor.context.close()
    finally:
        volunteer_context.close()
        boss_context.close()
