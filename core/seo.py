"""robots.txt of each host: pointing at that host's own sitemap."""

from django.http import HttpResponse
from django.views.decorators.cache import cache_control


@cache_control(max_age=3600)
def robots_txt(request):
    sitemap = request.build_absolute_uri("/sitemap.xml")
    body = f"User-agent: *\nAllow: /\nDisallow: /admin/\nDisallow: /accounts/\nDisallow: /me/\n\nSitemap: {sitemap}\n"
    return HttpResponse(body, content_type="text/plain; charset=utf-8")
