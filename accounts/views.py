"""Account pages on every host: sign in, sign out, register, reset a password, personal centre."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, get_language_from_path
from django.utils.translation import gettext as _

from . import lockout, services
from .forms import (
    DisplayNameForm,
    EmailForm,
    LoginForm,
    MobileCodeForm,
    MobileForm,
    PersonalDataForm,
    RegistrationForm,
    VerifiedPasswordResetForm,
)
from .policies import DEFAULT_DATE, DEFAULT_VERSION, TITLES, current_policies


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    # A signed-in person is sent here when a page (e.g. another tenant's admin) needs a role they
    # lack; bouncing them back to `next` would loop, so the page explains and offers to switch.
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs):
        from core.middleware import shared_cookie_domain

        context = super().get_context_data(**kwargs)
        # On a tenant's own domain the platform session cannot reach: offer the unified sign-in first.
        context["own_domain"] = shared_cookie_domain(self.request.get_host()) is None
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        # This browser now knows the account: a stranger's failures elsewhere never lock it out.
        lockout.remember_device(self.request, response, form.get_user())
        # Their messages are written in the language of the page they signed in on (/en/accounts/login/).
        services.remember_language(form.get_user(), get_language())
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if any(e.code == "locked" for e in form.non_field_errors().as_data()):
            response.status_code = 429
        return response

    def get_default_redirect_url(self):
        # The personal centre in the language the sign-in page was read in (/en/me/ after /en/accounts/login/).
        return reverse("personal_centre")


class LogoutView(auth_views.LogoutView):
    def get_default_redirect_url(self):
        # The home page in the language of the page signing out (/en/ from /en/accounts/logout/).
        language = get_language_from_path(self.request.path_info)
        return f"/{language}/" if language and language != settings.LANGUAGE_CODE else "/"


def _safe_next(request, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def register(request):
    if request.user.is_authenticated:
        return redirect(_safe_next(request, reverse("personal_centre")))
    form = RegistrationForm(request.POST or None)
    policies = current_policies()
    if request.method == "POST" and form.is_valid():
        try:
            user = services.register_account(
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
                consented_to=policies if form.cleaned_data["consent"] else None,
                **form.cleaned_data["identifier"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            login(request, user, backend="accounts.backends.AccountBackend")
            services.join_current_site(user)
            services.remember_language(user, get_language())
            if form.cleaned_data["identifier"].get("mobile"):
                messages.success(
                    request, _("注册成功，欢迎加入文化云！验证码已发送到您的手机，验证后即可用手机号登录。")
                )
            else:
                messages.success(
                    request, _("注册成功，欢迎加入文化云！验证邮件已发送，验证后即可用邮箱登录和找回密码。")
                )
            return redirect(_safe_next(request, reverse("personal_centre")))
    context = {"form": form, "next": _safe_next(request, ""), "policies": policies}
    return render(request, "accounts/register.html", context)


def default_policy(request, kind: str):
    """The platform's default privacy policy / user agreement, for sites that have not written their own."""
    if kind not in TITLES:
        raise Http404
    from email.utils import parseaddr

    from .policy_texts import sections

    context = {
        "title": TITLES[kind],
        "version": DEFAULT_VERSION,
        "date": DEFAULT_DATE,
        "sections": sections(kind, "文化云平台", parseaddr(settings.DEFAULT_FROM_EMAIL)[1]),
    }
    return render(request, "accounts/policy.html", context)


def _contact_context(request, **forms) -> dict:
    from .personal_data import mask_mobile

    return {
        "email_form": forms.get("email_form") or EmailForm(),
        "mobile_form": forms.get("mobile_form") or MobileForm(),
        "code_form": forms.get("code_form") or MobileCodeForm(),
        "pending_mobile": mask_mobile(services.pending_mobile(request.user)),
    }


