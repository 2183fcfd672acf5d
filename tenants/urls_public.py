"""URLs of the platform host (the public schema): no Wagtail here."""

from django.urls import include, path, re_path
from oauth2_provider.views import ConnectDiscoveryInfoView

from core import views as core_views

from . import views

urlpatterns = [
    path("", views.directory, name="directory"),
    path("healthz", core_views.healthz, name="healthz"),
    path("operator/", views.operator_home, name="operator_home"),
    path("operator/sites/<slug:slug>/active", views.operator_set_active, name="operator_set_active"),
    path("", include("accounts.urls")),
    # The national account service: an OpenID Connect provider for tenants on their own domains.
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    re_path(r"^\.well-known/openid-configuration/?$", ConnectDiscoveryInfoView.as_view(), name="oidc_discovery"),
]
