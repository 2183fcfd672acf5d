"""Volunteers in the Wagtail admin menu for coordinators: the management pages (a link) and the
site's 志愿服务记录证明, where a certificate is revoked with a reason (admin_views.py)."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_views


class CoordinatorMenuItem(MenuItem):
    def is_shown(self, request):
        from . import services

        return services.is_coordinator(request.user)


@hooks.register("register_admin_urls")
def volunteers_admin_urls():
    return [
        path("volunteer-certificates/", admin_views.certificates_index, name="volunteers_admin_certificates"),
        path(
            "volunteer-certificates/<int:certificate_id>/revoke/",
            admin_views.certificate_revoke,
            name="volunteers_admin_certificate_revoke",
        ),
    ]


@hooks.register("register_admin_menu_item")
def volunteers_menu_item():
    return CoordinatorMenuItem("志愿服务管理", "/volunteers/manage/", icon_name="group", order=900)


@hooks.register("register_admin_menu_item")
def volunteer_certificates_menu_item():
    return CoordinatorMenuItem(
        "志愿服务证书", reverse("volunteers_admin_certificates"), icon_name="doc-full", order=901
    )
