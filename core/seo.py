"""robots.txt of each host: pointing at the sitemap on the tenant's primary public URL."""

from django.http import HttpResponse
from django.views.decorators.cache import cache_control

from core.urls_util import public_base_url


@cache_control(max_age=3600)
def robots_txt(request):
    # The primary URL whatever host was asked: crawlers accept a sitemap on another host when
    # robots.txt names it, and the sitemap lists only primary URLs.
    sitemap = public_base_url() + "/sitemap.xml"
    private = ("/admin/", "/accounts/", "/me/", "/operator/", "/o/")
    body = "User-agent: *\nAllow: /\n" + "".join(f"Disallow: {p}\n" for p in private) + f"\nSitemap: {sitemap}\n"
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


def tenant_sitemap(request):
    """The tenant's sitemap (its Wagtail pages and SITEMAP_SECTIONS), on its primary host only.

    Asked on another of the tenant's hosts it redirects to the primary URL: a sitemap lists URLs
    of its own host (sitemaps.org), and every <loc> is a primary URL. (Only host names are
    compared: behind a proxy the port Django sees is not the public one.)
    """
    from django.http import HttpResponsePermanentRedirect
    from django.http.request import split_domain_port
    from wagtail.contrib.sitemaps.views import sitemap

    from core.urls_util import public_address

    address = public_address()
    if split_domain_port(request.get_host())[0] != address.host:
        return HttpResponsePermanentRedirect(address.base_url + "/sitemap.xml")
    return sitemap(request, sitemaps=sitemap_sections())


def sitemap_sections() -> dict:
    """Wagtail's pages, then the public pages of apps outside Wagtail (settings.SITEMAP_SECTIONS:
    name → dotted path of a django.contrib.sitemaps.Sitemap writing primary URLs)."""
    from django.conf import settings
    from django.utils.module_loading import import_string
    from wagtail.contrib.sitemaps import Sitemap as PageSitemap

    return {"pages": PageSitemap, **{name: import_string(path) for name, path in settings.SITEMAP_SECTIONS.items()}}
