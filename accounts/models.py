"""Global accounts: one person, one account, in the public schema (ARCHITECTURE §3)."""

from django.contrib.auth.models import AbstractUser, Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.crypto import EncryptedCharField
from accounts.personal_data import mask_id_number, mask_mobile, mask_name
from accounts.tenant_cache import TenantScopedPermissionCacheMixin


class User(TenantScopedPermissionCacheMixin, AbstractUser):
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

    # Real-name data, encrypted at rest (accounts.crypto). Set it only through
    # accounts.services.set_personal_data, which validates, normalises and keeps the
    # blind indexes below in step; find users by it only through those indexes.
    # Not editable, so no generated ModelForm can write a value past that function.
    real_name = EncryptedCharField("姓名", blank=True, default="", editable=False)
    id_number = EncryptedCharField("身份证号", blank=True, default="", editable=False)
    id_number_index = models.CharField("身份证号索引", max_length=64, blank=True, default="", editable=False)
    mobile = EncryptedCharField("手机号", blank=True, default="", editable=False)
    mobile_index = models.CharField("手机号索引", max_length=64, blank=True, default="", editable=False)

    # An email address or mobile number signs in and receives resets only once its owner proved
    # they hold it (a link mailed to it, a code texted to it: accounts.verification). Changing the
    # email by any other path (Wagtail's user admin, a shell) makes it unverified again (save()).
    email_verified = models.BooleanField("邮箱已验证", default=False)
    mobile_verified = models.BooleanField("手机号已验证", default=False, editable=False)

    # The language the person reads the platform in (a settings.LANGUAGES code; blank = never
    # recorded, i.e. settings.LANGUAGE_CODE). Set only by accounts.services.remember_language when
    # they sign in or register on a page in a language; their messages are written in it.
    language = models.CharField("语言", max_length=10, blank=True, default="", editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = "用户"
        verbose_name_plural = "用户"
        # One person, one account: an ID number or phone may belong to one account only.
        # Partial, because most accounts have not filled them in ("").
        constraints = [
            # A verified email address belongs to one account (any letter case).
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(email_verified=True) & ~Q(email=""),
                name="accounts_user_verified_email_unique",
            ),
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=~Q(id_number_index=""),
                name="accounts_user_id_number_index_unique",
            ),
            models.UniqueConstraint(
                fields=["mobile_index"],
                condition=~Q(mobile_index=""),
                name="accounts_user_mobile_index_unique",
            ),
        ]

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._email_as_loaded = user.__dict__.get("email")
        return user

    def save(self, *args, **kwargs):
        loaded = getattr(self, "_email_as_loaded", None)
        changed = loaded is not None and (self.email or "").lower() != (loaded or "").lower()
        if changed and not getattr(self, "_email_proven", False):
            self.email_verified = False
        if not self.email:
            self.email_verified = False
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "email_verified"}
        super().save(*args, **kwargs)
        self._email_as_loaded = self.email
        self._email_proven = False

    def delete(self, *args, **kwargs):
        # Accounts are deactivated, never deleted (accounts.services.deactivate_account): tenants'
        # pages, revisions and records refer to them from schemas this delete could not see.
        raise PermissionDenied("文化云账号不能删除，只能停用。")

    # Masked values for pages, admin lists and exports; showing the plaintext is for
    # viewers whose role explicitly allows it, and is the caller's decision.
    @property
    def masked_real_name(self) -> str:
        return mask_name(self.real_name)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def display_name(self) -> str:
        """The name the person chose (昵称); accounts made without one show a neutral label,
        never the generated username."""
        from django.utils.translation import gettext

        return self.first_name or self.get_full_name() or gettext("文化云用户")


class LoginThrottle(models.Model):
    """Failed sign-ins per account and address, and per account (accounts.lockout)."""

    key = models.CharField(max_length=100, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Lock-outs in a row (each one twice as long as the one before, accounts.lockout).
    lockouts = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "登录失败计数"

    def __str__(self) -> str:
        return self.key


class AccountSession(models.Model):
    """Which sessions belong to an account, so that signing out ends all of them (accounts.signals)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "session_key"], name="accounts_session_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.session_key[:6]}…"


class PolicyConsent(models.Model):
    """A person's consent to one version of a site's privacy policy or user agreement (PIPL art. 14).

    Written at registration (accounts.services.register_account), one row per policy; never edited.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="policy_consents", verbose_name="用户")
    site_schema = models.CharField("站点", max_length=63)
    kind = models.CharField("文件", max_length=20, choices=[("privacy", "隐私政策"), ("user-agreement", "用户协议")])
    version = models.CharField("版本", max_length=60)
    policy_date = models.DateField("文件日期")
    policy_url = models.CharField("文件地址", max_length=200)
    consented_at = models.DateTimeField("同意时间", auto_now_add=True)

    class Meta:
        verbose_name = "隐私政策与用户协议同意记录"
        verbose_name_plural = "隐私政策与用户协议同意记录"
        ordering = ["consented_at", "kind"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.site_schema} {self.kind} {self.version}"
