"""Absolute URLs: every tenant has one primary public URL (scheme, host, port).

The primary URL is the tenant's primary `Domain` with that domain's own scheme and port, or the
platform's (`PLATFORM_SCHEME`, `PLATFORM_PORT`) where the domain names none. Everything that writes
an absolute URL about a tenant (canonical links, sitemaps, feeds, OAI-PMH, federation envelopes,
mails) goes through `public_base_url` (re-exported as `tenants.services.public_base_url` /
`absolute_url`), never through the request's Host or a global base URL.

core imports no feature app: the domain model is reached through django-tenants' accessor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

DEFAULT_PORTS = {"http": "80", "https": "443"}
# How long one process trusts what it read about a tenant's primary URL. A change made through
# tenants.services drops it at once in the process that made it (and the host cache everywhere).
ADDRESS_SECONDS = 60


@dataclass(frozen=True)
class PublicAddress:
    """Where a host is reached: scheme and port empty mean the platform's defaults."""

    host: str
    scheme: str = ""
    port: int | None = None

    @property
    def base_url(self) -> str:
        return format_base_url(self.host, self.scheme, self.port)


def format_base_url(host: str, scheme: str = "", port: int | str | None = None) -> str:
    """'http://host:8000' (no trailing slash); the port is left out when it is the scheme's default."""
    scheme = scheme or settings.PLATFORM_SCHEME
    port = str(port or settings.PLATFORM_PORT or "")
    netloc = host if port in ("", DEFAULT_PORTS.get(scheme, "")) else f"{host}:{port}"
    return f"{scheme}://{netloc}"


def site_url(hostname: str, path: str = "/") -> str:
    """Absolute URL on a host served with the platform's scheme and port (the platform host itself)."""
    return format_base_url(hostname) + path


def domain_url(domain, path: str = "/") -> str:
    """Absolute URL on one `Domain` row, with its own scheme and port when it names them."""
    return format_base_url(domain.domain, getattr(domain, "scheme", ""), getattr(domain, "port", None)) + path


_addresses: dict[str, tuple[float, PublicAddress]] = {}


def forget_public_addresses(schemas=None) -> None:
    """Drop this process's memory of primary URLs (all, or these schemas')."""
    if schemas is None:
        _addresses.clear()
    for schema in schemas or ():
        _addresses.pop(schema, None)


def read_public_address(schema: str) -> PublicAddress:
    """The primary public address of a schema, read from its primary Domain (one query)."""
    from django_tenants.utils import get_public_schema_name, get_tenant_domain_model

    if schema == get_public_schema_name():
        return PublicAddress(settings.PLATFORM_DOMAIN)
    row = (
        get_tenant_domain_model()
        .objects.filter(tenant__schema_name=schema, is_primary=True)
        .values("domain", "scheme", "port")
        .first()
    )
    if row is None:
        return PublicAddress(f"{schema}.{settings.PLATFORM_DOMAIN}")
    return PublicAddress(row["domain"], row["scheme"], row["port"])


def public_address(tenant=None) -> PublicAddress:
    """The primary public address of a tenant (a CultureSite, a schema name, or None: the current one).

    Costs no query for the request's tenant (the host lookup attaches it) and at most one query a
    minute per tenant otherwise.
    """
    from django.db import connection

    if tenant is None:
        tenant = getattr(connection, "tenant", None)
        if tenant is None or not getattr(tenant, "schema_name", None):
            tenant = connection.schema_name
    if not isinstance(tenant, str):
        attached = getattr(tenant, "_public_address", None)
        if attached is not None:
            return attached
        tenant = tenant.schema_name
    now = time.monotonic()
    known = _addresses.get(tenant)
    if known and known[0] > now:
        return known[1]
    address = read_public_address(tenant)
    _addresses[tenant] = (now + ADDRESS_SECONDS, address)
    return address


def public_base_url(tenant=None) -> str:
    """'http://zhejiang.culture.localhost:8000': the tenant's primary public URL, no trailing slash."""
    return public_address(tenant).base_url


def current_site_base_url() -> str:
    """Base URL of the tenant whose schema is active (its primary URL), or of the platform.

    Backs WAGTAILADMIN_BASE_URL, so links in Wagtail's moderation emails point at the
    tenant's own primary URL, never at a global address.
    """
    return public_base_url()
