"""What a visitor and a site admin see in a real browser: directory, tenant sites, 404, admin isolation."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

PLATFORM = "culture.localhost"
ZHEJIANG = "zhejiang.culture.localhost"
SICHUAN = "sichuan.culture.localhost"
BLOCKING_IMPACTS = {"serious", "critical"}


def serious_violations(page) -> list[dict]:
    """axe-core violations of impact serious or critical on the page, printed for the test log."""
    results = Axe().run(page)
    violations = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    for violation in violations:
        print(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            print(f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '')}")
    return violations


def test_phone_visitor_goes_from_directory_to_zhejiang(live_platform, phone_page):
    phone_page.goto(live_platform.url(PLATFORM))
    expect(phone_page.locator("h1")).to_have_text("文化云站点目录")
    link = phone_page.get_by_role("link", name="浙江文化云", exact=True)
    expect(link).to_have_attribute("href", live_platform.url(ZHEJIANG))  # the live port, not 8000
    link.tap()
    expect(phone_page).to_have_url(live_platform.url(ZHEJIANG))
    expect(phone_page.locator("h1")).to_have_text("浙江文化云")
    # Mobile-first theme: nothing wider than the phone's screen (measured once images and scripts
    # have settled; a failure names the elements that stick out, to see what made it wide).
    phone_page.wait_for_load_state("networkidle")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    sticking_out = phone_page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > 361)
            .slice(0, 8)
            .map((e) => `${e.tagName}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`)"""
    )
    assert width <= 360, sticking_out


def test_unknown_host_shows_chinese_404(live_platform, page):
    response = page.goto(live_platform.url("nowhere.culture.localhost", "/some/page/"))
    assert response.status == 404
    expect(page.locator("body")).to_contain_text("找不到这个站点")


@pytest.mark.parametrize("host", [PLATFORM, ZHEJIANG], ids=["directory", "zhejiang-home"])
def test_no_serious_accessibility_violations(live_platform, page, host):
    response = page.goto(live_platform.url(host))
    assert response.status == 200
    violations = serious_violations(page)
    assert violations == [], "axe-core: " + ", ".join(f"{v['id']} ({v['impact']})" for v in violations)


def test_zhejiang_admin_logs_in_and_has_no_access_to_sichuan_admin(live_platform, page, forget_browser_sessions):
    page.goto(live_platform.url(ZHEJIANG, "/admin/login/"))
    page.locator("input[name=username]").fill("zhejiang_admin")
    page.locator("input[name=password]").fill("Wenhua-2026")
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(live_platform.url(ZHEJIANG, "/admin/"))
    expect(page.locator(".w-dashboard")).to_be_visible()
    expect(page.locator(".w-dashboard h1")).to_have_text("浙江文化云")

    # Same browser context, another tenant's admin: zhejiang_admin has no role in sichuan, so
    # sichuan's admin sends them to a login page or says they lack permission; no dashboard.
    page.goto(live_platform.url(SICHUAN, "/admin/"))
    assert page.url.startswith(live_platform.url(SICHUAN, "/")), page.url
    if "/login/" in urlsplit(page.url).path:
        expect(page.locator("input[type=password]")).to_be_visible()
    else:
        expect(page.get_by_text(re.compile("没有权限|permission", re.IGNORECASE)).first).to_be_visible()
    expect(page.locator(".w-dashboard")).to_have_count(0)
