"""Member management in a tenant's Wagtail admin, and accepting an invitation on the public site."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from tenants.services import absolute_url

from . import services
from .models import Invitation

MANAGE = "roles.manage_members"
VIEW_PERSONAL_DATA = "roles.view_personal_data"


def _require(request, perm: str = MANAGE) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _role_choices():
    return [(name, name) for name in services.DEFAULT_ROLES]


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="角色", choices=_role_choices, widget=forms.CheckboxSelectMultiple, required=False
    )


class InviteForm(RolesForm):
    email = forms.CharField(label="邮箱", max_length=254, required=False)
    mobile = forms.CharField(label="手机号", max_length=40, required=False)
    field_order = ["email", "mobile", "roles"]


def _member_rows(request):
    reveal = request.user.has_perm(VIEW_PERSONAL_DATA)
    rows = []
    roles_by_user: dict[int, list[str]] = {}
    from .models import Membership

    for user_id, role in Membership.objects.order_by("group__name").values_list("user_id", "group__name"):
        roles_by_user.setdefault(user_id, []).append(role)
    for member in services.members().order_by("username"):
        rows.append(
            {
                "user": member,
                "mobile": member.mobile if reveal else member.masked_mobile,
                "roles": roles_by_user.get(member.pk, []),
            }
        )
    return rows


def members_index(request):
    _require(request)
    return render(
        request,
        "roles/members_index.html",
        {
            "rows": _member_rows(request),
            "invitations": Invitation.objects.filter(accepted_at__isnull=True).prefetch_related("roles"),
        },
    )


def member_edit(request, user_id: int):
    _require(request)
    member = get_object_or_404(services.members(), pk=user_id)  # another tenant's user is a 404
    form = RolesForm(request.POST or None, initial={"roles": services.role_names_of(member)})
    if request.method == "POST":
        try:
            if "remove" in request.POST:
                services.remove_member(member)
                messages.success(request, f"已将 {member.get_username()} 移出本站。")
                return redirect("roles_members")
            if form.is_valid():
                services.set_member_roles(member, form.cleaned_data["roles"])
                messages.success(request, f"已更新 {member.get_username()} 的角色。")
                return redirect("roles_members")
        except ValidationError as exc:
            form.add_error(None, exc.messages)
    return render(request, "roles/member_edit.html", {"member": member, "form": form})


def member_invite(request):
    _require(request)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invite(
                invited_by=request.user,
                role_names=form.cleaned_data["roles"],
                email=form.cleaned_data["email"],
                mobile=form.cleaned_data["mobile"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            link = absolute_url(request.tenant, reverse("invitation_accept", args=[invitation.token]))
            services.send_invitation(
                invitation, link=link, site_name=request.tenant.name, inviter_name=request.user.get_username()
            )
            messages.success(request, f"邀请已创建。邀请链接（{services.INVITATION_DAYS} 天内有效）：{link}")
            return redirect("roles_members")
    return render(request, "roles/member_invite.html", {"form": form})


@login_required
def invitation_accept(request, token: str):
    invitation = get_object_or_404(Invitation, token=token)
    if request.method == "POST":
        try:
            services.accept_invitation(token, request.user)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"您已加入{request.tenant.name}。")
            return redirect("personal_centre")
    return render(request, "roles/invitation_accept.html", {"invitation": invitation})
