"""URLs of the platform host (the public schema): no Wagtail here."""

from django.contrib.auth import views as auth_views
from django.urls import path

from core import views as core_views

from . import views

urlpatterns = [
    path("", views.directory, name="directory"),
    path("healthz", core_views.healthz, name="healthz"),
    path("operator/", views.operator_home, name="operator_home"),
    path("operator/sites/<slug:slug>/active", views.operator_set_active, name="operator_set_active"),
    path(
        "operator/login/",
        auth_views.LoginView.as_view(template_name="tenants/operator/login.html"),
        name="operator_login",
    ),
    path("operator/logout/", auth_views.LogoutView.as_view(next_page="/"), name="operator_logout"),
]
