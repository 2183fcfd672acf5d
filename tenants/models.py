"""Tenants: the national portal, provinces, cities and counties, each in its own PostgreSQL schema."""

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class CultureSite(TenantMixin):
    class Kind(models.TextChoices):
        PLATFORM = "platform", "平台"
        TEMPLATE = "template", "模板"
        NATIONAL = "national", "国家"
        PROVINCE = "province", "省级"
        CITY = "city", "市级"
        COUNTY = "county", "县级"

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("级别", max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级站点", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    region_code = models.CharField("行政区划代码", max_length=6, blank=True)
    is_active = models.BooleanField("启用", default=True)
    # Identify's adminEmail in OAI-PMH and the address people are told to write to; empty: the
    # platform's DEFAULT_FROM_EMAIL.
    contact_email = models.EmailField("联系邮箱", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The search index segmentation (core.chinese.INDEX_VERSION) this site's index was built with:
    # `make run` rebuilds the index of every site behind (tenants.services.refresh_search_indexes).
    search_index_version = models.PositiveIntegerField(default=0, editable=False)

    # Schemas are created by tenants.services (clone of the template, outside any
    # transaction) and never dropped implicitly.
    auto_create_schema = False
    auto_drop_schema = False

    SERVED_KINDS = (Kind.NATIONAL, Kind.PROVINCE, Kind.CITY, Kind.COUNTY)
    # The sites that report to the national site (federation uplink, pushed resources).
    REPORTING_KINDS = (Kind.PROVINCE, Kind.CITY, Kind.COUNTY)

    class Meta:
        verbose_name = "文化云站点"
        verbose_name_plural = "文化云站点"

    def __str__(self) -> str:
        return f"{self.name} ({self.schema_name})"

    @property
    def slug(self) -> str:
        return self.schema_name

    @property
    def is_served(self) -> bool:
        return self.kind in self.SERVED_KINDS

    def primary_url(self) -> str:
        """The tenant's primary public URL with a trailing slash ('' without a primary domain)."""
        from core.urls_util import domain_url

        # Iterates domains.all() so a prefetch_related("domains") is used: listings of sites
        # (directory, site switcher) cost one query, not one per site.
        domain = next((d for d in self.domains.all() if d.is_primary), None)
        return domain_url(domain) if domain else ""


class Domain(DomainMixin):
    """A host name a tenant answers on. Exactly one per tenant is primary: the tenant's public URL
    (with this row's scheme and port, or the platform's where they are empty); the others
    canonicalise to it."""

    class Scheme(models.TextChoices):
        HTTP = "http", "http"
        HTTPS = "https", "https"

    scheme = models.CharField("协议", max_length=5, choices=Scheme.choices, blank=True)
    port = models.PositiveIntegerField("端口", null=True, blank=True)

    class Meta:
        verbose_name = "域名"
        verbose_name_plural = "域名"
