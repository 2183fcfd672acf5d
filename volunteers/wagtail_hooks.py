"""A link to the volunteer management pages in the Wagtail admin menu, for coordinators."""

from wagtail import hooks
from wagtail.admin.menu import MenuItem


class CoordinatorMenuItem(MenuItem):
    def is_shown(self, request):
        from . import services

        return services.is_coordinator(request.user)


@hooks.register("register_admin_menu_item")
def volunteers_menu_item():
    return CoordinatorMenuItem("志愿服务管理", "/volunteers/manage/", icon_name="group", order=900)
