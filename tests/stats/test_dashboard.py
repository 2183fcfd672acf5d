"""The tenant and national dashboards: who may see them, date ranges, exports, national aggregation."""

from datetime import date, timedelta
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from stats import national, services
from stats.models import DailyCount, ReportingSite, RolledDay, SiteDailyTotal

pytestmark = pytest.mark.django_db
ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"
NATIONAL = "national.culture.localhost"
User = get_user_model()
DAY = date(2022, 5, 10)


def _seed(schema: str, views: int, day: date = DAY) -> None:
    with schema_context(schema):
        DailyCount.objects.filter(day=day).delete()
        DailyCount.objects.bulk_create(
            [
                DailyCount(day=day, metric="page_views", count=views),
                DailyCount(day=day, metric="page_views", subject="/唯一页面/", count=views),
                DailyCount(day=day, metric="search_empty", subject="无人机表演", count=3),
                DailyCount(day=day, metric="volunteer_hours", count=2, amount=5),
            ]
        )
        RolledDay.objects.update_or_create(day=day, defaults={"rolled_at": services.day_bounds(day)[1]})


def _login(client, username: str):
    client.force_login(User.objects.get(username=username))


RANGE = {"start": DAY.isoformat(), "end": (DAY + timedelta(days=1)).isoformat()}


def test_site_admin_sees_the_dashboard_of_their_site_only(client):
    _seed("zhejiang", 4321)
    _seed("sichuan", 1234)
    _login(client, "zhejiang_admin")
    page = client.get("/admin/statistics/", RANGE, HTTP_HOST=ZJ)
    assert page.status_code == 200
    html = page.content.decode()
    for title in ("每日访问量", "热门页面", "热门资源", "无结果的搜索词", "预约与到场", "志愿服务与培训"):
        assert title in html
    assert "4321" in html and "无人机表演" in html and "/唯一页面/" in html
    assert "1234" not in html
    assert 'class="stats-chart"' in html and "echarts-5.6.0.min.js" in html
    # 浙江's administrator has no dashboard in 四川, and an editor has none anywhere.
    assert client.get("/admin/statistics/", RANGE, HTTP_HOST=SC).status_code in (302, 403)
    _login(client, "zhejiang_editor")
    assert client.get("/admin/statistics/", RANGE, HTTP_HOST=ZJ).status_code in (302, 403)
    assert client.get("/admin/statistics/export/", RANGE, HTTP_HOST=ZJ).status_code in (302, 403)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2022-05-10", "end": "2022-05-01"}, "结束日期早于起始日期"),
        ({"start": "", "end": "2022-05-01"}, "请填写起始日期"),
        ({"start": "2022-05-01", "end": ""}, "请填写结束日期"),
        ({"start": "2020-01-01", "end": "2022-05-01"}, "日期范围过长"),
        ({"start": "2022-13-01", "end": "2022-05-01"}, "起始日期格式不正确"),
    ],
)
def test_bad_date_ranges_are_refused_in_chinese(client, params, message):
    _login(client, "zhejiang_admin")
    page = client.get("/admin/statistics/", params, HTTP_HOST=ZJ)
    assert page.status_code == 400
    assert message in page.content.decode()
    export = client.get("/admin/statistics/export/", params, HTTP_HOST=ZJ)
    assert export.status_code == 400 and message in export.content.decode()


def test_export_holds_every_table_of_the_dashboard(client):
    _seed("zhejiang", 4321)
    _login(client, "zhejiang_admin")
    answer = client.get("/admin/statistics/export/", RANGE, HTTP_HOST=ZJ)
    assert answer.status_code == 200
    book = load_workbook(BytesIO(answer.content))
    assert {"合计", "每日访问量", "热门页面", "热门资源", "每日搜索", "无结果的搜索词", "预约与到场"} <= set(
        book.sheetnames
    )
    visits = list(book["每日访问量"].iter_rows(values_only=True))
    assert visits[1] == ("日期", "浏览量", "其中缓存页面", "访客数")
    assert visits[2][:2] == (DAY.isoformat(), 4321)
    assert visits[3][:2] == ((DAY + timedelta(days=1)).isoformat(), 0)
    pages = list(book["热门页面"].iter_rows(values_only=True))
    assert pages[2] == ("/唯一页面/", 4321)
    hours = list(book["志愿服务与培训"].iter_rows(values_only=True))
    assert hours[2][1] == 5


def test_national_dashboard_aggregates_reports_across_tenants(client):
    _seed("zhejiang", 4321)
    _seed("sichuan", 1000)
    _seed("dalian", 20)
    for schema in ("zhejiang", "sichuan", "dalian"):
        with schema_context(schema):
            assert national.report_if_due()["sent"] >= 1
            # Sent again (a retry after a lost answer): nothing doubles.
            RolledDay.objects.filter(day=DAY).update(reported_at=None)
            national.report_if_due()
    with schema_context("national"):
        totals = {
            site.origin_slug: SiteDailyTotal.objects.get(site=site, day=DAY, metric="page_views").count
            for site in ReportingSite.objects.filter(origin_slug__in=["zhejiang", "sichuan", "dalian"])
        }
        assert totals == {"zhejiang": 4321, "sichuan": 1000, "dalian": 20}
        assert ReportingSite.objects.get(origin_slug="dalian").province_code == "210000"
    _login(client, "national_admin")
    page = client.get("/admin/statistics/national/", RANGE, HTTP_HOST=NATIONAL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "各站点对比" in html and "按省份汇总" in html and "最近上报时间" in html
    assert "4321" in html and "1000" in html
    book = load_workbook(BytesIO(client.get("/admin/statistics/national/export/", RANGE, HTTP_HOST=NATIONAL).content))
    sites = {row[0]: row for row in book["各站点对比"].iter_rows(min_row=3, values_only=True)}
    zhejiang = next(row for name, row in sites.items() if "浙江" in name)
    assert zhejiang[3] == 4321
    # Only the national site has a national dashboard.
    _login(client, "zhejiang_admin")
    assert client.get("/admin/statistics/national/", RANGE, HTTP_HOST=ZJ).status_code in (302, 403)


def test_a_bad_report_is_refused_and_changes_nothing():
    from federation.models import InboundKey

    with schema_context("national"):
        key = InboundKey.objects.filter(origin_slug="zhejiang").first()
        before = SiteDailyTotal.objects.count()
        for data, field in (
            ({"days": [{"day": "2022-05-10", "totals": {"page_views": [-1, "0"]}}]}, "page_views[0]"),
            ({"days": [{"day": "not a day", "totals": {}}]}, "days[0].day"),
            ({"days": [{"day": "2022-05-10", "totals": {"user_ids": [1, "0"]}}]}, "unknown metric"),
        ):
            status, answer = national.receive_report(key, data)
            assert status == 400 and field in answer["error"]
        assert SiteDailyTotal.objects.count() == before
