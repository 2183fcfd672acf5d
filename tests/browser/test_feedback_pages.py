"""满意度评价 and 需求征集 in Chromium: the demand form (refused, then sent), 我的需求, 我的评价,
the rating form and an activity page with a published answer — each page: one h1, no sideways
scrolling at 360 px, no serious axe-core violation. What the browser stores is removed after."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.browser.conftest import PHONE_USER_AGENT, PHONE_VIEWPORT

from .test_content_walk import check_page

ZHEJIANG = "zhejiang.culture.localhost"


def _phone_window_for(browser, django_db_blocker, username: str):
    """A phone-sized window signed in as a demo account (session handed over as the cookie)."""
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        user = get_user_model().objects.get(username=username)
        session = SessionStore()
        session.update(
            {
                "_auth_user_id": str(user.pk),
                "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
                "_auth_user_hash": user.get_session_auth_hash(),
            }
        )
        session.create()
    context = browser.new_context(
        viewport=PHONE_VIEWPORT, user_agent=PHONE_USER_AGENT, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "domain": ".culture.localhost",
                "path": "/",
            }
        ]
    )
    return context, user


@pytest.fixture
def visitor_window(browser, django_db_blocker, forget_browser_sessions):
    """zhejiang_visitor2 (checked in today, nothing rated yet); their new ratings/requests removed after."""
    from feedback.models import DemandRequest, Rating

    context, user = _phone_window_for(browser, django_db_blocker, "zhejiang_visitor2")
    yield context.new_page()
    context.close()
    with django_db_blocker.unblock(), schema_context("zhejiang"):
        Rating.objects.filter(user=user).delete()
        DemandRequest.objects.filter(user=user).delete()


def test_a_visitor_sends_a_demand_request_and_follows_it(live_platform, visitor_window):
    page = visitor_window
    page.goto(live_platform.url(ZHEJIANG, "/feedback/demand/"))
    expect(page.locator("h1")).to_have_text("需求征集")
    check_page(page, max_width=360)
    page.get_by_role("button", name="提交需求").click()
    expect(page.locator(".error").filter(has_text="需求内容：请填写")).to_be_visible()
    expect(page.locator(".error").filter(has_text="需求类别：请选择一个类别")).to_be_visible()
    check_page(page, max_width=360)
    page.get_by_label("需求类别").select_option(label="非遗")
    page.get_by_label("所在区域").select_option(label="杭州市")
    page.get_by_label("需求内容").fill("希望在社区开设非遗剪纸体验课")
    page.get_by_role("button", name="提交需求").click()
    expect(page).to_have_url(live_platform.url(ZHEJIANG, "/feedback/demand/mine/"))
    card = page.locator(".card").filter(has_text="希望在社区开设非遗剪纸体验课")
    expect(card).to_contain_text("新提交")
    expect(card).to_contain_text("杭州市")
    check_page(page, max_width=360)


def test_a_visitor_rates_what_they_attended_and_sees_published_answers(
    live_platform, visitor_window, django_db_blocker
):
    from feedback.models import Rating

    page = visitor_window
    page.goto(live_platform.url(ZHEJIANG, "/me/bookings/"))
    expect(page.locator(".rating-prompt")).to_contain_text("待评价")
    page.locator(".rating-prompt a").click()
    expect(page.locator("h1")).to_have_text("我的评价")
    check_page(page, max_width=360)
    page.get_by_role("link", name="去评价").first.click()
    expect(page.locator("h1")).to_contain_text("评价活动")
    check_page(page, max_width=360)
    page.get_by_role("button", name="提交评价").click()  # no score chosen
    expect(page.locator(".error").filter(has_text="评分：请选择 1 到 5 分")).to_be_visible()
    page.get_by_label("4 分：满意").check()
    page.get_by_label("评价内容").fill("活动很精彩")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("h1")).to_have_text("我的评价")
    expect(page.locator(".card").filter(has_text="活动很精彩")).to_contain_text("4 分")

    with django_db_blocker.unblock(), schema_context("zhejiang"):
        published = Rating.objects.filter(published=True, kind="activity").select_related("activity").first()
        activity_url, masked = published.activity.url, published.masked_author
    page.goto(live_platform.url(ZHEJIANG, activity_url))
    ratings = page.locator("section.published-ratings")
    expect(ratings.locator("h2")).to_have_text("参与者评价")
    expect(ratings).to_contain_text(masked)
    expect(ratings).to_contain_text("主办方回复")
    check_page(page, max_width=360)
