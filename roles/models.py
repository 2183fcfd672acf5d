"""Tenant-local role membership: the `groups` / `user_permissions` tables of the global User.

These tables live in every tenant schema (never in public), so being an editor
of one tenant grants nothing in another.
"""

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    group = models.ForeignKey(Group, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "group"], name="roles_membership_unique")]
        verbose_name = "角色成员"
        verbose_name_plural = "角色成员"
        permissions = [
            ("manage_members", "可邀请成员并分配本站角色"),
            ("view_personal_data", "可查看成员完整的手机号与身份证号"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.group_id}"


class UserPermission(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "permission"], name="roles_userpermission_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.permission_id}"


def _invitation_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    """An invitation to join this tenant with roles, sent to an email address or a mobile number."""

    email = models.EmailField("邮箱", blank=True)
    # The mobile number itself is not kept: its blind index identifies the invitee,
    # the masked form is what staff see.
    mobile_index = models.CharField(max_length=64, blank=True, editable=False)
    mobile_masked = models.CharField("手机号", max_length=20, blank=True)
    roles = models.ManyToManyField(Group, verbose_name="角色")
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "成员邀请"
        verbose_name_plural = "成员邀请"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email or self.mobile_masked
