"""The favicon of every host: the tenant's logo (its branding) or the platform's default icon."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.db import connection
from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django_tenants.utils import get_public_schema_name

DEFAULT_FAVICON = Path(__file__).resolve().parent / "static" / "themes" / "favicon.ico"
FAVICON_RENDITION = "fill-64x64|format-png"


@cache
def default_favicon() -> bytes:
    return DEFAULT_FAVICON.read_bytes()


@cache_control(max_age=86400, public=True)
def favicon(request):
    """/favicon.ico answers 200 on every host (browsers and crawlers ask for it unprompted)."""
    if connection.schema_name != get_public_schema_name():
        from .models import Branding

        branding = Branding.for_request(request)
        if branding.logo_id:
            try:
                rendition = branding.logo.get_rendition(FAVICON_RENDITION)
                with rendition.file.open("rb") as image:
                    return HttpResponse(image.read(), content_type="image/png")
            except (OSError, ValueError):
                pass  # the logo's file is missing or unreadable: the default icon, not an error
    return HttpResponse(default_favicon(), content_type="image/x-icon")
