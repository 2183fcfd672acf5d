from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .personal_data import normalize_mobile, validate_display_name

IDENTIFIER_LABEL = gettext_lazy("手机号、邮箱或用户名")


class LoginForm(AuthenticationForm):
    username = forms.CharField(label=IDENTIFIER_LABEL, max_length=254)
    password = forms.CharField(
        label=gettext_lazy("密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    error_messages = {
        "invalid_login": gettext_lazy("账号或密码不正确。"),
        "inactive": gettext_lazy("该账号已停用。"),
    }

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            until = getattr(self.request, "login_locked_until", None)
            if until is not None:
                minutes = max(1, round((until - timezone.now()).total_seconds() / 60))
                raise ValidationError(
                    _("登录失败次数过多，账号已暂时锁定，请 %(minutes)s 分钟后再试。") % {"minutes": minutes},
                    code="locked",
                ) from None
            raise


MOBILE_WIDGET_ATTRS = {"autocomplete": "tel", "inputmode": "numeric"}


class TelInput(forms.TextInput):
    """type="tel" with a numeric keypad on phones (inputmode), filled by the browser (autocomplete)."""

    input_type = "tel"


class RegistrationForm(forms.Form):
    """Register with a mobile number (numeric keypad) or, for people without one, an email address.

    The person chooses the name they are shown by (昵称) and agrees, explicitly, to the site's
    privacy policy and user agreement (accounts.policies); the view records which versions.
    """

    mobile = forms.CharField(
        label=gettext_lazy("手机号"),
        max_length=40,
        required=False,
        widget=TelInput(attrs=MOBILE_WIDGET_ATTRS),
        help_text=gettext_lazy("用于登录和找回密码，注册后发送短信验证码。"),
    )
    email = forms.CharField(
        label=gettext_lazy("邮箱（没有手机号时填写）"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    display_name = forms.CharField(
        label=gettext_lazy("昵称"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
        help_text=gettext_lazy("在网站上显示的名字，例如“书香”。"),
        error_messages={"required": gettext_lazy("请填写昵称。")},
    )
    password1 = forms.CharField(
        label=gettext_lazy("密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=gettext_lazy("确认密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    consent = forms.BooleanField(
        label=gettext_lazy("我已阅读并同意《隐私政策》和《用户协议》"),
        error_messages={"required": gettext_lazy("请阅读并同意《隐私政策》和《用户协议》后再注册。")},
    )

    def clean_mobile(self) -> str:
        value = self.cleaned_data["mobile"].strip()
        return normalize_mobile(value) if value else ""

    def clean_email(self) -> str:
        value = self.cleaned_data["email"].strip()
        if not value:
            return ""
        email_field = forms.EmailField(error_messages={"invalid": _("邮箱格式不正确。")})
        return email_field.clean(value).lower()

    def clean_display_name(self) -> str:
        return validate_display_name(self.cleaned_data["display_name"])

    def clean(self):
        cleaned = super().clean()
        mobile, email = cleaned.get("mobile"), cleaned.get("email")
        if not mobile and not email and "mobile" not in self.errors and "email" not in self.errors:
            self.add_error("mobile", _("请填写手机号，或在下方填写邮箱。"))
        # What the account is identified by (services.register_account's keywords).
        cleaned["identifier"] = {key: value for key, value in (("mobile", mobile), ("email", email)) if value}
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            try:
                password_validation.validate_password(p1)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class DisplayNameForm(forms.Form):
    display_name = forms.CharField(
        label=gettext_lazy("昵称"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
        error_messages={"required": gettext_lazy("请填写昵称。")},
    )

    def clean_display_name(self) -> str:
        return validate_display_name(self.cleaned_data["display_name"])


class PersonalDataForm(forms.Form):
    # The mobile number is changed through a texted code (MobileForm / MobileCodeForm), not here.
    real_name = forms.CharField(
        label=gettext_lazy("姓名"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    id_number = forms.CharField(
        label=gettext_lazy("身份证号"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class EmailForm(forms.Form):
    email = forms.CharField(
        label=gettext_lazy("新邮箱"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class MobileForm(forms.Form):
    mobile = forms.CharField(label=gettext_lazy("新手机号"), max_length=40, widget=TelInput(attrs=MOBILE_WIDGET_ATTRS))


class MobileCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("短信验证码"),
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class VerifiedPasswordResetForm(PasswordResetForm):
    """Reset mails go only to addresses their owner proved (a link opened), never to one merely typed in."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if user.email_verified)
