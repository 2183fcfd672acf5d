"""Views every host answers: health check and the tenant's own media."""

from __future__ import annotations

import mimetypes
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import FileResponse, Http404, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .models import WorkerHeartbeat


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_cache() -> str:
    probe = uuid.uuid4().hex
    # A key of its own: with one shared key, concurrent probes (several load balancers, or
    # bench/faults.py) overwrote each other's value and reported a healthy cache as failing.
    key = f"healthz-probe:{probe}"
    for alias in settings.CACHES:
        cache = caches[alias]
        cache.set(key, probe, 10)
        stored = cache.get(key)
        cache.delete(key)
        if stored != probe:
            return f"cache '{alias}' did not return what was stored"
    return "ok"


def _check_worker() -> str:
    newest = WorkerHeartbeat.objects.order_by("-last_seen").values_list("last_seen", flat=True).first()
    if newest is None:
        return "no task worker has reported"
    age = timezone.now() - newest
    if age > timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE):
        return f"last worker heartbeat {int(age.total_seconds())} s ago"
    return "ok"


@never_cache
def healthz(request):
    checks = {}
    for name, check in (("database", _check_database), ("cache", _check_cache), ("worker", _check_worker)):
        try:
            checks[name] = check()
        except Exception as exc:  # a health check reports failures, it does not raise them
            checks[name] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "tenant": connection.schema_name, "checks": checks},
        status=200 if healthy else 503,
    )


# Folders of the media root never served here: Wagtail documents live in `documents/` and are
# only served by Wagtail's document view (/documents/<id>/<filename>), which checks the privacy
# of their collection (a private collection asks for a sign-in or its password).
PRIVATE_MEDIA_FOLDERS = ("documents",)


def serve_tenant_media(request, schema: str, path: str):
    """Serve a file of the current tenant only: another tenant's schema in the URL is a 404, and
    so is any document (see PRIVATE_MEDIA_FOLDERS)."""
    if schema != connection.schema_name:
        raise Http404
    if "\x00" in path:
        raise Http404  # a NUL byte is never in a stored name (and makes the file system call raise)
    root = (Path(settings.MEDIA_ROOT) / schema).resolve()
    target = (root / path).resolve()
    if root not in target.parents or not target.is_file():
        raise Http404
    if target.relative_to(root).parts[0].lower() in PRIVATE_MEDIA_FOLDERS:
        raise Http404
    content_type, _ = mimetypes.guess_type(target.name)
    response = FileResponse(target.open("rb"), content_type=content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def restricted_page_login(request):
    """Wagtail's own sign-in for restricted pages (/_util/login/) → the themed sign-in, which
    offers single sign-on on sites under their own domain; `next` is kept (a local path only)."""
    from django.shortcuts import redirect
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme, urlencode

    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    url = reverse("login")
    return redirect(f"{url}?{urlencode({'next': target})}" if target else url)
