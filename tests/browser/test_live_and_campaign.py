"""Two browser windows on a live stream and a campaign: what one does, the other sees at once.

A comment typed in one window appears in the other (the websocket, the Redis channel layer);
a vote cast in one window moves the tally in the other. Both pages: one h1, no sideways
scrolling at 360 px, no serious axe-core violation.
"""

from __future__ import annotations

import re
import uuid

from django.contrib.auth import get_user_model
from django.db import connection
from playwright.sync_api import expect

from .test_content_walk import check_page

ZHEJIANG = "zhejiang.culture.localhost"
DALIAN = "dalian.culture.localhost"
PASSWORD = "Vote-2026-browser"


def _signed_in_window(browser, live_platform, django_db_blocker):
    """A browser window signed in as an account nobody seeded (and nobody voted with).

    The session is made here and handed to the browser as the platform cookie: the sign-in form
    itself is walked in test_unified_login.py."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        user = get_user_model().objects.create_user(
            username=f"viewer{uuid.uuid4().hex[:8]}", password=PASSWORD, first_name="新观众"
        )
        session = SessionStore()
        session.update(
            {
                "_auth_user_id": str(user.pk),
                "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
                "_auth_user_hash": user.get_session_auth_hash(),
            }
        )
        session.create()
    context = browser.new_context(locale="zh-CN")
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
    return context


def test_a_comment_typed_in_one_window_appears_in_the_other(
    live_platform, browser, phone_page, django_db_blocker, forget_browser_sessions
):
    url = live_platform.url(ZHEJIANG, "/live-now/")
    phone_page.goto(url)  # an anonymous viewer on a phone
    expect(phone_page.locator("[data-connection]")).to_contain_text("实时评论已连接")
    expect(phone_page.locator("[data-comment-form]")).to_be_hidden()  # reading only, not signed in
    check_page(phone_page, max_width=360)
    # The demo stream plays in the site's own HLS player (Media Source Extensions, under the CSP).
    video = phone_page.locator("video[data-hls-src]")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    for _ in range(40):  # polled from here: wait_for_function would need eval, which the CSP forbids
        if video.evaluate("v => v.currentTime") > 0.5:
            break
        phone_page.wait_for_timeout(500)
    assert video.evaluate("v => v.currentTime") > 0.5, "the demo stream did not play"
    expect(phone_page.locator("[data-player-note]")).to_be_hidden()

    speaker_context = _signed_in_window(browser, live_platform, django_db_blocker)
    speaker = speaker_context.new_page()
    speaker.goto(url)
    form = speaker.locator("[data-comment-form]")
    expect(form).to_be_visible()
    words = f"越剧唱腔真好听{uuid.uuid4().hex[:4]}"
    speaker.get_by_label("发表评论").fill(words)
    speaker.get_by_role("button", name="发送").click()
    expect(phone_page.locator("[data-comments]")).to_contain_text(words)
    expect(phone_page.locator("[data-comments] li").last).to_contain_text("新观众")
    # Sent again at once: the rate limit answers in Chinese, and nothing new arrives.
    speaker.get_by_label("发表评论").fill("再来一条")
    speaker.get_by_role("button", name="发送").click()
    expect(speaker.locator("[data-form-message]")).to_contain_text("发言太快了")
    speaker_context.close()
    expect(phone_page.locator("[data-comments]")).not_to_contain_text("再来一条")


def test_a_vote_in_one_window_moves_the_tally_in_the_other(
    live_platform, browser, phone_page, django_db_blocker, forget_browser_sessions
):
    url = live_platform.url(DALIAN, "/campaign/")
    phone_page.goto(url)
    check_page(phone_page, max_width=360)
    first_card = phone_page.locator("[data-entry]").first
    votes = first_card.locator("[data-entry-votes]")
    before = int(votes.inner_text())

    voter_context = _signed_in_window(browser, live_platform, django_db_blocker)
    voter = voter_context.new_page()
    voter.goto(url)
    voter.locator("[data-entry]").first.get_by_role("button", name=re.compile("投票")).click()
    expect(voter.locator("[data-vote-message]")).to_have_text("投票成功！今天还可以投 1 票")
    expect(votes).to_have_text(str(before + 1))  # pushed to the other window, no reload
    voter.locator("[data-entry]").first.get_by_role("button", name=re.compile("投票")).click()
    expect(voter.locator("[data-vote-message]")).to_have_text("今天已经为这个作品投过票了，可以投给其他作品")
    expect(votes).to_have_text(str(before + 1))
    voter_context.close()
