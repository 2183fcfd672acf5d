"""统计分析 in a real browser: the vendored ECharts draws every chart beside its table (demo roll-ups),
a reversed date range is refused in Chinese, and the national site compares the reporting sites."""

from __future__ import annotations

from playwright.sync_api import expect

ZHEJIANG = "zhejiang.culture.localhost"
NATIONAL = "national.culture.localhost"
PASSWORD = "Wenhua-2026"


def _sign_in(page, live_platform, host: str, username: str, target: str) -> None:
    page.goto(live_platform.url(host, f"/accounts/login/?next={target}"))
    page.get_by_label("手机号、邮箱或用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()


def _charts_drawn(page) -> int:
    charts = page.locator(".stats-chart")
    count = charts.count()
    assert count >= 6
    expect(page.locator(".stats-chart[data-drawn]")).to_have_count(count, timeout=30_000)
    for n in range(count):
        chart = charts.nth(n)
        # An SVG with drawn shapes, and a data table with rows in the same section.
        assert chart.locator("svg path").count() > 3
        section = chart.locator("xpath=ancestor::section[1]")
        assert section.locator("table tbody tr").count() >= 1
    return count


def test_dashboards_draw_their_charts(live_platform, page, forget_browser_sessions):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _sign_in(page, live_platform, ZHEJIANG, "zhejiang_admin", "/admin/statistics/")
    expect(page.get_by_role("heading", name="每日访问量")).to_be_visible(timeout=60_000)
    assert _charts_drawn(page) >= 8
    # The demo's three months show in the visits table (the range is the last 30 days).
    visits = page.locator("#stats-visits table tbody tr")
    assert visits.count() == 30
    assert page.get_by_role("link", name="导出 Excel（全部表格）").is_visible()
    assert page.get_by_role("menuitem", name="统计分析").count() + page.get_by_role("link", name="统计分析").count()

    # A reversed range: refused with a Chinese message, the charts still drawn (last 30 days).
    page.get_by_label("起始日期").fill("2026-03-10")
    page.get_by_label("结束日期").fill("2026-03-01")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("alert")).to_contain_text("结束日期早于起始日期")
    _charts_drawn(page)
    # The refusal is answered with status 400, which the console reports; nothing else went wrong.
    assert [e for e in errors if "status of 400" not in e] == [], errors
    errors.clear()

    page.context.clear_cookies()
    _sign_in(page, live_platform, NATIONAL, "national_admin", "/admin/statistics/national/")
    expect(page.get_by_role("heading", name="各站点对比")).to_be_visible(timeout=60_000)
    _charts_drawn_national(page)
    table = page.locator("#stats-sites table")
    for name in ("浙江", "四川", "大连"):
        expect(table).to_contain_text(name)
    assert not errors, errors


def _charts_drawn_national(page) -> None:
    charts = page.locator(".stats-chart")
    assert charts.count() == 2
    expect(page.locator(".stats-chart[data-drawn]")).to_have_count(2, timeout=30_000)
    assert charts.nth(1).locator("svg path").count() > 3
