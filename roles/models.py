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

    def __str__(self) -> str:
        return f"{self.user_id} → {self.group_id}"


class UserPermission(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "permission"], name="roles_userpermission_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.permission_id}"
