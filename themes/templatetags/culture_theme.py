"""Template tags of the shared theme."""

from __future__ import annotations

from django import template
from django_tenants.utils import get_tenant_model

register = template.Library()


@register.inclusion_tag("themes/site_switcher.html", takes_context=True)
def site_switcher(context):
    """The switcher between the national site, provinces and cities (as provincial clouds have).

    One query on the public tenants table; domains come with it.
    """
    request = context.get("request")
    current = getattr(request, "tenant", None)
    sites = list(
        get_tenant_model()
        .objects.filter(kind__in=["national", "province", "city"], is_active=True)
        .prefetch_related("domains")
        .order_by("region_code")
    )
    national = [s for s in sites if s.kind == "national"]
    provinces = [s for s in sites if s.kind == "province"]
    cities = {}
    for site in sites:
        if site.kind == "city":
            cities.setdefault(site.parent_id, []).append(site)
    for province in provinces:
        province.city_list = cities.get(province.pk, [])
    return {"national": national, "provinces": provinces, "current": current}


@register.inclusion_tag("themes/language_switcher.html", takes_context=True)
def language_switcher(context):
    """Links to the live translations of the current page (one query), in each language's own name."""
    from django.conf import settings

    page = context.get("page")
    if page is None:
        return {"links": []}
    names = dict(settings.WAGTAIL_CONTENT_LANGUAGES)
    translations = page.get_translations(inclusive=True).live().select_related("locale").order_by("locale_id")
    links = [
        {
            "code": p.locale.language_code,
            "name": names.get(p.locale.language_code, p.locale.language_code),
            "url": p.get_url(request=context.get("request")),
            "current": p.pk == page.pk,
        }
        for p in translations
    ]
    return {"links": links if len(links) > 1 else []}
