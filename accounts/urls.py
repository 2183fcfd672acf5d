"""Account URLs, mounted on the platform host and on every tenant host.

On tenant hosts these pages are served per language (core/urls.py: inside i18n_patterns), so
`/accounts/login/` is the Simplified Chinese sign-in and `/en/accounts/login/` the English one;
the session cookie is the same. The single sign-on endpoints are in accounts.oidc_urls: their
addresses are registered with the account service and never carry a language prefix.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", views.register, name="register"),
    path("accounts/policy/<slug:kind>/", views.default_policy, name="default_policy"),
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("me/", views.personal_centre, name="personal_centre"),
    path("me/name/", views.change_display_name, name="change_display_name"),
    path("me/language/", views.change_language, name="change_language"),
    path("me/email/", views.change_email, name="change_email"),
    path("me/mobile/", views.change_mobile, name="change_mobile"),
    path("me/mobile/confirm/", views.confirm_mobile, name="confirm_mobile"),
    path("accounts/verify-email/<str:token>/", views.verify_email, name="verify_email"),
]
