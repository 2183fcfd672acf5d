from __future__ import annotations

from django.core.cache import cache
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context
from wagtail.models import Site

from .models import Branding

SITE_SWITCHER_KEY = "themes:site-switcher:v1"
SITE_SWITCHER_SECONDS = 300


def ensure_branding(site: Site, site_name: str) -> Branding:
    branding = Branding.for_site(site)
    if branding.site_name != site_name:
        branding.site_name = site_name
        branding.save()
    return branding


def site_switcher_entries() -> list[dict]:
    """National site, provinces and their cities for the switcher; cached in each tenant's cache."""
    entries = cache.get(SITE_SWITCHER_KEY)
    if entries is None:
        sites = (
            get_tenant_model()
            .objects.filter(kind__in=["national", "province", "city"], is_active=True)
            .prefetch_related("domains")
            .order_by("region_code")
        )
        entries = [
            {"pk": s.pk, "name": s.name, "kind": s.kind, "parent_id": s.parent_id, "url": s.primary_url()}
            for s in sites
        ]
        cache.set(SITE_SWITCHER_KEY, entries, SITE_SWITCHER_SECONDS)
    return entries


def forget_site_switcher() -> None:
    """A site was added, closed or reopened: drop every tenant's cached switcher and the cached
    pages that show it."""
    from core.page_cache import content_changed

    schemas = (
        get_tenant_model().objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True)
    )
    for schema in schemas:
        with schema_context(schema):
            cache.delete(SITE_SWITCHER_KEY)
            content_changed()


def branding_for_request(request) -> Branding | None:
    """The request's site branding, one query per tenant and content version instead of per request.

    Kept on the request where Wagtail's `settings.themes.Branding` looks first, so both agree.
    """
    from core.page_cache import content_version

    attr = Branding.get_cache_attr_name()
    if hasattr(request, attr):
        return getattr(request, attr)
    site = Site.find_for_request(request)
    if site is None:
        return None
    key = f"themes:branding:{site.pk}:{content_version()}"
    branding = cache.get(key)
    if branding is None:
        branding = Branding.for_site(site)
        cache.set(key, branding, SITE_SWITCHER_SECONDS)
    branding._request = request  # as Branding.for_request does: page URLs reuse the request's caches
    setattr(request, attr, branding)
    return branding


def navigation_entries(site: Site) -> list[dict]:
    """The site's main navigation: live pages under its home page marked "show in menus".

    Cached per tenant; dropped with the tenant's cached pages whenever content changes.
    """
    from core.page_cache import content_version

    key = f"themes:navigation:{site.pk}:{content_version()}"
    entries = cache.get(key)
    if entries is None:
        pages = site.root_page.get_children().live().in_menu().public().only("id", "title", "url_path", "path")
        entries = [{"title": page.title, "url": page.get_url()} for page in pages]
        cache.set(key, entries, SITE_SWITCHER_SECONDS)
    return entries
