"""Login protection: after repeated failures an account and an IP address are locked for a while.

Checked in the authentication backend, so every way in (our login page, Wagtail's admin
login, the account service's OIDC login) is covered. Counters live in the public schema's
database table, shared by every web process.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import LoginThrottle


def client_ip(request) -> str:
    if request is None:
        return "unknown"
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return (request.META.get("REMOTE_ADDR") or "unknown")[:64]


def throttle_keys(identifier: str, ip: str) -> tuple[str, str]:
    # The identifier is hashed: the table must not become a list of phone numbers.
    digest = hashlib.sha256((identifier or "").strip().lower().encode()).hexdigest()
    return (f"account:{digest}", f"ip:{ip}")


def locked_until(keys: tuple[str, ...]) -> datetime | None:
    now = timezone.now()
    until = (
        LoginThrottle.objects.filter(key__in=keys, locked_until__gt=now)
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )
    return until


def record_failure(keys: tuple[str, ...]) -> None:
    now = timezone.now()
    window = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    for key in keys:
        LoginThrottle.objects.get_or_create(key=key)
        with transaction.atomic():
            throttle = LoginThrottle.objects.select_for_update().get(key=key)
            if throttle.last_failure_at and now - throttle.last_failure_at > window:
                throttle.failures = 0  # failures long ago do not count against a new attempt
            throttle.failures += 1
            throttle.last_failure_at = now
            if throttle.failures >= settings.LOGIN_MAX_FAILURES:
                throttle.locked_until = now + window
                throttle.failures = 0
            throttle.save()


def record_success(keys: tuple[str, ...]) -> None:
    # Only the account's counter is forgiven; an IP that guessed at many accounts stays counted.
    LoginThrottle.objects.filter(key=keys[0]).delete()
