"""Sentry, initialised only when SENTRY_DSN is set; every event carries the tenant."""

from __future__ import annotations

import os

from django.db import connection


def tag_event_with_tenant(event: dict, hint: dict) -> dict:
    tags = event.setdefault("tags", {})
    tags.setdefault("tenant", getattr(connection, "schema_name", "-") or "-")
    return event


def init_sentry(dsn: str, **options) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
        before_send=tag_event_with_tenant,
        **options,
    )
