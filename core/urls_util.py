from django.conf import settings


def site_url(hostname: str, path: str = "/") -> str:
    """Absolute URL on a tenant's own host (emails and links never use a global base URL)."""
    port = settings.PLATFORM_PORT
    default_port = "443" if settings.PLATFORM_SCHEME == "https" else "80"
    netloc = hostname if port in ("", default_port) else f"{hostname}:{port}"
    return f"{settings.PLATFORM_SCHEME}://{netloc}{path}"


def current_site_base_url() -> str:
    """Base URL of the tenant whose schema is active (its primary domain), or of the platform.

    Backs WAGTAILADMIN_BASE_URL, so links in Wagtail's moderation emails point at the
    tenant's own host, never at a global address.
    """
    from django.db import connection
    from django_tenants.utils import get_public_schema_name, get_tenant_domain_model

    schema = getattr(connection, "schema_name", get_public_schema_name())
    if schema != get_public_schema_name():
        domain = (
            get_tenant_domain_model()
            .objects.filter(tenant__schema_name=schema, is_primary=True)
            .values_list("domain", flat=True)
            .first()
        )
        if domain:
            return site_url(domain, "").rstrip("/")
    return site_url(settings.PLATFORM_DOMAIN, "").rstrip("/")
