"""Global accounts: one person, one account, in the public schema (ARCHITECTURE §3)."""

from django.contrib.auth.models import AbstractUser, Group, Permission
from django.db import models


class User(AbstractUser):
    # Roles are per tenant: the through models live in the tenant app `roles`,
    # so a membership row exists only in the schema of the tenant that granted it.
    groups = models.ManyToManyField(
        Group,
        through="roles.Membership",
        related_name="user_set",
        related_query_name="user",
        blank=True,
        verbose_name="角色",
    )
    user_permissions = models.ManyToManyField(
        Permission,
        through="roles.UserPermission",
        related_name="user_set",
        related_query_name="user",
        blank=True,
        verbose_name="个人权限",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = "用户"
        verbose_name_plural = "用户"
