"""A trainee on a 360 px phone: enrol → watch a real 40-second video while the player reports
progress → a skip (seek to the end, and a forged report) that does not count → finish watching →
a text lesson → the quiz → the certificate PDF (text extracted and checked) → the verification
page. Every page fits 360 px and has no serious axe-core violation."""

from __future__ import annotations

import base64
import io
import json
import time
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from .test_bookings_walk import PHONE_WIDTH, ZHEJIANG, check_page, sign_in

COURSE = "浏览器测试：非遗数字化采集实务"
VIDEO = Path(__file__).resolve().parents[2] / "training" / "demo_media" / "lesson-40s.mp4"
CAPTIONS = b"WEBVTT\n\n00:00.000 --> 00:40.000\n\xe9\x9d\x9e\xe9\x81\x97\xe6\x95\xb0\xe5\xad\x97\xe5\x8c\x96\xe9\x87\x87\xe9\x9b\x86\n"


@pytest.fixture
def video_course(django_db_blocker):
    """A committed 浙江 course: a 40 s video with captions, a text lesson, a two-question quiz."""
    from certificates.models import Certificate
    from notifications.models import Notification
    from tests.bookings.factories import person
    from training import services
    from training.demo import _document
    from training.models import Course, HoursCredit, Lesson, Question, Quiz

    with django_db_blocker.unblock():
        learner = person("browser_trainee", real_name="欧阳学员")
        with schema_context("zhejiang"):
            video = _document("浏览器测试视频", "browser-lesson-40s.mp4", VIDEO.read_bytes())
            captions = _document("浏览器测试字幕", "browser-lesson.vtt", CAPTIONS)
            course = services.save_course(
                Course(title=COURSE, category=Course.Category.HERITAGE, credit_hours=Decimal("1.5"))
            )
            chapter = services.add_chapter(course, "第一章 采集流程")
            Lesson.objects.create(
                chapter=chapter,
                title="采集流程（视频）",
                kind=Lesson.Kind.VIDEO,
                video=video,
                captions=captions,
                duration_seconds=40,
            )
            Lesson.objects.create(
                chapter=chapter, title="采集规范（图文）", kind=Lesson.Kind.TEXT, body="规范正文", position=1
            )
            quiz = Quiz.objects.create(course=course, draw_count=0, time_limit_minutes=10, max_attempts=2, pass_mark=60)
            services.add_question(
                quiz,
                Question.Kind.SINGLE,
                "非遗数字化采集首先要做什么？",
                [("制定采集方案", True), ("直接拍摄", False)],
            )
            services.add_question(quiz, Question.Kind.TRUE_FALSE, "采集前应征得传承人同意。", [("正确", True)])
            services.publish_course(course)
    yield course, learner
    with django_db_blocker.unblock(), schema_context("zhejiang"):
        Certificate.objects.filter(holder=learner).delete()
        HoursCredit.objects.filter(user=learner).delete()
        Notification.objects.filter(recipient=learner).delete()
        Course.objects.filter(pk=course.pk).delete()
        video.delete()
        captions.delete()


