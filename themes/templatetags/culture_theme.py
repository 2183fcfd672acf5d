"""Template tags of the shared theme."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("themes/site_switcher.html", takes_context=True)
def site_switcher(context):
    """The switcher between the national site, provinces and cities (as provincial clouds have)."""
    from themes.services import site_switcher_entries

    request = context.get("request")
    current = getattr(request, "tenant", None)
    entries = site_switcher_entries()
    national = [e for e in entries if e["kind"] == "national"]
    provinces = [
        {**e, "city_list": [c for c in entries if c["parent_id"] == e["pk"]]}
        for e in entries
        if e["kind"] == "province"
    ]
    return {"national": national, "provinces": provinces, "current_pk": getattr(current, "pk", None)}


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


@register.inclusion_tag("themes/navigation.html", takes_context=True)
def main_navigation(context):
    from wagtail.models import Site

    from themes.services import navigation_entries

    request = context.get("request")
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        return {"entries": []}
    path = request.path
    entries = [{**e, "current": e["url"] != "/" and path.startswith(e["url"])} for e in navigation_entries(site)]
    return {"entries": entries}
