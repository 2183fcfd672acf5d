from __future__ import annotations

from wagtail.models import Site

from .models import Branding


def ensure_branding(site: Site, site_name: str) -> Branding:
    branding = Branding.for_site(site)
    if branding.site_name != site_name:
        branding.site_name = site_name
        branding.save()
    return branding
