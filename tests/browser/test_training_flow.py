"""A trainee on a phone (360 px) takes 浙江's demo course from end to end: finds it with a Chinese
search, enrols, watches the real 12-second video while the player reports progress, tries to skip
to the end (which does not count), then watches it properly, reads the PDF and text lessons, passes
the quiz and sees the hours credited in 我的学习 (and, once `certificates` is installed, the PDF
certificate and its verification page). axe-core on every page."""

from __future__ import annotations

import io
import secrets

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from playwright.sync_api import expect
from pypdf import PdfReader

from tenants.demo import DEMO_PASSWORD
from training.demo import PROVINCE_COURSE

from .test_content_walk import check_page
from .test_unified_login import sign_in

ZHEJIANG = "zhejiang.culture.localhost"
PHONE_WIDTH = 360


@pytest.fixture
def browser_trainee(django_db_blocker):
    """A new account (committed: the server must see it), and everything it did removed after."""
    from accounts.services import ensure_account
    from certificates.models import Certificate
    from training.models import Enrollment, HoursCredit

    username = f"browser_trainee_{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        user = ensure_account(username, DEMO_PASSWORD, display_name="浏览器学员")
    yield user
    with django_db_blocker.unblock(), schema_context("zhejiang"):
        HoursCredit.objects.filter(user=user).delete()
        Certificate.objects.filter(holder=user).delete()
        Enrollment.objects.filter(user=user).delete()
    with django_db_blocker.unblock():
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)


def correct_choices(django_db_blocker) -> dict[str, list[str]]:
    from training.models import Question

    with django_db_blocker.unblock(), schema_context("zhejiang"):
        return {
            q.text: [c.text for c in q.choices.all() if c.is_correct]
            for q in Question.objects.filter(quiz__course__title=PROVINCE_COURSE).prefetch_related("choices")
        }


def video_status(page) -> str:
    return page.locator("#lesson-status").inner_text()


def test_trainee_takes_a_course_on_a_phone(
    live_platform, phone_page, browser_trainee, forget_browser_sessions, django_db_blocker
):
    page = phone_page
    sign_in(page, live_platform, ZHEJIANG, username=browser_trainee.username)
    expect(page.locator("h1")).to_have_text("个人中心")

    # The catalogue, searched in Chinese.
    page.goto(live_platform.url(ZHEJIANG, "/training/"))
    check_page(page, max_width=PHONE_WIDTH)
    page.get_by_label("搜索课程").fill("数字资源")
    page.get_by_role("button", name="检索").tap()
    page.get_by_role("link", name=PROVINCE_COURSE).tap()
    expect(page.locator("h1")).to_have_text(PROVINCE_COURSE)
    page.get_by_role("button", name="报名学习").tap()
    expect(page.locator(".messages")).to_contain_text("报名成功")
    check_page(page, max_width=PHONE_WIDTH)

    # The video: a skip to the end counts only what was really played.
    page.get_by_role("link", name="导论（视频）").tap()
    video = page.locator("#lesson-video")
    expect(video).to_be_visible()
    check_page(page, max_width=PHONE_WIDTH)
    page.evaluate("() => { const v = document.getElementById('lesson-video'); v.muted = true; return v.play(); }")
    page.wait_for_function("document.getElementById('lesson-video').currentTime > 1")
    page.evaluate("() => { document.getElementById('lesson-video').currentTime = 11; }")
    page.wait_for_function("document.getElementById('lesson-video').ended", timeout=20_000)
    page.wait_for_function("document.getElementById('lesson-status').textContent.includes('已观看')")
    page.wait_for_timeout(500)
    skipped = int(page.locator("#lesson-progress").get_attribute("value") or 0)
    assert skipped < 50 and "已完成" not in video_status(page), video_status(page)

    # Watched from the start, in real time: complete.
    page.evaluate("() => { const v = document.getElementById('lesson-video'); v.currentTime = 0; return v.play(); }")
    page.wait_for_function("document.getElementById('lesson-video').ended", timeout=30_000)
    expect(page.locator("#lesson-status")).to_contain_text("本课时已完成", timeout=10_000)

    # The PDF handout, viewed in the page, then the text lesson.
    page.get_by_role("link", name="下一课时：课程讲义（PDF）").tap()
    expect(page.locator("iframe.pdf-viewer")).to_be_visible()
    check_page(page, max_width=PHONE_WIDTH)
    page.get_by_role("button", name="我已学完").tap()  # too early: the reading time is 10 s
    expect(page.locator(".messages")).to_contain_text("请至少阅读 10 秒")
    page.wait_for_timeout(10_000)
    page.get_by_role("button", name="我已学完").tap()
    expect(page.locator(".messages")).to_contain_text("已学完")
    page.get_by_role("link", name="要点小结").tap()
    page.wait_for_timeout(5_500)
    page.get_by_role("button", name="我已学完").tap()
    expect(page.locator(".course-status")).to_contain_text("已学完 3 / 3 个课时")

    # The quiz: graded on the server, with feedback per question.
    answers = correct_choices(django_db_blocker)
    page.get_by_role("link", name="进入测验").tap()
    check_page(page, max_width=PHONE_WIDTH)
    page.get_by_role("button", name="开始作答").tap()
    check_page(page, max_width=PHONE_WIDTH)
    for fieldset in page.locator(".quiz-form fieldset").all():
        legend = fieldset.locator("legend").inner_text()
        question = next(text for text in answers if text in legend)
        for choice in answers[question]:
            fieldset.get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="提交答卷").tap()
    expect(page.locator(".result")).to_contain_text("得分 100 分，已通过")
    expect(page.locator(".feedback li").first).to_contain_text("回答正确")
    expect(page.locator(".done")).to_contain_text("学时已计入")
    check_page(page, max_width=PHONE_WIDTH)

    # The certificate: a PDF with Chinese text, verifiable on this site.
    page.get_by_role("link", name="查看证书").tap()
    pdf_link = page.get_by_role("link", name="下载证书（PDF）")
    response = page.request.get(live_platform.url(ZHEJIANG, pdf_link.get_attribute("href")))
    assert response.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.body())).pages[0].extract_text()
    assert "培训结业证书" in text and PROVINCE_COURSE in text and "2.0 学时" in text
    page.get_by_role("link", name="验证证书").tap()
    expect(page.locator("main")).to_contain_text("证书有效")
    expect(page.locator("main")).to_contain_text(PROVINCE_COURSE)
    check_page(page, max_width=PHONE_WIDTH)

    # 我的学习: the course done and its 2 专业 hours this year.
    page.goto(live_platform.url(ZHEJIANG, "/me/learning/"))
    expect(page.locator("#hours-heading")).to_be_visible()
    expect(page.locator("main")).to_contain_text("专业 2.0")
    check_page(page, max_width=PHONE_WIDTH)
