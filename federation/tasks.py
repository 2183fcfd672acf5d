"""Background delivery: tenant tasks (they run in the schema that enqueued them)."""

from django_tasks import task

from . import services


@task()
def deliver_outbox_task() -> dict:
    return services.deliver_pending()


@task()
def push_existing_task(kinds: list[str]) -> int:
    queued = services.push_existing(kinds)
    services.deliver_pending()
    return queued


@task()
def federation_sync_task() -> dict:
    """The worker's periodic run in one tenant: push delivery, then every active subscription."""
    from .sync import sync_here

    return sync_here()


@task()
def sync_subscription_task(subscription_id: int) -> dict | None:
    """One subscription's pull ("立即同步" in the admin); nothing when it is gone or inactive."""
    from . import pull
    from .models import Subscription

    subscription = Subscription.objects.filter(pk=subscription_id, active=True).first()
    return pull.sync_subscription(subscription) if subscription else None


@task()
def fetch_catalogue_covers_task() -> dict:
    """National site: fetch the cover images of items just received (federation/covers.py)."""
    from .covers import fetch_missing_covers

    return fetch_missing_covers()
