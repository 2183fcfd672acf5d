"""URLs of the platform host (the public schema): no Wagtail here."""

from django.urls import include, path, re_path

from accounts import oidc
from core import seo
from core import views as core_views
from themes import views as theme_views

from . import views

urlpatterns = [
    path("", views.directory, name="directory"),
    path("healthz", core_views.healthz, name="healthz"),
    path("robots.txt", seo.robots_txt, name="robots_txt"),
    path("sitemap.xml", views.directory_sitemap, name="sitemap"),
    path("favicon.ico", theme_views.favicon, name="favicon"),
    path("operator/", views.operator_home, name="operator_home"),
    path("operator/sites/<slug:slug>/active", views.operator_set_active, name="operator_set_active"),
    path("", include("accounts.urls")),
    path("", include("accounts.oidc_urls")),
    # The national account service: an OpenID Connect provider for tenants on their own domains.
    # Only the endpoints the tenant sites use (accounts.provider_urls).
    path("o/", include("accounts.provider_urls", namespace="oauth2_provider")),
    re_path(r"^\.well-known/openid-configuration/?$", oidc.ProviderDiscoveryView.as_view(), name="oidc_discovery"),
]
