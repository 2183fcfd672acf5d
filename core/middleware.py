"""Host → tenant, with friendly pages for unknown hosts and closed sites."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connection
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name

# Paths that answer on every host, open or closed (load balancers probe them).
ALWAYS_SERVED_PATHS = ("/healthz",)


TENANT_BY_HOST_SECONDS = 300


def _host_key(hostname: str) -> str:
    return f"core:tenant-by-host:{hostname}"


def forget_cached_hosts(hostnames) -> None:
    """A tenant or its domains changed: the next request for these hosts reads the database.

    Must run with the connection on the public schema (where the keys live)."""
    from django.core.cache import cache

    from core.page_cache import forget_host_pages

    hostnames = list(hostnames)
    cache.delete_many([_host_key(h) for h in hostnames])
    forget_host_pages(hostnames)


def _in_visitor_language(request, template: str, context: dict, *, status: int):
    """A page rendered before the language middleware has run (unknown host, closed site), in the
    language of the address's prefix (/en/...), else of the browser's Accept-Language, else zh-Hans."""
    from django.utils import translation
    from django.utils.cache import patch_vary_headers

    language = translation.get_language_from_request(request, check_path=True)
    with translation.override(language):
        response = render(request, template, context, status=status)
    patch_vary_headers(response, ("Accept-Language",))
    return response


class CultureTenantMiddleware(TenantMainMiddleware):
    def get_tenant(self, domain_model, hostname):
        from django.core.cache import cache

        # Runs on the public schema, so the key lives in the platform's cache namespace.
        key = _host_key(hostname)
        tenant = cache.get(key)
        if tenant is None:
            from core.urls_util import read_public_address

            tenant = super().get_tenant(domain_model, hostname)
            # Cached with the tenant: absolute URLs written while serving this host cost no query.
            tenant._public_address = read_public_address(tenant.schema_name)
            cache.set(key, tenant, TENANT_BY_HOST_SECONDS)
        # The template schema is a tenant row only so migrations keep it current;
        # it is never served.
        if tenant.schema_name != get_public_schema_name() and not tenant.is_served:
            raise domain_model.DoesNotExist(hostname)
        return tenant

    def no_tenant_found(self, request, hostname):
        return _in_visitor_language(request, "core/unknown_site.html", {"hostname": hostname}, status=404)

    def process_request(self, request):
        response = super().process_request(request)
        if response is not None:
            return response
        tenant = request.tenant
        if not tenant.is_active and not request.path.startswith(ALWAYS_SERVED_PATHS):
            connection.set_schema_to_public()
            return _in_visitor_language(request, "core/site_closed.html", {"site": tenant}, status=503)
        if tenant.schema_name != get_public_schema_name():
            from core.page_cache import content_version

            # Before anything is rendered: what the full-page cache stores this response under.
            request.content_version_at_start = content_version()
        return None


WAGTAIL_SITE_SECONDS = 300
_NO_SITE = "none"


def remember_wagtail_site(request) -> None:
    """Give Wagtail the request's Site from the tenant's cache instead of a query per request.

    Wagtail finds the Site with one query per request (`Site.find_for_request`) and keeps it on
    `request._wagtail_site`; we fill that attribute from the cache (keyed by tenant, host and
    the tenant's content version, which moves when a Site is saved or deleted).
    """
    from django.core.cache import cache
    from django.http.request import split_domain_port
    from wagtail.models import Site

    from core.page_cache import content_version

    hostname = split_domain_port(request.get_host())[0]
    # The version CultureTenantMiddleware read a moment ago: reading it again is another trip to
    # the `pages` cache (a file read under `make run`) on every request.
    version = getattr(request, "content_version_at_start", None) or content_version()
    key = f"core:wagtail-site:{version}:{hostname}:{request.get_port()}"
    site = cache.get(key)
    if site is None:
        site = Site.find_for_request(request)
        cache.set(key, site or _NO_SITE, WAGTAIL_SITE_SECONDS)
    request._wagtail_site = None if site == _NO_SITE else site


class TenantObservabilityMiddleware:
    """Tags Sentry events of this request with the tenant, in a scope of the request's own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import sentry_sdk

        tenant = getattr(request, "tenant", None)
        # A fresh isolation scope per request: a tag set for one tenant never sticks
        # to the next request served by the same thread.
        with sentry_sdk.isolation_scope() as scope:
            if tenant is not None:
                scope.set_tag("tenant", tenant.schema_name)
            return self.get_response(request)


class TenantRedirectMiddleware:
    """Wagtail's redirects, on tenant hosts only (the platform host has no Wagtail tables).

    Last in the chain, so after the full-page cache: it also hands Wagtail the request's Site
    from the tenant's cache (`remember_wagtail_site`), which a page-cache hit never needs.
    """

    def __init__(self, get_response):
        from wagtail.contrib.redirects.middleware import RedirectMiddleware

        self.get_response = get_response
        self.wagtail_redirects = RedirectMiddleware(get_response)

    def __call__(self, request):
        if connection.schema_name == get_public_schema_name():
            return self.get_response(request)
        remember_wagtail_site(request)
        return self.wagtail_redirects(request)


def shared_cookie_domain(host: str) -> str | None:
    """The cookie domain that reaches every tenant under the platform domain, or None for other hosts."""
    hostname = host.split(":")[0].lower().rstrip(".")
    platform = settings.PLATFORM_DOMAIN
    if hostname == platform or hostname.endswith("." + platform):
        return platform
    return None


class PlatformSessionMiddleware(SessionMiddleware):
    """One session cookie for the platform host and every tenant under it: log in once, be
    logged in on all of them; log out (the session is deleted) and be logged out on all.

    Hosts outside the platform domain (a tenant's own domain) keep a host-only cookie — a
    browser would refuse the platform-domain one there — and sign in through the national
    account service over OpenID Connect instead.
    """

    def process_response(self, request, response):
        response = super().process_response(request, response)
        morsel = response.cookies.get(settings.SESSION_COOKIE_NAME)
        if morsel is not None:
            morsel["domain"] = shared_cookie_domain(request.get_host()) or ""
        return response


class TenantLanguageMiddleware:
    """A language prefix (/bo/, /en/ ...) answers only on tenants that switched that language on.

    Languages are global settings, but each tenant chooses its own (a Wagtail Locale in its
    schema): /bo/ on a site without Tibetan is a 404, not a copy of the Chinese site.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import Http404
        from django.utils.translation import get_language_from_path

        language = get_language_from_path(request.path_info)
        if language and language != settings.LANGUAGE_CODE and connection.schema_name != get_public_schema_name():
            from wagtail.models import Locale

            if not Locale.objects.filter(language_code=language).exists():
                raise Http404
        return self.get_response(request)
