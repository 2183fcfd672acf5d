"""Host → tenant, with friendly pages for unknown hosts and closed sites."""

from __future__ import annotations

from django.db import connection
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name

# Paths that answer on every host, open or closed (load balancers probe them).
ALWAYS_SERVED_PATHS = ("/healthz",)


class CultureTenantMiddleware(TenantMainMiddleware):
    def get_tenant(self, domain_model, hostname):
        tenant = super().get_tenant(domain_model, hostname)
        # The template schema is a tenant row only so migrations keep it current;
        # it is never served.
        if tenant.schema_name != get_public_schema_name() and not tenant.is_served:
            raise domain_model.DoesNotExist(hostname)
        return tenant

    def no_tenant_found(self, request, hostname):
        response = render(request, "core/unknown_site.html", {"hostname": hostname}, status=404)
        return response

    def process_request(self, request):
        response = super().process_request(request)
        if response is not None:
            return response
        tenant = request.tenant
        if not tenant.is_active and not request.path.startswith(ALWAYS_SERVED_PATHS):
            connection.set_schema_to_public()
            return render(request, "core/site_closed.html", {"site": tenant}, status=503)
        return None


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
    """Wagtail's redirects, on tenant hosts only (the platform host has no Wagtail tables)."""

    def __init__(self, get_response):
        from wagtail.contrib.redirects.middleware import RedirectMiddleware

        self.get_response = get_response
        self.wagtail_redirects = RedirectMiddleware(get_response)

    def __call__(self, request):
        if connection.schema_name == get_public_schema_name():
            return self.get_response(request)
        return self.wagtail_redirects(request)
