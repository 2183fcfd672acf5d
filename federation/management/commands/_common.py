"""Shared by the federation key commands: finding the tenant a command acts in."""

from __future__ import annotations

from django.core.management.base import CommandError
from django_tenants.utils import get_public_schema_name, schema_context


def get_site(schema_name: str):
    """The tenant named by --tenant (its schema name), or a CommandError naming the option."""
    from tenants.models import CultureSite

    with schema_context(get_public_schema_name()):
        site = CultureSite.objects.filter(schema_name=schema_name).first()
        if site is not None and schema_name != get_public_schema_name() and site.kind not in ("platform", "template"):
            return site
        known = ", ".join(
            CultureSite.objects.exclude(kind__in=["platform", "template"])
            .order_by("schema_name")
            .values_list("schema_name", flat=True)
        )
    raise CommandError(f"--tenant: no site {schema_name!r} in this deployment (sites: {known or 'none'})")