def _personal_centre_page(request, form=None, status=200, **forms):
    context = {
        "form": form or PersonalDataForm(),
        "name_form": forms.get("name_form") or DisplayNameForm(initial={"display_name": request.user.first_name}),
        "editing_real_name": form is not None and form.errors,
        "roles": services.roles_in_current_site(request.user),
        "message_languages": _message_languages(),
        "message_language": request.user.language or settings.LANGUAGE_CODE,
        "language_error": forms.get("language_error", ""),
        **_contact_context(request, **forms),
    }
    return render(request, "accounts/personal_centre.html", context, status=status)


def _add_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def change_email(request):
    """Ask for a new email address: a link goes to it; it becomes the account's when opened."""
    if request.method != "POST":
        return redirect("personal_centre")
    form = EmailForm(request.POST)
    if form.is_valid():
        try:
            services.request_email_verification(request.user, form.cleaned_data["email"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("验证邮件已发送，请打开邮件中的链接完成验证。"))
            return redirect("personal_centre")
    return _personal_centre_page(request, email_form=form, status=400)


def verify_email(request, token: str):
    try:
        services.confirm_email(token)
    except ValidationError as exc:
        return render(request, "accounts/verify_email.html", {"error": " ".join(exc.messages)}, status=400)
    return render(request, "accounts/verify_email.html", {"error": ""})


@login_required
def change_mobile(request):
    """Ask for a new mobile number: a code is texted to it; it becomes the account's once entered."""
    if request.method != "POST":
        return redirect("personal_centre")
    form = MobileForm(request.POST)
    if form.is_valid():
        try:
            services.request_mobile_verification(request.user, form.cleaned_data["mobile"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("验证码已发送到新手机号，请在 10 分钟内填写。"))
            return redirect("personal_centre")
    return _personal_centre_page(request, mobile_form=form, status=400)


@login_required
def confirm_mobile(request):
    if request.method != "POST":
        return redirect("personal_centre")
    form = MobileCodeForm(request.POST)
    if form.is_valid():
        try:
            services.confirm_mobile(request.user, form.cleaned_data["code"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("手机号已验证。"))
            return redirect("personal_centre")
    return _personal_centre_page(request, code_form=form, status=400)


@login_required
def change_display_name(request):
    if request.method != "POST":
        return redirect("personal_centre")
    form = DisplayNameForm(request.POST)
    if form.is_valid():
        services.set_display_name(request.user, form.cleaned_data["display_name"])
        messages.success(request, _("昵称已保存。"))
        return redirect("personal_centre")
    return _personal_centre_page(request, name_form=form, status=400)


def _message_languages() -> list[tuple[str, str]]:
    # The languages every site has (the switcher's); each shown in its own name.
    return [(code, name) for code, name in settings.LANGUAGES if code in settings.DEFAULT_SITE_LANGUAGES]


@login_required
def change_language(request):
    """The language the person's messages (消息, e-mail, SMS) are written in (docs/languages.md)."""
    if request.method != "POST":
        return redirect("personal_centre")
    language = request.POST.get("language", "")
    if language not in dict(_message_languages()):
        return _personal_centre_page(request, status=400, language_error=_("请选择列表中的语言。"))
    services.remember_language(request.user, language)
    messages.success(request, _("消息语言已保存。"))
    return redirect("personal_centre")


@login_required
def personal_centre(request):
    user = request.user
    form = PersonalDataForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if v.strip()}
        try:
            services.set_personal_data(user, **changes)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("个人信息已保存。"))
            return redirect("personal_centre")
    return _personal_centre_page(request, form=form)


class PasswordResetView(auth_views.PasswordResetView):
    """The link opens on the tenant where it was asked for, at that tenant's configured URL.

    Never built from the request's Host header (which a client chooses, port and all): from the
    tenant's primary public URL (core.urls_util.current_site_base_url).
    """

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")
    form_class = VerifiedPasswordResetForm

    def form_valid(self, form):
        from urllib.parse import urlsplit

        from core.urls_util import current_site_base_url

        base_url = current_site_base_url()
        self.extra_email_context = {"base_url": base_url, "site_label": urlsplit(base_url).hostname}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Holding the mailbox proves ownership: the account-wide lock against strangers is lifted.
        lockout.forgive_account(form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
