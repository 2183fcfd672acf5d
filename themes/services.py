from __future__ import annotations

from django.core.cache import cache
from django_tenants.utils import get_tenant_model
from wagtail.models import Site

from .models import Branding

SITE_SWITCHER_KEY = "themes:site-switcher:v2"
SITE_SWITCHER_SECONDS = 300


def ensure_branding(site: Site, site_name: str) -> Branding:
    branding = Branding.for_site(site)
    if branding.site_name != site_name:
        branding.site_name = site_name
        branding.save()
    return branding


def site_switcher_entries() -> list[dict]:
    """National site, provinces, cities and counties for the switcher: the same on every tenant,
    so kept once for all of them (it was once per tenant: at 1,000 tenants each tenant's first
    page read and prefetched all 1,000 sites, ~300 ms), under the platform version that
    `forget_site_switcher` moves."""
    from core.page_cache import platform_version, shared_cache

    key = f"{SITE_SWITCHER_KEY}:{platform_version()}"
    entries = shared_cache().get(key)
    if entries is None:
        sites = (
            get_tenant_model()
            .objects.filter(kind__in=get_tenant_model().SERVED_KINDS, is_active=True)
            .prefetch_related("domains")
            .order_by("region_code")
        )
        entries = [
            {"pk": s.pk, "name": s.name, "kind": s.kind, "parent_id": s.parent_id, "url": s.primary_url()}
            for s in sites
        ]
        shared_cache().set(key, entries, SITE_SWITCHER_SECONDS)
    return entries


def forget_site_switcher() -> None:
    """A site was added, closed or reopened: every tenant's switcher and the cached pages that
    show it are stale. One write whatever the number of tenants (it was two per tenant: ~4 s of
    a new tenant's creation at 240 tenants with the file-based pages cache)."""
    from core.page_cache import platform_changed

    platform_changed()


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
    """The site's main navigation: live pages under its home page marked "show in menus", in the
    language being read (the home page's translation, when there is one).

    Cached per tenant and language; dropped with the tenant's cached pages whenever content changes.
    """
    from django.conf import settings
    from django.utils.translation import get_language

    from core.page_cache import content_version

    key = f"themes:navigation:{site.pk}:{get_language()}:{content_version()}"
    entries = cache.get(key)
    if entries is None:
        home = site.root_page
        if get_language() != settings.LANGUAGE_CODE:
            home = home.localized  # the translated home page's sections, when there is one
        pages = home.get_children().live().in_menu().public().only("id", "title", "url_path", "path")
        entries = [{"title": page.title, "url": page.get_url()} for page in pages]
        cache.set(key, entries, SITE_SWITCHER_SECONDS)
    return entries


def page_languages(page, request) -> dict:
    """The page's language and its live translations (code, own name, URL), cached per tenant and
    content version: `<html lang>`, the hreflang alternates and the language switcher read it."""
    from django.conf import settings

    from core.page_cache import content_version

    key = f"themes:languages:{page.pk}:{content_version()}"
    languages = cache.get(key)
    if languages is None:
        names = dict(settings.WAGTAIL_CONTENT_LANGUAGES)
        translations = page.get_translations(inclusive=True).live().public().select_related("locale")
        links = [
            {
                "code": p.locale.language_code,
                "name": names.get(p.locale.language_code, p.locale.language_code),
                "url": p.get_url(request=request),
                "full_url": p.get_full_url(request=request),
                "pk": p.pk,
            }
            for p in translations.order_by("locale_id")
        ]
        own = next((link for link in links if link["pk"] == page.pk), None)
        languages = {"language": own["code"] if own else settings.LANGUAGE_CODE, "links": links}
        cache.set(key, languages, SITE_SWITCHER_SECONDS)
    return languages


# The page types behind the service entrances: the entrance opens the site's page of that type.
SERVICE_PAGE_TYPES = {
    "activities": ("cms_pages", "activityindexpage"),
    "venues": ("cms_pages", "venueindexpage"),
    "resources": ("cms_pages", "resourceindexpage"),
    "volunteers": ("volunteers", "opportunityindexpage"),
    "live": ("cms_pages", "livestreampage"),
    "vote": ("cms_pages", "campaignpage"),
}
# Entrances to views rather than pages: shown when one of these URL names resolves (the app is
# installed and routed on this platform).
SERVICE_URL_NAMES = {
    "training": ("training_catalogue",),
    "demand": ("feedback:demand", "feedback_demand"),
}


def _service_urls(site: Site) -> dict[str, str]:
    """{service key: URL} of the services this site has, cached per tenant and content version."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.urls import NoReverseMatch, reverse
    from wagtail.models import Page

    from core.page_cache import content_version

    key = f"themes:service-urls:{site.pk}:{content_version()}"
    urls = cache.get(key)
    if urls is not None:
        return urls
    urls = {}
    type_keys = {}
    for service, (app_label, model_name) in SERVICE_PAGE_TYPES.items():
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue  # that app is not installed here
        type_keys[ContentType.objects.get_for_model(model).pk] = service
    if type_keys:
        pages = (
            Page.objects.live()
            .public()
            .descendant_of(site.root_page)
            .filter(content_type_id__in=type_keys)
            .order_by("-first_published_at")
            .only("id", "url_path", "path", "depth", "content_type_id")
        )
        for page in pages:
            service = type_keys[page.content_type_id]
            if service not in urls:  # the most recently published one (the newest live stream, vote)
                url = page.get_url()
                if url:
                    urls[service] = url
    for service, names in SERVICE_URL_NAMES.items():
        for name in names:
            try:
                urls[service] = reverse(name)
                break
            except NoReverseMatch:
                continue
    cache.set(key, urls, SITE_SWITCHER_SECONDS)
    return urls


def service_entrances(site: Site | None, branding: Branding | None) -> list[dict]:
    """The home page's service entrances: in the order the site's branding sets (all, in the
    default order, when it sets none), each only if the site has that service."""
    from .models import SERVICE_CHOICES

    if site is None:
        return []
    urls = _service_urls(site)
    labels = dict(SERVICE_CHOICES)
    chosen = []
    if branding is not None and branding.service_entrances:
        for block in branding.service_entrances:
            service = block.value.get("service")
            if service in labels and service not in (c[0] for c in chosen):
                chosen.append((service, block.value.get("label") or labels[service]))
    else:
        chosen = list(SERVICE_CHOICES)
    return [
        {"key": service, "label": label, "url": urls[service], "icon": f"themes/icons/{service}.svg"}
        for service, label in chosen
        if service in urls
    ]
