"""Template tags of the shared theme."""

from __future__ import annotations

from django import template
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.utils import timezone

register = template.Library()


class TenantCacheNode(template.Node):
    def __init__(self, nodelist, timeout, name, vary_on, until):
        self.nodelist, self.timeout, self.name, self.vary_on, self.until = nodelist, timeout, name, vary_on, until

    def render(self, context):
        from core.page_cache import content_version

        vary_on = [content_version(), *(var.resolve(context) for var in self.vary_on)]
        key = make_template_fragment_key(self.name, vary_on)
        value = cache.get(key)
        if value is None:
            value = self.nodelist.render(context)
            timeout = int(self.timeout.resolve(context))
            # Resolved after rendering: it may read what the fragment has just loaded.
            until = self.until.resolve(context) if self.until is not None else None
            if until is not None:
                timeout = min(timeout, int((until - timezone.now()).total_seconds()))
            if timeout > 0:
                cache.set(key, value, timeout)
        return value


@register.tag("tenant_cache")
def tenant_cache(parser, token):
    """`{% tenant_cache timeout name [vary_on...] [until=datetime] %}...{% endtenant_cache %}`

    Django's `{% cache %}`, also varied by the tenant's content version: the cache key function
    already prefixes the tenant's schema, and the content version moves when anything shown on the
    site changes (a page published or unpublished, branding or a Site saved, a site opened...), so
    the fragment is rendered again on the next request after a change. `until` (resolved after
    rendering) shortens the timeout for content that changes with time alone, such as activities
    that end.
    """
    nodelist = parser.parse(("endtenant_cache",))
    parser.delete_first_token()
    bits = token.split_contents()
    until = None
    if bits[-1].startswith("until="):
        until = parser.compile_filter(bits.pop().removeprefix("until="))
    if len(bits) < 3:
        raise template.TemplateSyntaxError(f"'{bits[0]}' needs a timeout and a fragment name")
    vary_on = [parser.compile_filter(bit) for bit in bits[3:]]
    return TenantCacheNode(nodelist, parser.compile_filter(bits[1]), bits[2], vary_on, until)


@register.simple_tag(takes_context=True)
def site_branding(context):
    """The site's branding (a Wagtail site setting), from the tenant's cache."""
    from themes.services import branding_for_request

    request = context.get("request")
    return branding_for_request(request) if request is not None else None


@register.simple_tag(takes_context=True)
def brand_colours_style(context, branding):
    """The tenant's colours as an inline <style>, allowed by its hash in the Content-Security-Policy.

    The only inline style of public pages (core.security_headers): no 'unsafe-inline' needed.
    """
    from django.utils.html import format_html

    from core.security_headers import allow_inline_style

    primary = getattr(branding, "primary_colour", "") or "#B22222"
    accent = getattr(branding, "accent_colour", "") or "#C8A060"
    css = format_html(":root {{ --primary: {}; --accent: {}; }}", primary, accent)
    request = context.get("request")
    if request is not None:
        allow_inline_style(request, str(css))
    return format_html("<style>{}</style>", css)


@register.inclusion_tag("themes/site_switcher.html", takes_context=True)
def site_switcher(context):
    """The switcher between the national site, provinces, cities and counties (as provincial clouds have)."""
    from themes.services import site_switcher_entries

    request = context.get("request")
    current = getattr(request, "tenant", None)
    entries = site_switcher_entries()
    national = [e for e in entries if e["kind"] == "national"]
    children: dict[int, list[dict]] = {}
    for e in entries:
        if e["kind"] in ("city", "county"):
            children.setdefault(e["parent_id"], []).append(e)

    def with_children(entry: dict) -> dict:
        # a province: its cities, then its counties without a prefecture; a city: its counties
        below = sorted(children.get(entry["pk"], []), key=lambda c: c["kind"] == "county")
        return {**entry, "city_list": [with_children(c) for c in below]}

    provinces = [with_children(e) for e in entries if e["kind"] == "province"]
    return {"national": national, "provinces": provinces, "current_pk": getattr(current, "pk", None)}


@register.simple_tag(takes_context=True)
def page_languages(context) -> dict:
    """{"language": the page's own language, "links": its live translations} (themes.services)."""
    from themes.services import page_languages as languages_of

    page = context.get("page")
    if page is None or not getattr(page, "pk", None):
        return {"language": None, "links": []}
    return languages_of(page, context.get("request"))


@register.inclusion_tag("themes/language_switcher.html", takes_context=True)
def language_switcher(context):
    """Links to the live translations of the current page, each in its language's own name; on
    pages that are not Wagtail pages (search), the same path in each language of the site."""
    from django.conf import settings
    from django.urls import translate_url
    from django.utils.translation import get_language

    current = get_language()
    page = context.get("page")
    if page is not None and getattr(page, "pk", None):
        languages = page_languages(context)
        links = [{**link, "current": link["pk"] == page.pk} for link in languages["links"]]
        return {"links": links if len(links) > 1 else []}
    request = context.get("request")
    if request is None:
        return {"links": []}
    names = dict(settings.WAGTAIL_CONTENT_LANGUAGES)
    path = request.get_full_path()
    links = []
    for code in _site_language_codes():
        url = translate_url(path, code)
        if code != current and url == path:
            continue  # this view has no version in that language
        links.append({"code": code, "name": names.get(code, code), "url": url, "current": code == current})
    return {"links": links if len(links) > 1 else []}


def _site_language_codes() -> list[str]:
    """The tenant's languages, from its cache (keyed by its content version): not a query per page."""
    from django.core.cache import cache
    from wagtail.models import Locale

    from core.page_cache import content_version

    key = f"themes:language-codes:{content_version()}"
    codes = cache.get(key)
    if codes is None:
        codes = list(Locale.objects.order_by("pk").values_list("language_code", flat=True))
        cache.set(key, codes, 300)
    return codes


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


@register.simple_tag(takes_context=True)
def service_entrances(context):
    """The home page's service entrances this site has (themes.services.service_entrances)."""
    from wagtail.models import Site

    from themes.services import branding_for_request
    from themes.services import service_entrances as entrances

    request = context.get("request")
    if request is None:
        return []
    return entrances(Site.find_for_request(request), branding_for_request(request))


@register.simple_tag(takes_context=True)
def absolute_url(context, path: str) -> str:
    """`path` (a rendition's or page's relative URL) on the tenant's primary public URL: Open Graph
    and other tags read by other sites need full URLs."""
    from tenants.services import absolute_url as on_primary_url

    request = context.get("request")
    return on_primary_url(getattr(request, "tenant", None), path)


@register.simple_tag(takes_context=True)
def care_mode(context) -> bool:
    """关怀模式 asked for in the address (?care=1): the mode without JavaScript, for this page.

    With JavaScript the choice is remembered in the browser (themes/static/themes/care.js)."""
    request = context.get("request")
    return request is not None and request.GET.get("care") == "1"


@register.filter
def without_query(url: str) -> str:
    return url.split("?", 1)[0]


@register.simple_tag
def site_policies():
    """The site's privacy policy and user agreement (accounts.policies: its own pages or the platform's)."""
    from accounts.policies import current_policies

    return current_policies()
