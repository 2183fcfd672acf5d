"""Running federation for a tenant (push delivery, then pulls) and the administrator's writes on
subscriptions. Used by `manage.py federation_sync`, the worker's periodic job and the admin.

Everything that talks to another node runs outside transactions: delivery and pulls commit
item by item, so a crashed run resumes where it stopped and running twice changes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, get_tenant_model

from . import services
from .models import Subscription

Progress = Callable[[int], None] | None


def tenant_schemas(slugs: list[str] | None = None) -> list[str]:
    """Schemas of the served sites (never the public schema or the template), in a stable order.

    `slugs` limits the result; an unknown slug raises ValueError naming it.
    """
    skip = {get_public_schema_name(), settings.TENANT_BASE_SCHEMA}
    known = [
        schema
        for schema in get_tenant_model().objects.order_by("schema_name").values_list("schema_name", flat=True)
        if schema not in skip
    ]
    if not slugs:
        return known
    unknown = [slug for slug in slugs if slug not in known]
    if unknown:
        raise ValueError(f"unknown site {', '.join(unknown)} (sites: {', '.join(known) or 'none'})")
    return [schema for schema in known if schema in slugs]


def pending_count() -> int:
    """Outbox entries of this schema waiting for delivery (what a push run will try)."""
    from .models import OutboxEntry

    return OutboxEntry.objects.filter(state=OutboxEntry.State.PENDING).count()


def sync_here(*, push: bool = True, pull: bool = True, limit: int | None = None, progress: Progress = None) -> dict:
    """In the current schema: deliver due outbox entries, then run every active subscription.

    Returns {"push": counts or None, "pull": counts or None}. Must run outside a transaction in
    production (network); each delivered batch and each pulled item commits on its own.
    """
    result: dict = {"push": None, "pull": None}
    if push:
        services.withdraw_restricted()
        result["push"] = services.deliver_pending(limit=limit, progress=progress)
    if pull and Subscription.objects.filter(active=True).exists():
        from . import pull as pulling

        result["pull"] = pulling.sync_all_subscriptions(progress=progress)
    if push and services.is_national_schema():
        from .covers import fetch_missing_covers

        result["covers"] = fetch_missing_covers()
    return result


def summary_line(result: dict) -> str:
    """One line a person reads: "推送 delivered=3 retry=0 dead=0 skipped=0; 拉取 created=2 …"."""
    parts = []
    for key in ("push", "pull", "covers"):
        counts = result.get(key)
        if counts is None:
            continue
        flat = {k: v for k, v in counts.items() if isinstance(v, int)}
        parts.append(f"{key} " + " ".join(f"{k}={v}" for k, v in flat.items()))
    return "; ".join(parts) or "nothing to do"


# --- Subscriptions (administrator's writes) -------------------------------------------------------


def update_subscription(subscription: Subscription, **fields) -> Subscription:
    """Change name, parent page, policy, auto-publish or active; the set and cursor stay."""
    allowed = {"name", "parent_page", "policy", "auto_publish", "active", "peer"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    if "parent_page" in fields:
        from . import pull as pulling

        pulling.check_parent_page(subscription.set_spec, fields["parent_page"])
    with transaction.atomic():
        for name, value in fields.items():
            setattr(subscription, name, value)
        subscription.save(update_fields=sorted(fields))
    return subscription


def set_subscription_active(subscription: Subscription, active: bool) -> Subscription:
    """Deactivate (nothing more is pulled; copies stay) or reactivate a subscription."""
    return update_subscription(subscription, active=active)


def enqueue_subscription_sync(subscription: Subscription) -> None:
    """Run one subscription's sync in the background, after the request commits."""
    from .tasks import sync_subscription_task

    schema = connection.schema_name
    pk = subscription.pk

    def enqueue():
        from django_tenants.utils import schema_context

        with schema_context(schema):
            sync_subscription_task.enqueue(pk)

    transaction.on_commit(enqueue)