def wait_until(page, condition: str, seconds: float) -> None:
    """Poll a JavaScript condition (wait_for_function evaluates strings, which the CSP forbids)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(f"() => Boolean({condition})"):
        assert time.monotonic() < deadline, f"not true after {seconds} s: {condition}"
        page.wait_for_timeout(200)


def watched(course, learner) -> tuple[float, bool]:
    """What the server recorded for the video lesson: seconds watched, complete."""
    from training.models import LessonProgress

    progress = LessonProgress.objects.get(enrollment__course=course, enrollment__user=learner, lesson__kind="video")
    return progress.watched_seconds, progress.completed_at is not None


def test_a_trainee_completes_a_course_on_a_phone_and_a_skip_does_not_count(
    live_platform, phone_page, forget_queued_tasks, video_course, django_db_blocker, forget_browser_sessions
):
    from tests.bookings.factories import PASSWORD

    course, learner = video_course
    page = phone_page
    sign_in(page, live_platform, learner.username, PASSWORD)

    page.goto(live_platform.url(ZHEJIANG, "/training/?q=非遗数字化"))
    check_page(page)
    page.get_by_role("link", name=COURSE).click()
    page.get_by_role("button", name="报名学习").click()
    expect(page.get_by_text("报名成功")).to_be_visible()
    check_page(page)

    # Play 3 s, then drag to the end: what was skipped is not watched.
    page.get_by_role("link", name="采集流程（视频）").click()
    check_page(page)
    expect(page.locator("#lesson-video track")).to_have_attribute("srclang", "zh")
    page.evaluate("() => { const v = document.getElementById('lesson-video'); v.muted = true; v.play(); }")
    wait_until(page, "document.getElementById('lesson-video').currentTime >= 3", 15)
    page.evaluate("() => { document.getElementById('lesson-video').currentTime = 37; }")
    wait_until(page, "document.getElementById('lesson-video').ended", 15)
    # A forged report claiming the whole video, sent from the page with the player's session.
    forged = page.evaluate(
        """async () => {
            const config = JSON.parse(document.getElementById('player-config').textContent);
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const answer = await fetch(config.progressUrl, {method: 'POST', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
                body: JSON.stringify({session: config.session, seq: 999, start: 0, end: 40})});
            return answer.json();
        }"""
    )
    assert forged["message"] == "只计入实际观看的时长。" and not forged["completed"]
    with django_db_blocker.unblock(), schema_context("zhejiang"):
        seconds, complete = watched(course, learner)
    # 3 s played + 3 s from 37 to the end + what the forged report's real time allows (≈ 1 s).
    assert 4 <= seconds <= 12 and not complete, seconds
    expect(page.locator("#lesson-status")).not_to_contain_text("本课时已完成")

    # Watching the rest for real (a reload is a new player session) completes the lesson.
    page.reload()
    page.evaluate(
        "() => { const v = document.getElementById('lesson-video'); v.muted = true; v.currentTime = 3; v.play(); }"
    )
    expect(page.locator("#lesson-status")).to_contain_text("本课时已完成", timeout=60000)
    with django_db_blocker.unblock(), schema_context("zhejiang"):
        seconds, complete = watched(course, learner)
    assert complete and seconds >= 36

    page.get_by_role("link", name="下一课时：采集规范（图文）").click()
    page.get_by_role("button", name="我已学完").click()
    expect(page.get_by_text("已学完 2 / 2 个课时")).to_be_visible()

    page.get_by_role("link", name="进入测验").click()
    check_page(page)
    page.get_by_role("button", name="开始作答").click()
    page.get_by_label("制定采集方案").check()
    page.get_by_label("正确").check()
    check_page(page)
    page.get_by_role("button", name="提交答卷").click()
    expect(page.get_by_role("status")).to_contain_text("得分 100 分，已通过")
    expect(page.get_by_text("课程已完成，学时已计入。")).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="查看证书").click()
    pdf_link = page.get_by_role("link", name="下载证书（PDF）")
    # Fetched by the page itself (Chromium resolves *.localhost; Playwright's own client does not).
    pdf = page.evaluate(
        """async (url) => {
            const answer = await fetch(url, {credentials: 'same-origin'});
            const bytes = new Uint8Array(await answer.arrayBuffer());
            let binary = '';
            for (const byte of bytes) binary += String.fromCharCode(byte);
            return {status: answer.status, type: answer.headers.get('content-type'), body: btoa(binary)};
        }""",
        pdf_link.get_attribute("href"),
    )
    assert pdf["status"] == 200 and pdf["type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(base64.b64decode(pdf["body"])))
    text = "".join(p.extract_text() for p in reader.pages)
    for expected in ("培训结业证书", COURSE, "1.5 学时（专业）", "欧*"):
        assert expected in text, (expected, text)
    assert "欧阳学员" not in text  # the holder's name is masked

    page.get_by_role("link", name="验证证书").click()
    expect(page.get_by_role("status")).to_contain_text("证书有效")
    expect(page.get_by_text(COURSE)).to_be_visible()
    check_page(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert json.dumps(forged)  # the forged answer was JSON, not an error page
