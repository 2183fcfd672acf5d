"""统计分析 in the Wagtail admin: the tenant dashboard, the national dashboard and their Excel exports.

Views are thin: every number comes from the roll-ups (stats.services / stats.national tables);
`dashboard_tables` and `national_tables` build the same tables for the page and the workbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from io import BytesIO

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from . import services
from .models import ReportingSite, SiteDailyTotal

PERMISSION = "stats.view_statistics"


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    # {"type": "line" | "bar", "series": [column index, ...], "horizontal": bool}; x is column 0.
    chart: dict | None = None
    note: str = ""

    def chart_data(self) -> dict | None:
        if not self.chart:
            return None
        return {
            "type": self.chart["type"],
            "horizontal": self.chart.get("horizontal", False),
            "title": self.title,
            "x": [str(row[0]) for row in self.rows],
            "series": [
                {"name": self.columns[i], "data": [_plain(row[i]) for row in self.rows]} for i in self.chart["series"]
            ],
        }


def _plain(value):
    return float(value) if isinstance(value, Decimal) else value


def _hours(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.1"))


def feedback_installed() -> bool:
    from django.apps import apps

    try:
        apps.get_model("feedback", "Rating")
        apps.get_model("feedback", "DemandRequest")
    except LookupError:
        return False
    return True


def dashboard_tables(rng: services.DateRange) -> list[Table]:
    metrics = list(services.METRICS)
    series = services.daily_series(rng, metrics)

    def count(metric: str, day: date) -> int:
        return series[metric].get(day, (0, 0))[0]

    def amount(metric: str, day: date) -> Decimal:
        return _hours(series[metric].get(day, (0, Decimal(0)))[1])

    days = rng.days
    totals = services.totals(rng)
    tables = [
        Table(
            "summary",
            "合计",
            ["指标", "次数", "数量"],
            [
                [label, totals.get(metric, (0, 0))[0], _hours(totals.get(metric, (0, Decimal(0)))[1]) if unit else ""]
                for metric, (label, unit) in services.METRICS.items()
                if metric not in ("ratings", "demands") or feedback_installed()
            ],
        ),
        Table(
            "visits",
            "每日访问量",
            ["日期", "浏览量", "其中缓存页面", "访客数"],
            [[d.isoformat(), count("page_views", d), count("cached_views", d), count("visitors", d)] for d in days],
            {"type": "line", "series": [1, 3]},
        ),
        Table(
            "today",
            "今日每小时浏览量",
            ["小时", "浏览量"],
            [[f"{hour:02d}时", n] for hour, n in services.hourly_today()],
            {"type": "bar", "series": [1]},
            note="每分钟更新一次。",
        ),
        Table(
            "pages",
            "热门页面",
            ["页面", "浏览量"],
            [list(row) for row in services.top_subjects(rng, "page_views")],
            {"type": "bar", "series": [1], "horizontal": True},
        ),
        _resources_table(rng),
        Table(
            "searches",
            "每日搜索",
            ["日期", "搜索次数", "无结果搜索"],
            [[d.isoformat(), count("search", d), count("search_empty", d)] for d in days],
            {"type": "line", "series": [1, 2]},
        ),
        Table(
            "empty_searches",
            "无结果的搜索词",
            ["搜索词", "次数"],
            [list(row) for row in services.top_subjects(rng, "search_empty")],
            {"type": "bar", "series": [1], "horizontal": True},
            note="这些是群众找了却没找到的内容，可据此补充资源。",
        ),
        Table(
            "bookings",
            "预约与到场",
            ["日期", "预约订单", "预约人次", "签到订单", "签到人次"],
            [
                [
                    d.isoformat(),
                    count("bookings", d),
                    amount("bookings", d),
                    count("checkins", d),
                    amount("checkins", d),
                ]
                for d in days
            ],
            {"type": "bar", "series": [2, 4]},
        ),
        Table(
            "hours",
            "志愿服务与培训",
            ["日期", "志愿服务小时", "培训学时", "课程结业"],
            [
                [
                    d.isoformat(),
                    amount("volunteer_hours", d),
                    amount("training_hours", d),
                    count("course_completions", d),
                ]
                for d in days
            ],
            {"type": "bar", "series": [1, 2]},
        ),
        Table(
            "participation",
            "参与",
            ["日期", "新加入成员", "投票", "资源播放", "资源下载"],
            [
                [d.isoformat(), count("registrations", d), count("votes", d), count("play", d), count("download", d)]
                for d in days
            ],
            {"type": "line", "series": [1, 2, 3, 4]},
        ),
    ]
    if feedback_installed():
        tables += [
            Table(
                "satisfaction",
                "满意度",
                ["日期", "评价数", "平均分"],
                [
                    [
                        d.isoformat(),
                        count("ratings", d),
                        (amount("ratings", d) / count("ratings", d)).quantize(Decimal("0.01"))
                        if count("ratings", d)
                        else "",
                    ]
                    for d in days
                ],
                {"type": "line", "series": [2]},
            ),
            Table(
                "demands",
                "需求征集（按类别）",
                ["类别", "需求数"],
                [list(row) for row in services.top_subjects(rng, "demands")],
                {"type": "bar", "series": [1], "horizontal": True},
            ),
        ]
    return tables


def _resources_table(rng: services.DateRange) -> Table:
    plays = dict(services.top_subjects(rng, "play", 50))
    downloads = dict(services.top_subjects(rng, "download", 50))
    names = sorted(set(plays) | set(downloads), key=lambda n: -(plays.get(n, 0) + downloads.get(n, 0)))[:20]
    return Table(
        "resources",
        "热门资源",
        ["资源", "播放", "下载"],
        [[name, plays.get(name, 0), downloads.get(name, 0)] for name in names],
        {"type": "bar", "series": [1, 2], "horizontal": True},
    )


NATIONAL_METRICS = [
    ("page_views", "浏览量", False),
    ("visitors", "访客数", False),
    ("search", "搜索", False),
    ("bookings", "预约订单", False),
    ("checkins", "签到", False),
    ("volunteer_hours", "志愿服务小时", True),
    ("training_hours", "培训学时", True),
    ("course_completions", "课程结业", False),
    ("votes", "投票", False),
]


def national_tables(rng: services.DateRange) -> list[Table]:
    from core.regions import region_name

    sums: dict[tuple[int, str], tuple[int, Decimal]] = {
        (row["site"], row["metric"]): (row["n"], row["a"] or Decimal(0))
        for row in SiteDailyTotal.objects.filter(day__gte=rng.start, day__lte=rng.end)
        .values("site", "metric")
        .annotate(n=Sum("count"), a=Sum("amount"))
    }
    sites = list(ReportingSite.objects.order_by("origin_code"))

    def value(site_id: int, metric: str, hours: bool):
        n, a = sums.get((site_id, metric), (0, Decimal(0)))
        return _hours(a) if hours else n

    columns = ["站点", "级别", "所属省份", *[label for _, label, _ in NATIONAL_METRICS], "最近上报时间", "最近数据日期"]
    rows = []
    for site in sites:
        code = site.origin_code
        level = "省级" if code == site.province_code else "市级" if code.endswith("00") else "县级"
        rows.append(
            [
                site.origin_name,
                level,
                region_name(site.province_code) or site.province_code,
                *[value(site.pk, metric, hours) for metric, _, hours in NATIONAL_METRICS],
                timezone.localtime(site.last_reported_at).strftime("%Y-%m-%d %H:%M") if site.last_reported_at else "",
                site.last_day.isoformat() if site.last_day else "",
            ]
        )
    per_site = Table("sites", "各站点对比", columns, rows, {"type": "bar", "series": [3, 4]})
    provinces: dict[str, list] = {}
    for site in sites:
        entry = provinces.setdefault(
            site.province_code, [region_name(site.province_code) or site.province_code, 0, *[0] * len(NATIONAL_METRICS)]
        )
        entry[1] += 1
        for i, (metric, _, hours) in enumerate(NATIONAL_METRICS):
            entry[2 + i] += value(site.pk, metric, hours)
    per_province = Table(
        "provinces",
        "按省份汇总（省级与所辖市级、县级站点合计）",
        ["省份", "站点数", *[label for _, label, _ in NATIONAL_METRICS]],
        [provinces[code] for code in sorted(provinces)],
        {"type": "bar", "series": [2, 3]},
    )
    return [per_province, per_site]


def _check(request) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def is_national() -> bool:
    tenant = getattr(connection, "tenant", None)
    return getattr(tenant, "kind", "") == "national"


def _page(request, *, national: bool):
    _check(request)
    if national and not is_national():
        raise PermissionDenied
    error = ""
    try:
        rng = services.parse_range(request.GET)
    except services.RangeError as exc:
        error = str(exc)
        rng = services.parse_range({})
    tables = national_tables(rng) if national else dashboard_tables(rng)
    context = {
        "rng": rng,
        "error": error,
        "tables": [(table, table.chart_data()) for table in tables],
        "national": national,
        "show_national_link": is_national() and not national,
        "feedback_missing": not national and not feedback_installed(),
        "query": f"start={rng.start.isoformat()}&end={rng.end.isoformat()}",
    }
    return render(request, "stats/dashboard.html", context, status=400 if error else 200)


def dashboard(request):
    return _page(request, national=False)


def national_dashboard(request):
    return _page(request, national=True)


def _export(request, *, national: bool):
    from openpyxl import Workbook

    _check(request)
    if national and not is_national():
        raise PermissionDenied
    try:
        rng = services.parse_range(request.GET)
    except services.RangeError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    tables = national_tables(rng) if national else dashboard_tables(rng)
    book = Workbook(write_only=True)
    for table in tables:
        sheet = book.create_sheet(title=table.title[:31])
        sheet.append([f"{table.title}（{rng.start.isoformat()} 至 {rng.end.isoformat()}）"])
        sheet.append(table.columns)
        for row in table.rows:
            sheet.append([_plain(cell) for cell in row])
    out = BytesIO()
    book.save(out)
    name = f"{'national-' if national else ''}statistics-{rng.start.isoformat()}-{rng.end.isoformat()}.xlsx"
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def export(request):
    return _export(request, national=False)


def national_export(request):
    return _export(request, national=True)
