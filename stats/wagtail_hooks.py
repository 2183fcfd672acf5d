"""统计分析 in the Wagtail admin menu (for roles with stats.view_statistics), its URLs, and the
download counting of Wagtail documents."""

from django.urls import path
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import views


class StatisticsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(views.PERMISSION)


class NationalStatisticsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(views.PERMISSION) and views.is_national()


@hooks.register("register_admin_urls")
def register_statistics_urls():
    return [
        path("statistics/", views.dashboard, name="stats_dashboard"),
        path("statistics/export/", views.export, name="stats_export"),
        path("statistics/national/", views.national_dashboard, name="stats_national"),
        path("statistics/national/export/", views.national_export, name="stats_national_export"),
    ]


@hooks.register("register_admin_menu_item")
def register_statistics_menu_item():
    return StatisticsMenuItem("统计分析", "/admin/statistics/", icon_name="table", order=950)


@hooks.register("register_admin_menu_item")
def register_national_statistics_menu_item():
    return NationalStatisticsMenuItem("全国统计", "/admin/statistics/national/", icon_name="site", order=951)


@hooks.register("before_serve_document")
def count_document_download(document, request):
    """A document served: a play when a <video>/<audio> element fetches it (the browser says so in
    Sec-Fetch-Dest), a download otherwise. Counted by the document's title; later parts of the same
    file (Range requests past the start) are not counted again. Nothing about the person."""
    from .models import Event
    from .services import record

    wanted = request.headers.get("Range", "")
    if request.method != "GET" or (wanted and not wanted.startswith("bytes=0-")):
        return
    playing = request.headers.get("Sec-Fetch-Dest", "") in ("video", "audio")
    record(Event.Kind.PLAY if playing else Event.Kind.DOWNLOAD, document.title)
