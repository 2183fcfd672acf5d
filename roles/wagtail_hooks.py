from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_urls


@hooks.register("register_admin_urls")
def register_member_urls():
    return [path("members/", include(admin_urls))]


class MembersMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("roles.manage_members")


@hooks.register("register_admin_menu_item")
def register_members_menu_item():
    return MembersMenuItem("本站成员", reverse("roles_members"), icon_name="group", order=650)
