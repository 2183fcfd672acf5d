"""国家平台对接 in the Wagtail admin menu: each item shown only with its model permission."""

from django.urls import include, path, reverse_lazy
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from . import admin_views as views

admin_urlpatterns = [
    path("", views.status_index, name="federation_admin_status"),
    path("records/<int:record_id>/diff/", views.record_diff, name="federation_admin_diff"),
    path("records/<int:record_id>/feature/", views.record_feature, name="federation_admin_feature"),
    path("log/", views.delivery_log, name="federation_admin_log"),
    path("dead-letters/", views.dead_letters, name="federation_admin_dead_letters"),
    path("dead-letters/retry/", views.dead_letters_retry, name="federation_admin_retry"),
    path("subscriptions/", views.subscription_index, name="federation_admin_subscriptions"),
    path("subscriptions/add/", views.subscription_create, name="federation_admin_subscription_add"),
    path("subscriptions/<int:subscription_id>/", views.subscription_edit, name="federation_admin_subscription_edit"),
    path(
        "subscriptions/<int:subscription_id>/active/",
        views.subscription_active,
        name="federation_admin_subscription_active",
    ),
    path(
        "subscriptions/<int:subscription_id>/sync/",
        views.subscription_sync_now,
        name="federation_admin_subscription_sync",
    ),
]


@hooks.register("register_admin_urls")
def register_federation_urls():
    return [path("federation/", include(admin_urlpatterns))]


class PermissionMenuItem(MenuItem):
    def __init__(self, label, url, *, permission: str, **kwargs):
        super().__init__(label, url, **kwargs)
        self.permission = permission

    def is_shown(self, request):
        return request.user.has_perm(self.permission)


def _item(label: str, name: str, url_name: str, permission: str, icon: str, order: int) -> PermissionMenuItem:
    return PermissionMenuItem(
        label, reverse_lazy(url_name), name=name, permission=permission, icon_name=icon, order=order
    )


federation_menu = Menu(
    items=[
        _item("同步状态", "federation-status", "federation_admin_status", views.VIEW_RECORDS, "list-ul", 1),
        _item("投递记录", "federation-log", "federation_admin_log", views.VIEW_LOG, "history", 2),
        _item("死信", "federation-dead-letters", "federation_admin_dead_letters", views.VIEW_DEAD, "warning", 3),
        _item(
            "订阅国家内容",
            "federation-subscriptions",
            "federation_admin_subscriptions",
            views.VIEW_SUBSCRIPTIONS,
            "download",
            4,
        ),
    ]
)


@hooks.register("register_admin_menu_item")
def register_federation_menu():
    # Shown only when at least one of its items is (Wagtail hides an empty submenu).
    return SubmenuMenuItem("国家平台对接", federation_menu, name="federation", icon_name="globe", order=660)
