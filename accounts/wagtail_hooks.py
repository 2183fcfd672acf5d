"""Wagtail's user admin (platform operators only) deactivates accounts instead of deleting them."""

from django.contrib import messages
from django.shortcuts import redirect
from wagtail import hooks

from . import services


@hooks.register("before_delete_user")
def deactivate_instead_of_delete(request, user):
    if request.method == "POST":
        services.deactivate_account(user)
        messages.success(request, f"账号 {user.get_username()} 已停用（文化云账号不会被删除）。")
        return redirect("wagtailusers_users:index")
    return None


@hooks.register("before_bulk_action")
def deactivate_instead_of_bulk_delete(request, action_type, objects, action_class_instance):
    if action_type == "delete" and objects and objects[0]._meta.label == "accounts.User":
        for user in objects:
            services.deactivate_account(user)
        messages.success(request, f"已停用 {len(objects)} 个账号（文化云账号不会被删除）。")
        return redirect("wagtailusers_users:index")
    return None
