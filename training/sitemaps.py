"""The training pages in the site's sitemap (core.seo.tenant_sitemap reads SITEMAP_SECTIONS)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from core.urls_util import public_base_url

from .models import Course


class CourseSitemap(Sitemap):
    """The course catalogue and this site's own published courses, on its primary public URL.

    Courses pulled from another site are left out: their original is in that site's sitemap."""

    def items(self):
        courses = Course.objects.filter(status=Course.Status.PUBLISHED, origin_code="").order_by("pk")
        return ["catalogue", *courses.only("pk", "updated_at")]

    def location(self, item) -> str:
        return reverse("training_catalogue") if item == "catalogue" else item.get_absolute_url()

    def lastmod(self, item):
        return None if item == "catalogue" else item.updated_at

    # Django builds each <loc> from these two: the tenant's primary URL, never the request's Host.
    def get_protocol(self, protocol=None) -> str:
        return urlsplit(public_base_url()).scheme

    def get_domain(self, site=None) -> str:
        return urlsplit(public_base_url()).netloc
