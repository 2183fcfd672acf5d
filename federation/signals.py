"""Publish, unpublish and delete of a shareable page update its catalogue record and the outbox,
inside the transaction of the change."""

from django.db.models.signals import post_delete, post_save, pre_delete
from wagtail.signals import page_published, page_unpublished

from .envelope import KIND_OF_MODEL


def _shareable(instance) -> bool:
    return instance._meta.model_name in KIND_OF_MODEL and instance._meta.app_label == "cms_pages"


def on_published(sender, instance, **kwargs):
    if _shareable(instance):
        from .services import record_local_change

        record_local_change(instance, "live")


def on_unpublished(sender, instance, **kwargs):
    if _shareable(instance):
        from .services import record_local_change

        record_local_change(instance, "unpublished")


def on_deleted(sender, instance, **kwargs):
    from wagtail.models import Page

    if type(instance) is Page and instance.content_type_id:
        # Deleting a page (and its subtree) collects base Page rows: look at the specific page.
        if instance.specific_class and instance.specific_class._meta.model_name in KIND_OF_MODEL:
            instance = instance.specific
    if _shareable(instance):
        from .services import record_local_change

        record_local_change(instance, "deleted")


def on_restriction_changed(sender, instance, **kwargs):
    """A page's view restriction was added, changed or removed: its section is withdrawn from (or
    pushed again to) the national catalogue and subscribers, like an unpublish (or a publish)."""
    from django.db import connection
    from django_tenants.utils import get_public_schema_name

    if connection.schema_name == get_public_schema_name():
        return
    from .services import restriction_changed

    restriction_changed(instance.page_id)


def on_settings_saved(sender, instance, **kwargs):
    """Switching a push policy on queues what is already published (in the background)."""
    kinds = [kind for kind in ("news", "activity", "resource") if instance.pushes(kind)]
    if kinds:
        from django.db import connection, transaction
        from django_tenants.utils import schema_context

        from .tasks import push_existing_task

        schema = connection.schema_name

        def enqueue():
            with schema_context(schema):
                push_existing_task.enqueue(kinds)

        transaction.on_commit(enqueue)


page_published.connect(on_published, dispatch_uid="federation_published")
page_unpublished.connect(on_unpublished, dispatch_uid="federation_unpublished")
pre_delete.connect(on_deleted, dispatch_uid="federation_deleted")
post_save.connect(
    on_restriction_changed, sender="wagtailcore.PageViewRestriction", dispatch_uid="federation_restriction"
)
post_delete.connect(
    on_restriction_changed, sender="wagtailcore.PageViewRestriction", dispatch_uid="federation_restriction_removed"
)
post_save.connect(on_settings_saved, sender="federation.FederationSettings", dispatch_uid="federation_settings")
