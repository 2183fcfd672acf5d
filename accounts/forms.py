from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils import timezone

from .personal_data import normalize_mobile

IDENTIFIER_LABEL = "手机号、邮箱或用户名"


class LoginForm(AuthenticationForm):
    username = forms.CharField(label=IDENTIFIER_LABEL, max_length=254)
    password = forms.CharField(
        label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    error_messages = {
        "invalid_login": "账号或密码不正确。",
        "inactive": "该账号已停用。",
    }

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            until = getattr(self.request, "login_locked_until", None)
            if until is not None:
                minutes = max(1, round((until - timezone.now()).total_seconds() / 60))
                raise ValidationError(
                    f"登录失败次数过多，账号已暂时锁定，请 {minutes} 分钟后再试。", code="locked"
                ) from None
            raise


class RegistrationForm(forms.Form):
    identifier = forms.CharField(label="手机号或邮箱", max_length=254)
    display_name = forms.CharField(label="昵称（可选）", max_length=30, required=False)
    password1 = forms.CharField(
        label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="确认密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_identifier(self) -> dict:
        value = self.cleaned_data["identifier"].strip()
        if "@" in value:
            email_field = forms.EmailField(error_messages={"invalid": "邮箱格式不正确。"})
            return {"email": email_field.clean(value).lower()}
        try:
            return {"mobile": normalize_mobile(value)}
        except ValidationError:
            raise ValidationError("请输入 11 位中国大陆手机号或有效的邮箱地址。") from None

    def clean_display_name(self) -> str:
        value = self.cleaned_data["display_name"].strip()
        if any(not ch.isprintable() for ch in value):
            raise ValidationError("昵称含有不可见字符。")
        return value

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "两次输入的密码不一致。")
        elif p1:
            try:
                password_validation.validate_password(p1)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class PersonalDataForm(forms.Form):
    # The mobile number is changed through a texted code (MobileForm / MobileCodeForm), not here.
    real_name = forms.CharField(label="姓名", max_length=60, required=False)
    id_number = forms.CharField(label="身份证号", max_length=40, required=False)


class EmailForm(forms.Form):
    email = forms.CharField(label="新邮箱", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class MobileForm(forms.Form):
    mobile = forms.CharField(
        label="新手机号", max_length=40, widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"})
    )


class MobileCodeForm(forms.Form):
    code = forms.CharField(
        label="短信验证码",
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class VerifiedPasswordResetForm(PasswordResetForm):
    """Reset mails go only to addresses their owner proved (a link opened), never to one merely typed in."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if user.email_verified)
