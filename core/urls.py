"""URLs of every tenant site (national, provinces, cities)."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.admin.auth import require_admin_access
from wagtail.documents import urls as wagtaildocs_urls

from cms_pages import admin_views as cms_admin_views
from cms_pages import views as cms_views
from cms_pages.feeds import NewsFeed
from core import seo, views
from themes import views as theme_views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", seo.robots_txt, name="robots_txt"),
    path("favicon.ico", theme_views.favicon, name="favicon"),
    path("sitemap.xml", seo.tenant_sitemap, name="sitemap"),
    path("", include("accounts.oidc_urls")),
    # Wagtail's page privacy dialog with "any account" and "members of this site" (docs/privacy.md).
    path(
        "admin/pages/<int:page_id>/privacy/",
        require_admin_access(cms_admin_views.SitePrivacyView.as_view()),
        name="site_privacy",
    ),
    path("_util/login/", views.restricted_page_login, name="restricted_page_login"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("rss.xml", NewsFeed(), name="news_feed"),
    re_path(r"^media/(?P<schema>[a-z0-9_]+)/(?P<path>.+)$", views.serve_tenant_media, name="tenant_media"),
] + i18n_patterns(
    # Pages per language: zh-Hans at /, others under their prefix (/en/, /zh-hant/, /bo/ ...).
    # Search too: /en/search/ searches the English pages, with the page chrome in English; and
    # the public services (catalogue, bookings, volunteers, training, certificates, campaigns,
    # messages) read in the language of their prefix. Unprefixed they stay Simplified Chinese.
    # Sign-in, registration and the personal centre too (/en/accounts/login/, /en/me/): the same
    # views and session cookie; only the single sign-on endpoints stay unprefixed (accounts.oidc_urls).
    path("", include("accounts.urls")),
    path("", include("roles.urls")),
    path("", include("federation.urls")),
    path("", include("notifications.urls")),
    path("", include("certificates.urls")),
    path("", include("bookings.urls")),
    path("", include("volunteers.urls")),
    path("", include("training.urls")),
    path("", include("campaigns.urls")),
    path("", include("feedback.urls")),
    path("search/", cms_views.search, name="search"),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)
