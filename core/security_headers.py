"""Content-Security-Policy on every response: strict on public pages, relaxed for Wagtail's admin.

django-csp writes the header from settings.CONTENT_SECURITY_POLICY (core.settings.base). Two
things it does not know about are added here:

- Wagtail's admin (/admin/) still renders inline <script> blocks and inline styles, so its
  responses get the separate policy ADMIN_POLICY, which allows 'unsafe-inline' there only.
  Public pages never allow inline script: JavaScript lives in static files, data for it in
  data-* attributes or <script type="application/json">.
- A public page may carry one small inline <style> (the tenant's brand colours). Its exact
  text is allowed by hash (`allow_inline_style`), never by 'unsafe-inline'. A hash, not a
  nonce, because the full-page cache (core.page_cache) replays a stored page with its stored
  headers: a hash stays true for the replayed copy, a nonce would be reused.

This middleware and django-permissions-policy's sit before the tenant middleware, so the
unknown-host 404 and the closed-site 503 pages get the headers too.
"""

from __future__ import annotations

import base64
import hashlib

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts

ADMIN_PATH_PREFIX = "/admin/"

ADMIN_POLICY = {
    "default-src": [SELF],
    # Wagtail's admin templates still contain inline scripts and style attributes.
    "script-src": [SELF, UNSAFE_INLINE],
    "style-src": [SELF, UNSAFE_INLINE],
    # Image previews (data:/blob: while uploading) and oEmbed thumbnails of video sites.
    "img-src": [SELF, "data:", "blob:", "https:"],
    "media-src": [SELF, "blob:", "https:"],
    # Page previews and embed previews.
    "frame-src": [SELF, "https:"],
    "font-src": [SELF, "data:"],
    "connect-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "frame-ancestors": [SELF],
}


def allow_inline_style(request, text: str) -> None:
    """Allow exactly this inline <style> text on the response to `request` (by its sha256)."""
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    hashes = getattr(request, "csp_style_hashes", None)
    if hashes is None:
        hashes = []
        request.csp_style_hashes = hashes
    source = f"'sha256-{digest}'"
    if source not in hashes:
        hashes.append(source)


def is_admin_path(path: str) -> bool:
    return path.startswith(ADMIN_PATH_PREFIX)


def serves_admin(request) -> bool:
    """Whether this request reached Wagtail's admin: /admin/ on an open tenant site. The
    unknown-host 404, the closed-site 503 and the platform host's 404 under /admin/ are our own
    pages and keep the strict policy."""
    from django_tenants.utils import get_public_schema_name

    tenant = getattr(request, "tenant", None)
    return (
        is_admin_path(request.path_info)
        and tenant is not None
        and tenant.schema_name != get_public_schema_name()
        and getattr(tenant, "is_active", True)
    )


class CultureCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        if serves_admin(request):
            parts.config = ADMIN_POLICY
            return parts
        hashes = getattr(request, "csp_style_hashes", None)
        if hashes:
            parts.update = {**(parts.update or {}), "style-src": list(hashes)}
        return parts


def headers_for_responses_outside_django() -> list[tuple[bytes, bytes]]:
    """The same security headers for what the ASGI layer answers itself (core.admission's 503).

    Those responses never pass the middleware above; they must not go out without the policies.
    """
    from csp.utils import build_policy
    from django.conf import settings
    from django.http import HttpResponse
    from django_permissions_policy import PermissionsPolicyMiddleware

    response = PermissionsPolicyMiddleware(lambda request: HttpResponse())(None)
    headers = [
        (b"content-security-policy", build_policy().encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", settings.X_FRAME_OPTIONS.encode()),
        (b"referrer-policy", settings.SECURE_REFERRER_POLICY.encode()),
    ]
    if "Permissions-Policy" in response:
        headers.append((b"permissions-policy", response["Permissions-Policy"].encode()))
    return headers
