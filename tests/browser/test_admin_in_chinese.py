"""No English leaks on the admin pages an editor uses most (real browser, signed in as a site admin)."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

ZHEJIANG = "zhejiang.culture.localhost"
PASSWORD = "Wenhua-2026"
# Latin words that are not English interface text: names, codes, the language list's own names.
ALLOWED = {
    "English", "Vahcuengh", "zhejiang", "admin", "editor", "moderator", "operator", "culture", "localhost",
    "URL", "API", "PDF", "ICP", "SEO", "ID", "OpenCC", "RSS", "HTML", "CSS", "JavaScript", "Ctrl", "Shift", "Alt",
    "Enter", "Esc", "Tab", "http", "https", "www", "com", "mp", "news", "jpg", "png", "svg",
    # The English site name is a name: its field's help text gives "Zhejiang Culture Cloud" as the example.
    "Zhejiang", "Culture", "Cloud",
}  # fmt: skip
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")


@pytest.fixture
def admin_pages(django_db_blocker):
    from cms_pages.models import HomePage, NewsPage

    with django_db_blocker.unblock(), schema_context("zhejiang"):
        home = HomePage.objects.get(locale__language_code="zh-hans")
        article = NewsPage.objects.filter(locale__language_code="zh-hans").first()
        return {
            "dashboard": "/admin/",
            "page explorer": f"/admin/pages/{home.pk}/",
            "editor": f"/admin/pages/{article.pk}/edit/",
            "moderation": "/admin/reports/workflow/",
            "settings": "/admin/settings/themes/branding/",
            "members": "/admin/members/",
            "booking sessions": "/admin/booking_sessions/",
            "live comments": "/admin/live_comments/",
            "campaign entries": "/admin/campaign_entries/",
        }


def english_words(text: str) -> list[str]:
    text = re.sub(r"\S+@\S+|https?://\S+|/\S*|\S+\.\S+", " ", text)  # addresses, paths, file names
    text = re.sub(r"\w+(?:_\w+)+", " ", text)  # user names (zhejiang_vol_coordinator)
    words = [w for w in WORD.findall(text) if w not in ALLOWED]
    return sorted(set(words))


def test_admin_pages_have_no_english(live_platform, page, admin_pages, forget_browser_sessions):
    page.goto(live_platform.url(ZHEJIANG, "/accounts/login/?next=/admin/"))
    page.get_by_label("手机号、邮箱或用户名").fill("zhejiang_admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator(".w-dashboard")).to_be_visible(timeout=60_000)
    leaks = {}
    for name, path in admin_pages.items():
        response = page.goto(live_platform.url(ZHEJIANG, path))
        assert response.status == 200, (name, path, response.status)
        page.wait_for_load_state("networkidle")
        words = english_words(page.locator("body").inner_text())
        title_words = english_words(page.title())
        if words or title_words:
            leaks[name] = words + title_words
    assert leaks == {}, leaks
