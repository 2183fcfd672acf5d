"""Scheduled publishing (定时发布) for every tenant, run by the task worker once a minute.

Wagtail publishes and expires scheduled revisions with its `publish_scheduled` command,
which works on the current schema only; the worker runs it inside each tenant's schema.
"""

from __future__ import annotations

import io
import logging

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

logger = logging.getLogger(__name__)


def publish_scheduled_everywhere() -> list[str]:
    """Publish due and unpublish expired content in every tenant; returns the schemas visited."""
    skip = {get_public_schema_name(), settings.TENANT_BASE_SCHEMA}
    schemas = [s for s in get_tenant_model().objects.values_list("schema_name", flat=True) if s not in skip]
    for schema in schemas:
        try:
            # One transaction per tenant: each publish and its federation outbox row land together.
            with schema_context(schema), transaction.atomic():
                call_command("publish_scheduled", stdout=io.StringIO())
        except Exception:  # one tenant's failure must not stop the others; Sentry/logs get it
            logger.exception("scheduled publishing failed in %s", schema)
    return schemas
